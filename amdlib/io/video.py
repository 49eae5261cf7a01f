"""Writing video: an H.264 mp4 of uint8 frames (`amd segment`'s overlay). Reading is
`amdlib.data.video`."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


class OverlayWriter:
    """An H.264 mp4 opened once; `write` appends uint8 T,H,W,3 frames (cropped to even H and W,
    which H.264 needs)."""

    def __init__(self, path: Path, fps: Fraction, size: tuple[int, int]) -> None:
        import av

        self.height, self.width = size[0] // 2 * 2, size[1] // 2 * 2
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream("libx264", rate=fps)
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"

    def write(self, frames: np.ndarray) -> None:
        import av

        for frame in frames:
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:self.height, :self.width]), format="rgb24")
            for packet in self.stream.encode(image):
                self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
