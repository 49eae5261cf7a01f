"""Fetching the real datasets and the authors' released checkpoint, verified by checksum.

Why a module and not a few `wget` lines: a half-finished or corrupted download must never look
like a finished one, and the evaluation numbers are only comparable with the paper if every file
is the one the authors used. So:

- `download` streams to `<file>.partial` and renames it to `<file>` only after its checksum
  matches (a mismatch or a network error deletes the partial file and raises `DownloadError`
  naming the URL and the file); a file already present with the right checksum is not fetched
  again.
- `extract` unpacks a zip or tar archive into a temporary folder and renames the result into
  place, refusing members that would land outside the target (`../x`, `/etc/x`, links out).
- `fetch` does both for an entry of `amdlib.io.resources.RESOURCES` and writes
  `<target>/.amdlib-fetch.json` recording what it unpacked, so a second `fetch` of a finished
  dataset does nothing.
- Before unpacking, every archive is read through (`verify_archive`: each zip member's CRC,
  each tar member's bytes). A truncated or corrupt archive is moved aside to `<file>.corrupt`,
  so the next `fetch` downloads it again instead of reusing it. After unpacking, the folders
  the resource's loader needs (`Resource.layout`, e.g. `DAVIS/JPEGImages/480p`) must exist;
  otherwise the archive is moved aside to `<file>.rejected` and the error names what is missing.

Digests: a file is checked against the digests its `RemoteFile` entry publishes; where none is
published the download is kept and its computed sha256 is printed ("no published checksum;
computed sha256 = ... (record it)"). A digest passed to `fetch` (`amd download fetch NAME
--sha256 HEX` or `--md5 HEX`) replaces the table's, and later downloads must match it.

The resource table is `amdlib.io.resources`, the command line `amd download` (`amdlib.cli.download`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

from tqdm import tqdm

from .resources import DEFAULT_ROOT, RESOURCES, RemoteFile, Resource

ARCHIVE_DIR = "archives"
"""Downloaded archives are kept in <root>/archives/ (so a re-extraction needs no download)."""
MARKER = ".amdlib-fetch.json"
"""Written into a target folder last: its presence means the folder is complete."""
CHUNK_BYTES = 1 << 20
DIGEST_LENGTHS = {"sha256": 64, "md5": 32}


class DownloadError(RuntimeError):
    """A download, checksum or extraction failed; the message names the URL or file and why."""


class ChecksumError(DownloadError):
    """A downloaded file's digest differs from the expected one (the file was deleted)."""


class UnsafeArchiveError(DownloadError):
    """An archive member would be written outside the target folder (path traversal)."""


# ----------------------------------------------------------------------------------------------
# Small helpers


def _say(message: str) -> None:
    """Progress notes go to stderr, so that stdout stays clean for `list` output."""
    print(message, file=sys.stderr)


def normalise_digest(value: str | None, algorithm: str) -> str | None:
    """Lower-case hex digest, or None; a value of the wrong length or alphabet raises ValueError."""
    if value is None:
        return None
    digest = value.strip().lower()
    length = DIGEST_LENGTHS[algorithm]
    if len(digest) != length or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{value!r} is not a {algorithm} digest ({length} hex characters)")
    return digest


def _new_hashes() -> dict[str, Any]:
    # md5 only to compare with published md5 values, not for security (FIPS builds need the flag).
    return {"sha256": hashlib.sha256(), "md5": hashlib.md5(usedforsecurity=False)}


def file_digests(path: Path) -> dict[str, str]:
    """sha256 and md5 of a file, read in chunks (archives are gigabytes)."""
    hashes = _new_hashes()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            for h in hashes.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashes.items()}


def _mismatches(digests: dict[str, str], expected: dict[str, str]) -> list[str]:
    """'sha256: expected X, got Y' for each expected digest that differs."""
    return [f"{algo}: expected {want}, got {digests[algo]}" for algo, want in expected.items()
            if digests[algo] != want]


def _expected(sha256: str | None, md5: str | None) -> dict[str, str]:
    values = {"sha256": normalise_digest(sha256, "sha256"), "md5": normalise_digest(md5, "md5")}
    return {algo: value for algo, value in values.items() if value is not None}


def partial_path(dest: Path) -> Path:
    """`<dest>.partial`: where a download is written until it is verified."""
    return dest.with_name(dest.name + ".partial")


# ----------------------------------------------------------------------------------------------
# Downloading


def _content_length(response: BinaryIO) -> int | None:
    value = response.headers.get("Content-Length") if hasattr(response, "headers") else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _refuse_html(response: BinaryIO, url: str, dest: Path) -> None:
    """A sign-in or 'confirm download' page is not the file: fail instead of saving HTML."""
    content_type = (response.headers.get("Content-Type") or "") if hasattr(response, "headers") else ""
    if content_type.lower().startswith("text/html") and dest.suffix.lower() not in (".html", ".htm"):
        raise DownloadError(f"{url}: the server sent an HTML page, not {dest.name} (a sign-in or "
                            "confirmation page?); download it in a browser and pass --url file:///...")


def _stream(url: str, partial: Path, progress: bool, timeout: float) -> dict[str, str]:
    """Copy `url` into `partial`, hashing on the way; returns the digests. Raises DownloadError."""
    request = urllib.request.Request(url, headers={"User-Agent": "amdlib-download"})
    hashes = _new_hashes()
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = _content_length(response)
            _refuse_html(response, url, partial.with_name(partial.name[: -len(".partial")]))
            with open(partial, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                                  desc=partial.name[: -len(".partial")], disable=not progress,
                                                  leave=False) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    for h in hashes.values():
                        h.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except DownloadError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        # URLError wraps the socket error in .reason; HTTPError's own text has the status code.
        plain = isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError)
        reason = err.reason if plain else err
        raise DownloadError(f"{url}: download to {partial} failed: {reason}") from err
    if total is not None and received != total:
        raise DownloadError(f"{url}: download to {partial} was cut short: {received} of {total} bytes")
    return {name: h.hexdigest() for name, h in hashes.items()}


def _existing_is_good(dest: Path, expected: dict[str, str]) -> tuple[bool, dict[str, str]]:
    """Whether a file already at `dest` can be kept (no expected digest, or all match)."""
    digests = file_digests(dest)
    problems = _mismatches(digests, expected)
    if problems:
        _say(f"{dest}: present but {'; '.join(problems)}; downloading it again")
    return not problems, digests


def download_with_digests(url: str, dest: str | os.PathLike, expected_sha256: str | None = None,
                          expected_md5: str | None = None, progress: bool = True,
                          timeout: float = 60.0) -> tuple[Path, dict[str, str]]:
    """`download`, also returning the file's {"sha256": ..., "md5": ...} (for records)."""
    dest = Path(dest)
    expected = _expected(expected_sha256, expected_md5)
    if dest.is_file():
        good, digests = _existing_is_good(dest, expected)
        if good:
            _say(f"{dest}: already present" + (" and verified" if expected else "") + "; not downloading")
            return dest, digests
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(dest)
    try:
        digests = _stream(url, partial, progress, timeout)
        problems = _mismatches(digests, expected)
        if problems:
            raise ChecksumError(f"{dest}: checksum mismatch for {url}: {'; '.join(problems)}. The download "
                                "was deleted (corrupted, or the file changed upstream; if you trust the new "
                                f"file, pin it with --sha256 {digests['sha256']})")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)  # after a success the rename has already removed it
    if not expected:
        _say(f"{dest}: no published checksum; computed sha256 = {digests['sha256']} "
             "(record it, and pin it next time with --sha256)")
    return dest, digests


def download(url: str, dest: str | os.PathLike, expected_sha256: str | None = None,
             expected_md5: str | None = None, progress: bool = True, timeout: float = 60.0) -> Path:
    """Download `url` (http(s):// or file://) to `dest`, verified; returns `dest`.

    The bytes go to `<dest>.partial` and are renamed to `dest` only after the expected digests
    match, so `dest` never holds a partial or wrong file. A mismatch raises `ChecksumError`, a
    network error `DownloadError`; both delete the partial file. A file already at `dest` that
    matches (or any file there when nothing is expected) is kept without downloading.
    """
    return download_with_digests(url, dest, expected_sha256, expected_md5, progress, timeout)[0]


# ----------------------------------------------------------------------------------------------
# Extracting


def archive_kind(archive: Path) -> Literal["zip", "tar"]:
    """'zip' or 'tar' (any compression), from the file's content rather than its name."""
    if zipfile.is_zipfile(archive):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    raise DownloadError(f"{archive}: not a zip or tar archive")


def _read_tar_members(archive: Path) -> None:
    """Read every member of a tar archive to its end (decompressing it); raises on damage."""
    with tarfile.open(archive, "r:*") as handle:
        for member in handle:
            if member.isfile():
                with handle.extractfile(member) as data:
                    while data.read(CHUNK_BYTES):
                        pass


def verify_archive(archive: Path) -> None:
    """Read a zip (every member's CRC) or tar archive (every member's bytes) through; a damaged
    one raises DownloadError naming it. Nothing is written."""
    kind = archive_kind(archive)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as handle:
                bad = handle.testzip()
            if bad is not None:
                raise DownloadError(f"{archive}: member {bad!r} fails its CRC check")
        else:
            _read_tar_members(archive)
    except DownloadError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DownloadError(f"{archive}: damaged {kind} archive ({err})") from err


def move_aside(archive: Path, suffix: str) -> Path:
    """Rename `archive` to `<archive><suffix>` (replacing an older one), so that the next fetch
    downloads it again; returns the new path."""
    aside = archive.with_name(archive.name + suffix)
    os.replace(archive, aside)
    return aside


def missing_layout(target: Path, layout: Sequence[str]) -> list[str]:
    """The entries of `layout` (paths relative to `target`) that do not exist."""
    return [entry for entry in layout if not (target / entry).exists()]


def _check_member(name: str, archive: Path, root: Path) -> None:
    """Refuse absolute names, drive letters and `..` that would write outside `root`."""
    parts = name.replace("\\", "/").split("/")
    escapes = (name.startswith(("/", "\\")) or ".." in parts
               or (len(parts[0]) >= 2 and parts[0][1] == ":"))
    resolved = (root / name).resolve()
    if escapes or (resolved != root.resolve() and root.resolve() not in resolved.parents):
        raise UnsafeArchiveError(f"{archive}: member {name!r} would be written outside the target "
                                 "folder; refusing to extract this archive")


def _check_link(member: tarfile.TarInfo, archive: Path) -> None:
    """A symbolic or hard link must point at a place inside the target folder."""
    base = os.path.dirname(member.name) if member.issym() else ""
    target = os.path.normpath(os.path.join(base, member.linkname.replace("\\", "/")))
    if os.path.isabs(member.linkname) or target == ".." or target.startswith("../"):
        raise UnsafeArchiveError(f"{archive}: member {member.name!r} links to {member.linkname!r}, outside "
                                 "the target folder; refusing to extract this archive")


def _check_tar_member(member: tarfile.TarInfo, archive: Path, root: Path) -> None:
    """Names as for zip, plus links that point out of the target and device files."""
    _check_member(member.name, archive, root)
    if member.issym() or member.islnk():
        _check_link(member, archive)
    elif member.isdev():
        raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a device or pipe; refusing to extract")


def _extract_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as handle:
        for info in handle.infolist():
            _check_member(info.filename, archive, into)
        handle.extractall(into)


def _extract_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive, "r:*") as handle:
        members = handle.getmembers()
        for member in members:
            _check_tar_member(member, archive, into)
        if not hasattr(tarfile, "data_filter"):  # Python < 3.11.4: our checks above only
            handle.extractall(into, members=members)
            return
        try:  # the stdlib's own guard as a second line (also drops set-uid bits)
            handle.extractall(into, members=members, filter="data")
        except tarfile.FilterError as err:
            raise UnsafeArchiveError(f"{archive}: member {err.tarinfo.name!r} refused: {err}") from err


def _move_into(entries: list[Path], into: Path, archive: Path) -> list[Path]:
    """Rename unpacked top-level entries into `into`; refuses to overwrite anything."""
    clashes = [into / e.name for e in entries if (into / e.name).exists()]
    if clashes:
        raise DownloadError(f"{clashes[0]}: already exists; not overwriting it with the copy from "
                            f"{archive.name} (remove it to extract again)")
    for entry in entries:
        os.replace(entry, into / entry.name)
    return [into / e.name for e in entries]


def extract(archive: str | os.PathLike, into: str | os.PathLike) -> list[Path]:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into `into`; returns the top-level entries made.

    Members go to a temporary folder inside `into` first and are renamed into place only when the
    whole archive unpacked, so an interrupted extraction leaves no half-filled folder behind. A
    member that would escape `into` raises `UnsafeArchiveError` naming it, before anything is
    written; an existing entry of the same name is never overwritten.
    """
    archive, into = Path(archive), Path(into)
    if not archive.is_file():
        raise DownloadError(f"{archive}: archive not found")
    kind = archive_kind(archive)
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=into, prefix=".extract-"))
    try:
        try:
            (_extract_zip if kind == "zip" else _extract_tar)(archive, staging)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as err:
            raise DownloadError(f"{archive}: cannot extract ({err}); is the archive corrupted?") from err
        return _move_into(sorted(staging.iterdir()), into, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ----------------------------------------------------------------------------------------------
# Fetching a table entry


def get_resource(name: str) -> Resource:
    """The `RESOURCES` entry for `name` ('-' and '_' interchangeable); error lists the names."""
    key = name.strip().lower().replace("-", "_")
    if key not in RESOURCES:
        raise DownloadError(f"unknown resource {name!r}; known: {', '.join(RESOURCES)}")
    return RESOURCES[key]


def _as_list(value: str | Sequence[str] | None, count: int, what: str, resource: Resource) -> list[str | None]:
    """One value per file of `resource` (None: use the table's)."""
    if value is None:
        return [None] * count
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        return [None] * count
    if len(values) != count:
        names = ", ".join(f.filename for f in resource.files)
        raise DownloadError(f"{resource.name} has {count} file(s) ({names}): pass {count} {what} value(s) "
                            f"in that order, not {len(values)}")
    return values


def _manual_download_error(resource: Resource, spec: RemoteFile) -> DownloadError:
    return DownloadError(
        f"{resource.name}: {spec.filename} has no direct download link. Download it in a browser from "
        f"{spec.page}, then run: amd download fetch {resource.name} "
        f"--url file:///absolute/path/{spec.filename}")


def plan_files(resource: Resource, url: str | Sequence[str] | None = None,
               sha256: str | Sequence[str] | None = None,
               md5: str | Sequence[str] | None = None) -> list[RemoteFile]:
    """The resource's files with command-line overrides applied.

    `url` replaces the link (the filename stays, so the loaders' paths do not change). A pinned
    `sha256` or `md5` replaces BOTH of the table's digests for that file: pinning means "this is
    the file I want", even when it is not the published one.
    """
    count = len(resource.files)
    urls = _as_list(url, count, "--url", resource)
    shas = _as_list(sha256, count, "--sha256", resource)
    md5s = _as_list(md5, count, "--md5", resource)
    planned = []
    for spec, u, s, m in zip(resource.files, urls, shas, md5s):
        if s is not None or m is not None:
            spec = replace(spec, sha256=normalise_digest(s, "sha256"), md5=normalise_digest(m, "md5"))
        if u is not None:
            spec = replace(spec, url=u)
        if spec.url is None:
            raise _manual_download_error(resource, spec)
        planned.append(spec)
    return planned


def _read_marker(target: Path) -> dict | None:
    marker = target / MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError) as err:
        raise DownloadError(f"{marker}: unreadable fetch record ({err}); remove {target} to fetch again") from err


def _already_fetched(target: Path, plans: list[RemoteFile]) -> bool:
    """True when `target` holds a complete earlier fetch of these files (digests checked)."""
    record = _read_marker(target)
    if record is None:
        return False
    files = {f.get("filename"): f for f in record.get("files", [])}
    for spec in plans:
        done = files.get(spec.filename)
        if done is None:
            return False
        for algo in ("sha256", "md5"):
            want = getattr(spec, algo)
            if want is not None and done.get(algo) != want:
                raise DownloadError(f"{target}: was unpacked from a {spec.filename} with {algo} "
                                    f"{done.get(algo)}, not the expected {want}; remove it to fetch again")
    return True


def _write_marker(folder: Path, resource: Resource, plans: list[RemoteFile],
                  digests: list[dict[str, str]]) -> None:
    record = {"resource": resource.name,
              "files": [{"filename": s.filename, "url": s.url, **d} for s, d in zip(plans, digests)]}
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n")


def _fetch_plain(resource: Resource, root: Path, plans: list[RemoteFile], progress: bool) -> Path:
    """Plain files (the checkpoint, a split file) go straight to <root>/<subfolder>/<filename>."""
    folder = root / resource.subfolder
    paths = [download(s.url, folder / s.filename, s.sha256, s.md5, progress) for s in plans]
    return paths[0] if len(paths) == 1 else folder


def _verify_or_move_aside(archive: Path) -> None:
    """`verify_archive`; a damaged archive is moved to `<archive>.corrupt` and the error says so."""
    try:
        verify_archive(archive)
    except DownloadError as err:
        aside = move_aside(archive, ".corrupt")
        raise DownloadError(f"{err}; moved it to {aside.name} so that the next fetch downloads it again "
                            "(truncated download or bad link? pass --url with a working link)") from err


def _check_layout(resource: Resource, unpacked: Path, archives: list[Path]) -> None:
    """DownloadError naming the archives and the missing entries when the unpacked folder lacks
    part of `resource.layout`; the archives are moved to `<archive>.rejected`."""
    missing = missing_layout(unpacked, resource.layout)
    if not missing:
        return
    names = ", ".join(a.name for a in archives)
    asides = ", ".join(move_aside(a, ".rejected").name for a in archives)
    raise DownloadError(f"{names}: unpacked, but {resource.name} needs {', '.join(missing)}, which the "
                        f"archive does not hold (the wrong file?); moved it to {asides}, nothing was "
                        "installed")


def _fetch_archives(resource: Resource, root: Path, plans: list[RemoteFile], progress: bool,
                    keep_archives: bool) -> Path:
    """Download the archives to <root>/archives/, unpack them all, rename into <root>/<subfolder>."""
    target = root / resource.subfolder
    if _already_fetched(target, plans):
        _say(f"{target}: already fetched ({MARKER} present); nothing to do")
        return target
    if target.exists():
        raise DownloadError(f"{target}: exists but was not unpacked by amdlib.io.download (no {MARKER}); "
                            "remove it to fetch again, or use it as it is")
    downloaded = [download_with_digests(s.url, root / ARCHIVE_DIR / s.filename, s.sha256, s.md5, progress)
                  for s in plans]
    for archive, _ in downloaded:
        _verify_or_move_aside(archive)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{resource.subfolder}.partial-"))
    try:
        for archive, _ in downloaded:
            _say(f"{archive}: extracting")
            extract(archive, staging)
        _check_layout(resource, staging, [archive for archive, _ in downloaded])
        _write_marker(staging, resource, plans, [d for _, d in downloaded])
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not keep_archives:
        for archive, _ in downloaded:
            archive.unlink(missing_ok=True)
    return target


def fetch(name: str, root: str | os.PathLike = DEFAULT_ROOT, url: str | Sequence[str] | None = None,
          sha256: str | Sequence[str] | None = None, md5: str | Sequence[str] | None = None,
          progress: bool = True, keep_archives: bool = True) -> Path:
    """Download, verify and unpack resource `name` into `<root>/<subfolder>`; returns that path.

    For a checkpoint or list file the return value is the file itself. `url`, `sha256`, `md5`:
    one value per file of the resource (a plain string for single-file resources), see
    `plan_files`. Running it again after a success does nothing (no download, no extraction).
    """
    resource = get_resource(name)
    root = Path(root)
    plans = plan_files(resource, url, sha256, md5)
    root.mkdir(parents=True, exist_ok=True)
    if resource.is_archive:
        result = _fetch_archives(resource, root, plans, progress, keep_archives)
    else:
        result = _fetch_plain(resource, root, plans, progress)
    _say(f"{resource.name}: ready at {result}; read it with {resource.loader.replace('<root>', str(root))}")
    return result
