"""amdlib: Appearance-Motion Decomposition (AMD) in plain PyTorch.

Liu, Wu, Yu, Lin. "The Emergence of Objectness: Learning Zero-Shot Segmentation from Videos",
NeurIPS 2021. The folders are the paper's map (docs/method.md): `config` (the profiles) ->
`data` -> `model` (appearance, correlation, segment_flow, motion, warp, occlusion, loss, amd) ->
`training` -> `evaluation` (metrics, channel rules, the three task protocols, baselines) ->
`reports` (tables, figures, the results page); `io` holds checkpoints, downloads and atomic
writes, `cli` the `amd` command, `ablations` notebook 05's runner; `setup` (`session`) resolves a
profile once into settings, folders, datasets and the model to evaluate.
"""

from .io.checkpoint import load_checkpoint, save_checkpoint
from .config import AMDConfig
from .model.amd import AMD, AMDOutput
from .session import Run, setup

__all__ = ["AMD", "AMDConfig", "AMDOutput", "Run", "load_checkpoint", "save_checkpoint", "setup"]
__version__ = "0.1.0"
