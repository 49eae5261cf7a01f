"""Atomic file writes: the content goes to a temporary file beside the target, is flushed to
disk, and is then renamed over it, so a crash or an interrupt never leaves a half-written
checkpoint, log, table, figure or manifest behind (the developers' guide: nothing already
computed is lost). One helper for every writer in the project.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def temporary_prefix(name: str) -> str:
    """Temporary files for target `name` are `<prefix>XXXX.tmp` in the same folder."""
    return f".{name}."


STALE_SECONDS = 60.0
"""A temporary file untouched for this long belongs to a write that was killed: a running write
keeps its file's modification time fresh."""


def stale_temporaries(path: str | os.PathLike, older_than: float = STALE_SECONDS) -> list[Path]:
    """Temporary files of target `path` left by killed writes: names `<prefix>XXXXXXXX.tmp` as
    `tempfile.mkstemp` makes them for `atomic_write`, last modified more than `older_than`
    seconds ago. No other file matches."""
    path = Path(path)
    pattern = re.compile(re.escape(temporary_prefix(path.name)) + r"[a-z0-9_]{8}\.tmp")
    if not path.parent.is_dir():
        return []
    now = time.time()
    found = []
    for candidate in path.parent.iterdir():
        if pattern.fullmatch(candidate.name) and candidate.is_file():
            try:
                if now - candidate.stat().st_mtime > older_than:
                    found.append(candidate)
            except FileNotFoundError:  # removed meanwhile
                continue
    return sorted(found)


def remove_stale_temporaries(path: str | os.PathLike, older_than: float = STALE_SECONDS) -> list[Path]:
    """Delete `stale_temporaries(path, older_than)`; returns what was removed."""
    removed = []
    for candidate in stale_temporaries(path, older_than):
        try:
            candidate.unlink()
            removed.append(candidate)
        except FileNotFoundError:
            continue
    return removed


def new_file_mode() -> int:
    """The permission bits `open(path, "w")` gives a new file: 0o666 less the process umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[IO], Any], binary: bool = True) -> Path:
    """Call `write(file)` on a temporary file beside `path` (opened "wb", or "w" with
    newline="" when not `binary`), fsync it, then rename it to `path`. On any error the
    temporary file is removed and `path` is left as it was. Returns `path`.

    The file gets the permissions a plain `open` would give it (those of the file it replaces,
    else 0o666 less the umask), not the owner-only 0o600 of `tempfile.mkstemp`: results and
    checkpoints are meant to be read by others.

    Temporary files of `path` that killed writes left behind are removed first
    (`remove_stale_temporaries`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else new_file_mode()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name), suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", newline="", encoding="utf-8") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """`text` (UTF-8) to `path`, atomically."""
    return atomic_write(path, lambda file: file.write(text), binary=False)


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """`value` as JSON (indent 1, sorted keys, trailing newline) to `path`, atomically."""
    return write_text(path, json.dumps(value, indent=1, sort_keys=True) + "\n")
