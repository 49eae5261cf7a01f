"""Progress lines for the terminal that runs the main job, from inside a notebook's kernel.

Papermill runs each notebook in a kernel whose output goes into the executed notebook, so a
long step would show nothing in the terminal. `scripts/reproduce.py` sets `PROGRESS_VARIABLE`,
and `say` then also writes to the kernel process's own stderr, which is the terminal's.
In JupyterLab or a script the variable is unset and `say` writes to nothing extra.
"""

from __future__ import annotations

import os
import sys
import time

PROGRESS_VARIABLE = "AMD_PROGRESS_TO_TERMINAL"
"""Set (to any value but "" or "0") by `scripts/reproduce.py` for the notebooks it runs."""


def to_terminal() -> bool:
    """True when progress lines should reach the terminal of the main job."""
    return os.environ.get(PROGRESS_VARIABLE, "") not in ("", "0")


def say(text: str) -> None:
    """One progress line, prefixed with the wall-clock time, on the main job's terminal (when
    `to_terminal`); nothing otherwise."""
    if not to_terminal():
        return
    stream = sys.__stderr__
    if stream is None:
        return
    stream.write(f"    {time.strftime('%H:%M:%S')} {text}\n")
    stream.flush()


class Throttle:
    """True at most once every `seconds` (and at the first call): spaces progress lines."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self.last: float | None = None

    def __call__(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or self.last is None or now - self.last >= self.seconds:
            self.last = now
            return True
        return False
