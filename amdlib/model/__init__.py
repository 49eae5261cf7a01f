"""The method (docs/method.md sections 2-4): one frame -> c soft masks (appearance), a frame pair
-> one flow vector per mask (motion, segment flow), and the photometric loss that trains both.

Read in this order: appearance -> correlation -> segment_flow -> motion (warp) -> occlusion ->
loss -> amd (the whole model).
"""

from .amd import AMD, AMDOutput

__all__ = ["AMD", "AMDOutput"]
