"""amdlib.io.atomic: the one atomic-write helper behind checkpoints, logs, tables and manifests."""

import json
import os
import stat

import pytest

from amdlib.io.atomic import atomic_write, temporary_prefix, write_json, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "sub" / "table.md"
    write_text(path, "old\n")

    def broken(file):
        file.write("half of the new con")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(path, broken, binary=False)
    assert path.read_text() == "old\n"
    assert [p.name for p in path.parent.iterdir()] == ["table.md"]


def test_write_json_format_and_binary_writes(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "a.json").read_text() == '{\n "a": [\n  1,\n  2\n ],\n "b": 1\n}\n'
    assert json.loads((tmp_path / "a.json").read_text()) == {"a": [1, 2], "b": 1}
    atomic_write(tmp_path / "x.bin", lambda file: file.write(b"\x00\x01"))
    assert (tmp_path / "x.bin").read_bytes() == b"\x00\x01"
    assert temporary_prefix("manifest.json") == ".manifest.json."


def test_files_get_the_permissions_a_plain_open_gives_and_keep_their_own(tmp_path):
    old_umask = os.umask(0o027)
    try:
        (tmp_path / "plain.txt").write_text("x")  # what open() gives under this umask: 0o640
        write_text(tmp_path / "atomic.txt", "x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640
    os.chmod(tmp_path / "atomic.txt", 0o604)  # a file that is replaced keeps its mode
    write_text(tmp_path / "atomic.txt", "y")
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == 0o604


def test_stale_temporaries_of_the_same_target_are_removed_on_the_next_write(tmp_path):
    from amdlib.io.atomic import STALE_SECONDS, stale_temporaries

    target = tmp_path / "checkpoint.pt"
    prefix = temporary_prefix(target.name)
    orphan = tmp_path / f"{prefix}ab3_x9zq.tmp"  # what a killed write leaves: mkstemp's 8 characters
    fresh = tmp_path / f"{prefix}k2m4n6p8.tmp"  # a write still running (recently modified)
    others = [tmp_path / f"{temporary_prefix('log.csv')}ab3_x9zq.tmp", tmp_path / f"{prefix}notmine.tmp",
              tmp_path / f"{prefix}ab3_x9zq.tmp.keep", tmp_path / "checkpoint.pt.tmp"]
    for path in [orphan, fresh, *others]:
        path.write_bytes(b"half")
    old = os.stat(orphan).st_mtime - STALE_SECONDS - 5
    os.utime(orphan, (old, old))
    for other in others:
        os.utime(other, (old, old))
    assert stale_temporaries(target) == [orphan]
    atomic_write(target, lambda file: file.write(b"new"))
    assert target.read_bytes() == b"new" and not orphan.exists() and fresh.exists()
    assert all(other.exists() for other in others)
