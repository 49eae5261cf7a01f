"""Reading video: a video file (decoded by PyAV) or a folder of frames as a stream of uint8
H,W,3 RGB frames, for `amd segment` and for training on your own footage (`amdlib.data.videos`).

    source = open_video("clip.mp4")            # or a folder of .jpg / .png frames
    source.size, source.length, source.fps     # H,W; number of frames; frames per second
    for chunk in source.chunks(16):            # uint8 T,H,W,3, T <= 16; memory: one chunk
        ...
    for frame in source:                       # uint8 H,W,3
        ...

Unreadable input (no such path, an empty folder, a file PyAV cannot decode) raises
`VideoReadError`, a frame of another size than the first `amdlib.data.io.DatasetError`; both are
ValueErrors naming the file. A folder's frames are its images in name order
(`amdlib.data.io.list_images`) at 25 frames per second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .io import check_same_size, image_size, list_images, read_rgb


class VideoReadError(ValueError):
    """The input is neither a readable video file nor a folder of frames."""


@dataclass(frozen=True)
class VideoSource:
    """A video file or a folder of frames, read in chunks of uint8 T,H,W,3 frames.

    `frames()` (or iterating the source) yields uint8 H,W,3 frames in order, `chunks(n)` uint8
    T,H,W,3 runs of up to n of them; each call decodes the video again from its start, holding
    one chunk at a time. `size` is H,W, `length` the number of frames, `fps` the frame rate.
    """

    path: Path
    files: tuple[Path, ...] | None
    """The frame files of a folder in frame order; None for a video file."""
    fps: Fraction
    length: int
    """Number of frames (a video file's packets, counted without decoding)."""
    size: tuple[int, int]
    """H,W of the first frame; every frame must have it."""

    def names(self) -> Iterator[str]:
        """The mask file stem of each frame: the frame file's stem, or 00000, 00001 ... for a video."""
        for index in range(self.length):
            yield self.files[index].stem if self.files is not None else f"{index:05d}"

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def frames(self) -> Iterator[np.ndarray]:
        """uint8 H,W,3 frames in order; a frame of another size raises DatasetError naming it."""
        frames = self._folder_frames() if self.files is not None else self._decoded_frames()
        for index, frame in enumerate(frames):
            if frame.shape[:2] != self.size:
                where = self.files[index] if self.files is not None else Path(f"{self.path} frame {index}")
                first = self.files[0] if self.files is not None else Path(f"{self.path} frame 0")
                check_same_size(first, self.size, where, frame.shape[:2])
            yield frame

    def chunks(self, chunk: int) -> Iterator[np.ndarray]:
        """uint8 T,H,W,3 runs of up to `chunk` consecutive frames."""
        batch = []
        for frame in self.frames():
            batch.append(frame)
            if len(batch) == chunk:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def _folder_frames(self) -> Iterator[np.ndarray]:
        for file in self.files:
            yield read_rgb(file)

    def _decoded_frames(self) -> Iterator[np.ndarray]:
        import av

        try:
            with av.open(str(self.path)) as container:
                for frame in container.decode(container.streams.video[0]):
                    yield frame.to_ndarray(format="rgb24")
        except av.FFmpegError as error:
            raise VideoReadError(f"{self.path}: cannot decode the video ({_av_problem(error)})") from error


def _av_problem(error: Exception) -> str:
    """PyAV's reason without the file name it repeats."""
    return getattr(error, "strerror", None) or str(error).splitlines()[0]


def _open_folder(path: Path) -> VideoSource:
    files = tuple(list_images(path))
    if not files:
        raise VideoReadError(f"{path}: folder holds no images ({', '.join(('.jpg', '.png', '...'))})")
    height, width = read_rgb(files[0]).shape[:2]
    for file in files[1:]:  # headers only: a frame of another size is found before anything is written
        check_same_size(files[0], (height, width), file, image_size(file))
    return VideoSource(path, files, Fraction(25), len(files), (height, width))


def _open_file(path: Path) -> VideoSource:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(f"{path}: holds no video stream")
            stream = container.streams.video[0]
            fps = stream.average_rate or stream.guessed_rate or Fraction(25)
            length = sum(1 for packet in container.demux(stream) if packet.size)
        with av.open(str(path)) as container:
            first = next(container.decode(container.streams.video[0]), None)
    except av.FFmpegError as error:
        raise VideoReadError(f"{path}: not a video PyAV can read ({_av_problem(error)})") from error
    if first is None or length == 0:
        raise VideoReadError(f"{path}: no frames decoded")
    return VideoSource(path, None, Fraction(fps), length, (first.height, first.width))


def open_video(path: Path) -> VideoSource:
    """A `VideoSource` for a video file or a folder of frames; unreadable input raises VideoReadError."""
    path = Path(path)
    if path.is_dir():
        return _open_folder(path)
    if path.is_file():
        return _open_file(path)
    raise VideoReadError(f"{path}: no such file or folder")


def to_float(chunk: np.ndarray) -> Tensor:
    """uint8 T,H,W,3 -> float32 T,3,H,W in [0,1] (a channels-last view: converted without a transpose)."""
    return torch.from_numpy(np.ascontiguousarray(chunk)).float().div_(255).permute(0, 3, 1, 2)


def read_video(path: Path) -> tuple[Tensor, list[str], float]:
    """The whole video at once, for short clips: T,3,H,W float frames in [0,1], a name per frame,
    and frames per second (25 for folders). `amd segment` streams instead (`VideoSource`)."""
    source = open_video(path)
    frames = torch.cat([to_float(chunk) for chunk in source.chunks(64)])
    return frames, list(source.names()), float(source.fps)
