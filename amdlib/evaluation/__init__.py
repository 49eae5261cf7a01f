"""Evaluation (docs/method.md section 6): metrics, channel rules, the three task protocols
(saliency, zero-shot VOS with test-time adaptation, semantic fine-tuning) and the baselines
scored beside AMD."""
