"""amdlib.io.download, its table (amdlib.io.resources) and `amd download` (amdlib.cli.download), offline:
archives made here, served by file:// URLs and a local HTTP server.

Every digest the tests expect is computed with hashlib from the bytes the test wrote, never
taken from the module under test.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import inspect
import io
import json
import socket
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from amdlib.cli.download import main
from amdlib.io import download as dl
from amdlib.io.download import MARKER, ChecksumError, DownloadError, UnsafeArchiveError, download, extract, fetch
from amdlib.io.resources import DEFAULT_ROOT, RESOURCES, RemoteFile, Resource, youtube_vos_instructions

REPO_ROOT = Path(__file__).resolve().parents[1]

FILES = {
    "toy/JPEGImages/seq/00000.jpg": b"\xff\xd8frame zero" * 50,
    "toy/Annotations/seq/00000.png": b"\x89PNGmask" * 40,
    "toy/readme.txt": b"hello\n",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_zip(path: Path, files: dict[str, bytes]) -> bytes:
    """Write a zip with `files` (name -> bytes) and return the archive's bytes."""
    with zipfile.ZipFile(path, "w") as handle:
        for name, data in files.items():
            handle.writestr(name, data)
    return path.read_bytes()


def make_tar(path: Path, files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    with tarfile.open(path, mode) as handle:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def assert_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        assert (root / name).read_bytes() == data, name


def leftovers(folder: Path) -> list[str]:
    """Partial files and staging folders anywhere below `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith(".partial") or ".partial-" in p.name or p.name.startswith(".extract-"))


@dataclass
class Server:
    base: str
    folder: Path
    requests: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A local HTTP server (127.0.0.1, free port) serving tmp_path/served and counting GETs."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", folder, requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def toy_resource(url: str, *, kind: str = "zip", sha: str | None = None, digest_md5: str | None = None,
                 filename: str = "toy.zip") -> Resource:
    return Resource("toy", "toy set", (RemoteFile(filename, url, sha256=sha, md5=digest_md5, unpack=kind),),
                    "toy", 'Loader("<root>/toy")')


# ------------------------------------------------------------------ download


@pytest.mark.parametrize("via", ["file", "http"])
def test_download_verifies_and_renames(tmp_path: Path, server: Server, via: str) -> None:
    data = b"some bytes " * 1000
    (server.folder / "blob.bin").write_bytes(data)
    url = server.url("blob.bin") if via == "http" else (server.folder / "blob.bin").as_uri()
    dest = tmp_path / "out" / "blob.bin"
    assert download(url, dest, expected_sha256=sha256(data), progress=False) == dest
    assert dest.read_bytes() == data
    assert not dl.partial_path(dest).exists()


@pytest.mark.parametrize("via", ["file", "http"])
def test_corrupted_download_raises_and_leaves_nothing(tmp_path: Path, server: Server, via: str) -> None:
    data = b"what the server has"
    (server.folder / "blob.bin").write_bytes(data)
    url = server.url("blob.bin") if via == "http" else (server.folder / "blob.bin").as_uri()
    dest = tmp_path / "out" / "blob.bin"
    wrong = sha256(b"what the table says")
    with pytest.raises(ChecksumError) as info:
        download(url, dest, expected_sha256=wrong, progress=False)
    message = str(info.value)
    assert isinstance(info.value, DownloadError)
    assert str(dest) in message and url in message
    assert wrong in message and sha256(data) in message
    assert not dest.exists() and not dl.partial_path(dest).exists()


def test_md5_verification(tmp_path: Path) -> None:
    data = b"voc-like archive bytes"
    source = tmp_path / "src.tar"
    source.write_bytes(data)
    good = download(source.as_uri(), tmp_path / "a.tar", expected_md5=md5(data), progress=False)
    assert good.read_bytes() == data
    wrong = md5(b"other")
    with pytest.raises(ChecksumError, match=wrong) as info:
        download(source.as_uri(), tmp_path / "b.tar", expected_md5=wrong, progress=False)
    assert md5(data) in str(info.value) and "b.tar" in str(info.value)
    assert not (tmp_path / "b.tar").exists() and not (tmp_path / "b.tar.partial").exists()


def test_unreachable_url_raises_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    dest = tmp_path / "x"
    with pytest.raises(DownloadError, match=url.replace(".", r"\.")):
        download(url, dest, progress=False, timeout=5)
    assert not dest.exists() and not dl.partial_path(dest).exists()
    missing = (tmp_path / "nowhere.zip").as_uri()
    with pytest.raises(DownloadError, match="nowhere.zip"):
        download(missing, tmp_path / "y", progress=False)
    assert not (tmp_path / "y.partial").exists()


def test_http_error_status_raises(tmp_path: Path, server: Server) -> None:
    url = server.url("absent.zip")
    with pytest.raises(DownloadError, match="absent.zip"):
        download(url, tmp_path / "absent.zip", progress=False)
    assert leftovers(tmp_path) == []


def test_html_page_is_not_saved_as_the_file(tmp_path: Path, server: Server) -> None:
    (server.folder / "signin.html").write_text("<html>please sign in</html>")
    dest = tmp_path / "model.pth"
    with pytest.raises(DownloadError, match="HTML page"):
        download(server.url("signin.html"), dest, progress=False)
    assert not dest.exists() and not dl.partial_path(dest).exists()


def test_download_is_idempotent(tmp_path: Path, server: Server, capsys: pytest.CaptureFixture) -> None:
    data = b"\x00\x01" * 4096
    (server.folder / "blob.bin").write_bytes(data)
    dest = tmp_path / "blob.bin"
    download(server.url("blob.bin"), dest, expected_sha256=sha256(data), progress=False)
    mtime = dest.stat().st_mtime_ns
    download(server.url("blob.bin"), dest, expected_sha256=sha256(data), progress=False)
    assert len(server.requests) == 1 and dest.stat().st_mtime_ns == mtime
    # Without a checksum: reported once, and the present file is still not fetched again.
    other = tmp_path / "other.bin"
    download(server.url("blob.bin"), other, progress=False)
    err = capsys.readouterr().err
    assert f"no published checksum; computed sha256 = {sha256(data)}" in err
    download(server.url("blob.bin"), other, progress=False)
    assert len(server.requests) == 2


def test_wrong_existing_file_is_downloaded_again(tmp_path: Path, server: Server) -> None:
    data = b"the right content"
    (server.folder / "blob.bin").write_bytes(data)
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"stale half file")
    download(server.url("blob.bin"), dest, expected_sha256=sha256(data), progress=False)
    assert dest.read_bytes() == data and len(server.requests) == 1


def test_bad_digest_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256"):
        download("file:///x", tmp_path / "x", expected_sha256="1234")


# ------------------------------------------------------------------ extract


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar"])
def test_extract_archives(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / f"a.{kind}"
    if kind == "zip":
        make_zip(archive, FILES)
    else:
        make_tar(archive, FILES, "w:gz" if kind == "tar.gz" else "w")
    into = tmp_path / "into"
    made = extract(archive, into)
    assert made == [into / "toy"]
    assert_tree(into, FILES)
    assert leftovers(into) == []


def test_zip_path_traversal_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    make_zip(archive, {"fine.txt": b"ok", "../evil.txt": b"gotcha"})
    into = tmp_path / "deep" / "into"
    with pytest.raises(UnsafeArchiveError, match=r"\.\./evil\.txt") as info:
        extract(archive, into)
    assert "evil.zip" in str(info.value)
    assert not (tmp_path / "deep" / "evil.txt").exists()
    assert list(into.iterdir()) == []  # nothing extracted, staging removed


@pytest.mark.parametrize("member", ["../../evil.txt", "/tmp/amdlib-evil.txt", "a/../../evil.txt"])
def test_tar_path_traversal_rejected(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "evil.tar"
    make_tar(archive, {"fine.txt": b"ok", member: b"gotcha"}, "w")
    into = tmp_path / "into"
    with pytest.raises(UnsafeArchiveError, match=member.replace(".", r"\.")):
        extract(archive, into)
    assert list(into.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_tar_link_out_of_target_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as handle:
        info = tarfile.TarInfo("inside/passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../etc/passwd"
        handle.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="inside/passwd"):
        extract(archive, tmp_path / "into")


def test_extract_refuses_to_overwrite_and_bad_archives(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    make_zip(archive, FILES)
    into = tmp_path / "into"
    (into / "toy").mkdir(parents=True)
    (into / "toy" / "mine.txt").write_text("keep me")
    with pytest.raises(DownloadError, match="already exists"):
        extract(archive, into)
    assert (into / "toy" / "mine.txt").read_text() == "keep me"
    not_archive = tmp_path / "page.zip"
    not_archive.write_text("<html>not an archive</html>")
    with pytest.raises(DownloadError, match="page.zip: not a zip or tar archive"):
        extract(not_archive, tmp_path / "into2")


# ------------------------------------------------------------------ fetch


def test_fetch_over_http_extracts_and_is_idempotent(tmp_path: Path, server: Server,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_zip(server.folder / "toy.zip", FILES)
    monkeypatch.setitem(RESOURCES, "toy", toy_resource(server.url("toy.zip"), sha=sha256(data)))
    root = tmp_path / "real"
    target = fetch("toy", root, progress=False)
    assert target == root / "toy"
    assert_tree(target, FILES)
    assert (root / dl.ARCHIVE_DIR / "toy.zip").read_bytes() == data
    record = json.loads((target / MARKER).read_text())
    assert record["files"][0]["sha256"] == sha256(data) and record["files"][0]["md5"] == md5(data)
    assert leftovers(root) == []
    fetch("toy", root, progress=False)
    assert len(server.requests) == 1
    # Even with the archive removed, a finished fetch is not repeated.
    (root / dl.ARCHIVE_DIR / "toy.zip").unlink()
    fetch("toy", root, progress=False)
    assert len(server.requests) == 1


def test_fetch_tar_with_md5_and_corrupted_fetch(tmp_path: Path, server: Server,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_tar(server.folder / "toy.tar", FILES, "w")
    monkeypatch.setitem(RESOURCES, "toy", toy_resource(server.url("toy.tar"), kind="tar",
                                                           digest_md5=md5(data), filename="toy.tar"))
    root = tmp_path / "real"
    assert_tree(fetch("toy", root, progress=False), FILES)

    monkeypatch.setitem(RESOURCES, "toy", toy_resource(server.url("toy.tar"), kind="tar",
                                                           digest_md5=md5(b"published"), filename="toy.tar"))
    other = tmp_path / "other"
    with pytest.raises(ChecksumError, match="toy.tar"):
        fetch("toy", other, progress=False)
    assert not (other / "toy").exists() and not (other / dl.ARCHIVE_DIR / "toy.tar").exists()
    assert leftovers(other) == []


def test_fetch_refuses_foreign_target_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "toy.zip"
    make_zip(source, FILES)
    monkeypatch.setitem(RESOURCES, "toy", toy_resource(source.as_uri()))
    (tmp_path / "real" / "toy").mkdir(parents=True)
    with pytest.raises(DownloadError, match="not unpacked by amdlib.io.download"):
        fetch("toy", tmp_path / "real", progress=False)


def test_fetch_multi_file_resource(tmp_path: Path) -> None:
    train = make_zip(tmp_path / "train.zip", {"Trainingset/cars1/cars1_01.jpg": b"t1"})
    test = make_zip(tmp_path / "test.zip", {"Testset/cars2/cars2_01.jpg": b"t2"})
    root = tmp_path / "real"
    urls = [(tmp_path / "train.zip").as_uri(), (tmp_path / "test.zip").as_uri()]
    with pytest.raises(DownloadError, match="2 --url value"):
        fetch("fbms59", root, url=urls[:1], progress=False)
    target = fetch("fbms59", root, url=urls, sha256=[sha256(train), sha256(test)], progress=False)
    assert_tree(target, {"Trainingset/cars1/cars1_01.jpg": b"t1", "Testset/cars2/cars2_01.jpg": b"t2"})


def test_manual_resource_needs_url(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="--url") as info:
        fetch("youtube_vos_split", tmp_path, progress=False)
    assert "drive.google.com" in str(info.value)
    split = tmp_path / "ytb_2019.txt"
    split.write_text("train_all_frames/JPEGImages/abc 00000.jpg 00001.jpg\n")
    path = fetch("youtube-vos-split", tmp_path / "real", url=split.as_uri(), progress=False)
    assert path == tmp_path / "real" / "youtube_vos" / "ytb_2019.txt"
    assert path.read_bytes() == split.read_bytes()


def test_unknown_resource(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="unknown resource 'nope'.*davis2016"):
        fetch("nope", tmp_path)


def test_table_checksums_are_well_formed() -> None:
    voc = RESOURCES["voc2012"].files[0]
    assert voc.md5 == "6cd6e144f989b92b3379bac3b3de84fd" and voc.unpack == "tar"
    for resource in RESOURCES.values():
        for spec in resource.files:
            dl.normalise_digest(spec.sha256, "sha256")
            dl.normalise_digest(spec.md5, "md5")


# ------------------------------------------------------------------ command line


def test_cli_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("davis2016", "segtrackv2", "fbms59", "duts_te", "voc2012", "amd_checkpoint", "youtube-vos"):
        assert name in out
    assert "https://graphics.ethz.ch/Downloads/Data/Davis/DAVIS-data.zip" in out
    assert "md5 6cd6e144f989b92b3379bac3b3de84fd" in out
    assert "none published" in out
    assert str(tmp_path / "davis2016") in out


def test_cli_youtube_vos(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["youtube-vos", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "CodaLab" in out
    assert f"{tmp_path / 'youtube_vos'}/train_all_frames/JPEGImages/<video>/<frame>.jpg" in out
    assert "amdlib.data.YouTubeVOSPairs" in out


def test_cli_fetch_with_url_override(tmp_path: Path, server: Server, capsys: pytest.CaptureFixture) -> None:
    files = {"DAVIS/JPEGImages/480p/bear/00000.jpg": b"jpg", "DAVIS/Annotations/480p/bear/00000.png": b"png",
             "DAVIS/ImageSets/480p/val.txt": b"/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png\n"}
    data = make_zip(server.folder / "mirror.zip", files)
    root = tmp_path / "real"
    argv = ["fetch", "davis2016", "--root", str(root), "--url", server.url("mirror.zip"), "--no-progress"]
    assert main(argv + ["--sha256", sha256(b"not it")]) == 1
    err = capsys.readouterr().err
    assert "DAVIS-data.zip" in err and "checksum mismatch" in err and sha256(data) in err
    assert not (root / "davis2016").exists()

    assert main(argv + ["--sha256", sha256(data).upper()]) == 0
    assert_tree(root / "davis2016", files)
    assert (root / dl.ARCHIVE_DIR / "DAVIS-data.zip").read_bytes() == data
    assert main(argv) == 0  # already fetched: no third request
    assert len(server.requests) == 2


def test_cli_fetch_plain_file_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    weights = tmp_path / "amd_pretrained.pth"
    weights.write_bytes(b"not really a checkpoint" * 10)
    root = tmp_path / "real"
    assert main(["fetch", "amd_checkpoint", "--root", str(root), "--url", weights.as_uri(), "--no-progress"]) == 0
    assert (root / "amd_checkpoint" / "amd_pretrained.pth").read_bytes() == weights.read_bytes()
    assert f"computed sha256 = {sha256(weights.read_bytes())}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fetch", "amd_checkpoint", "--sha256", "xyz"])
    assert "sha256" in capsys.readouterr().err


def test_amd_command_dispatches_download(capsys: pytest.CaptureFixture) -> None:
    from amdlib.cli import main as amd

    assert amd(["download", "list"]) == 0
    assert "davis2016" in capsys.readouterr().out


def test_usage_line_names_amd_download(capsys: pytest.CaptureFixture) -> None:
    from amdlib.cli import main as amd

    for run in (lambda: main(["--help"]), lambda: amd(["download", "--help"])):
        with pytest.raises(SystemExit) as exit_info:
            run()
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: amd download ") and "python -m" not in out
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    assert capsys.readouterr().out.startswith("usage: amd download fetch ")


def test_default_root_is_the_repository_data_real_folder() -> None:
    """<repo>/data/real, with <repo> found from this test file (tests/ is one level below it)."""
    expected = REPO_ROOT / "data" / "real"
    assert (REPO_ROOT / "amdlib" / "io" / "resources.py").is_file()  # the repository root indeed
    assert DEFAULT_ROOT == expected
    assert inspect.signature(fetch).parameters["root"].default == expected
    assert f"{expected / 'youtube_vos'}/train_all_frames" in youtube_vos_instructions()


def _load_reproduce_script(monkeypatch: pytest.MonkeyPatch):
    """scripts/reproduce.py as a module (as tests/test_reproduce.py loads it)."""
    spec = importlib.util.spec_from_file_location("reproduce_script_for_download",
                                                  REPO_ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_documented_recipe_fetches_davis_that_reproduce_finds_as_real_data(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`amd download fetch davis2016 --root DATA_ROOT --url file://...` on a tiny DAVIS-layout zip, then
    scripts/reproduce.py's `resolve_data(DATA_ROOT)` takes DAVIS-2016 as real data from where it landed."""
    from amdlib.cli import main as amd

    files = {"DAVIS/JPEGImages/480p/bear/00000.jpg": b"jpg", "DAVIS/Annotations/480p/bear/00000.png": b"png",
             "DAVIS/ImageSets/480p/val.txt": b"/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png\n"}
    archive = tmp_path / "mirror" / "DAVIS-data.zip"
    archive.parent.mkdir()
    data = make_zip(archive, files)
    root = tmp_path / "data" / "real"
    assert amd(["download", "fetch", "davis2016", "--root", str(root), "--url", archive.as_uri(),
                "--sha256", sha256(data), "--no-progress"]) == 0
    assert_tree(root / "davis2016", files)
    assert (root / "davis2016" / MARKER).is_file()

    choices = {c.dataset.name: c for c in _load_reproduce_script(monkeypatch).resolve_data(root)}
    davis = choices["davis2016"]
    assert davis.is_real and davis.path == (root / "davis2016" / "DAVIS").resolve()
    assert not any(c.is_real for name, c in choices.items() if name != "davis2016")


# ------------------------------------------------------------------ damaged archives, wrong layout


def layout_resource(url: str, *, kind: str = "zip", filename: str = "toy.zip") -> Resource:
    """The toy resource with an expected layout, as the table's datasets have."""
    return Resource("toy", "toy set", (RemoteFile(filename, url, unpack=kind),), "toy", 'Loader("<root>/toy")',
                    layout=("toy/JPEGImages", "toy/Annotations"))


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_a_truncated_archive_is_moved_aside_and_the_retry_downloads_again(tmp_path: Path, kind: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    filename = f"toy.{kind}"
    good = tmp_path / "good" / filename
    good.parent.mkdir()
    data = make_zip(good, FILES) if kind == "zip" else make_tar(good, FILES, "w:gz")
    bad = tmp_path / "bad" / filename
    bad.parent.mkdir()
    bad.write_bytes(data[: len(data) * 2 // 3])
    monkeypatch.setitem(RESOURCES, "toy", layout_resource(bad.as_uri(), kind=kind, filename=filename))
    root = tmp_path / "real"
    with pytest.raises(DownloadError) as info:
        fetch("toy", root, progress=False)
    archive = root / dl.ARCHIVE_DIR / filename
    assert str(archive) in str(info.value) and f"moved it to {filename}.corrupt" in str(info.value)
    assert not archive.exists() and (root / dl.ARCHIVE_DIR / f"{filename}.corrupt").exists()
    assert not (root / "toy").exists()
    assert_tree(fetch("toy", root, url=good.as_uri(), progress=False), FILES)  # downloaded again, not reused


def test_a_zip_member_with_a_bad_crc_is_found_before_extraction(tmp_path: Path) -> None:
    archive = tmp_path / "toy.zip"
    data = bytearray(make_zip(archive, {"toy/readme.txt": b"hello world " * 20}))
    position = data.index(b"hello world")
    data[position] ^= 0xFF  # stored (uncompressed) member: the bytes change, the recorded CRC does not
    archive.write_bytes(bytes(data))
    with pytest.raises(DownloadError, match="toy.zip: member 'toy/readme.txt' fails its CRC check"):
        dl.verify_archive(archive)


def test_an_archive_without_the_expected_folder_is_not_ready(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = tmp_path / "toy.zip"
    make_zip(wrong, {"other/readme.txt": b"not the dataset"})
    monkeypatch.setitem(RESOURCES, "toy", layout_resource(wrong.as_uri()))
    root = tmp_path / "real"
    with pytest.raises(DownloadError) as info:
        fetch("toy", root, progress=False)
    message = str(info.value)
    assert message.startswith("toy.zip: unpacked, but toy needs toy/JPEGImages, toy/Annotations")
    assert "moved it to toy.zip.rejected" in message
    assert not (root / "toy").exists() and leftovers(root) == []
    good = tmp_path / "good.zip"
    make_zip(good, FILES)
    assert_tree(fetch("toy", root, url=good.as_uri(), progress=False), FILES)


def test_davis_layout_is_checked_for_the_real_table_entry(tmp_path: Path) -> None:
    archive = tmp_path / "DAVIS-data.zip"
    make_zip(archive, {"DAVIS/JPEGImages/480p/bear/00000.jpg": b"x"})
    with pytest.raises(DownloadError, match="davis2016 needs DAVIS/Annotations/480p, DAVIS/ImageSets/480p"):
        fetch("davis2016", tmp_path / "real", url=archive.as_uri(), progress=False)
    assert all(resource.layout for resource in RESOURCES.values() if resource.is_archive)


def test_cli_reports_a_corrupt_archive_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    archive = tmp_path / "DAVIS-data.zip"
    archive.write_bytes(make_zip(tmp_path / "x.zip", FILES)[:40])
    assert main(["fetch", "davis2016", "--root", str(tmp_path / "real"), "--url", archive.as_uri(),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "DAVIS-data.zip" in err[-1] and ".corrupt" in err[-1]
