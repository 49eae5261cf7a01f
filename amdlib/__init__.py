"""amdlib: Appearance-Motion Decomposition (AMD) in plain PyTorch.

Liu, Wu, Yu, Lin. "The Emergence of Objectness: Learning Zero-Shot Segmentation from Videos",
NeurIPS 2021. Read in this order: config -> appearance -> motion (correlation, segment_flow,
warp) -> loss (occlusion) -> model -> checkpoint.
"""

from .io.checkpoint import load_checkpoint, save_checkpoint
from .config import AMDConfig
from .model.amd import AMD, AMDOutput

__all__ = ["AMD", "AMDConfig", "AMDOutput", "load_checkpoint", "save_checkpoint"]
__version__ = "0.1.0"
