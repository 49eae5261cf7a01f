"""Training (docs/method.md section 5): the loop from one CPU to many GPUs, and its process helpers."""
