"""`amd download`: fetch and verify the real datasets and the released checkpoint.

    amd download list
    amd download fetch davis2016 [--root data/real] [--url URL] [--sha256 HEX]
    amd download youtube-vos          # YouTube-VOS needs a sign-in: instructions

Default root: `<repo>/data/real`, each resource in `<root>/<name>/` (`amdlib.io.resources`).
The download, checksum and extraction machinery is `amdlib.io.download`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..io.download import DownloadError, fetch, normalise_digest
from ..io.resources import DEFAULT_ROOT, RESOURCES, Resource, youtube_vos_instructions


def describe(resource: Resource, root: Path) -> str:
    """Several lines about one resource for `list`: links, checksum status, folder, loader."""
    lines = [f"{resource.name}: {resource.title}"]
    for spec in resource.files:
        digests = [f"{algo} {getattr(spec, algo)}" for algo in ("sha256", "md5") if getattr(spec, algo)]
        lines.append(f"    {spec.filename}: {spec.url or '(no direct link: pass --url) ' + spec.page}")
        lines.append(f"        checksum: {', '.join(digests) if digests else 'none published (pin with --sha256)'}")
    lines.append(f"    into: {root / resource.subfolder}")
    lines.append(f"    read: {resource.loader.replace('<root>', str(root))}")
    if resource.notes:
        lines.append(f"    note: {resource.notes}")
    return "\n".join(lines)


def _digest_arg(algorithm: str):
    def parse(value: str) -> str:
        try:
            return normalise_digest(value, algorithm)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = algorithm  # argparse names the type in its error message
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amd download",
                                     description="Download and verify the real datasets and the released checkpoint.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show every resource, its links, checksums and folder")
    listing.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    get = commands.add_parser("fetch", help="download + verify + unpack one resource")
    get.add_argument("name", help=f"one of: {', '.join(RESOURCES)}")
    get.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="default: <repo>/data/real")
    get.add_argument("--url", action="append", help="replace the link (repeat once per file, in order)")
    get.add_argument("--sha256", action="append", type=_digest_arg("sha256"),
                     help="pin the expected sha256 (repeat once per file); replaces the table's digests")
    get.add_argument("--md5", action="append", type=_digest_arg("md5"), help="pin the expected md5")
    get.add_argument("--no-progress", action="store_true", help="no progress bar")
    get.add_argument("--remove-archives", action="store_true", help="delete the archives after unpacking")
    ytvos = commands.add_parser("youtube-vos", help="how to get YouTube-VOS 2019 (needs a sign-in)")
    ytvos.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status (1 with a message on a download error)."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        print("\n\n".join(describe(r, args.root) for r in RESOURCES.values()))
        print("\nyoutube-vos: needs a sign-in; run `amd download youtube-vos`")
        return 0
    if args.command == "youtube-vos":
        print(youtube_vos_instructions(args.root), end="")
        return 0
    try:
        fetch(args.name, args.root, url=args.url, sha256=args.sha256, md5=args.md5,
              progress=not args.no_progress, keep_archives=not args.remove_archives)
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
