"""`python -m amdlib.cli.convert`: rearrange FBMS-59 and SegTrackv2 archives into the DAVIS-like
layout (`amdlib.data.convert`).

    python -m amdlib.cli.convert fbms SOURCE DEST [--copy]
    python -m amdlib.cli.convert segtrackv2 SOURCE DEST [--copy] [--threshold N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..data.convert import convert_fbms, convert_segtrackv2
from ..data.io import DatasetError, list_images


def _summary(destination: Path, names: list[str]) -> list[str]:
    """One line per written sequence: how many frames and masks it now holds."""
    lines = []
    for name in names:
        frames = len(list_images(destination / "JPEGImages" / name))
        masks = len(list_images(destination / "Annotations" / name))
        lines.append(f"{name:24s} {frames:5d} frames {masks:5d} masks")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m amdlib.cli.convert {fbms,segtrackv2} SOURCE DEST [--copy]`; 0 on success."""
    parser = argparse.ArgumentParser(
        prog="python -m amdlib.cli.convert",
        description="Rearrange FBMS-59 / SegTrackv2 archives into JPEGImages/<seq>/ + Annotations/<seq>/ "
                    "(read with amdlib.data.DAVISLike).")
    commands = parser.add_subparsers(dest="dataset", required=True)
    converters: dict[str, Callable[..., list[str]]] = {"fbms": convert_fbms, "segtrackv2": convert_segtrackv2}
    for dataset, help_text in (("fbms", "FBMS-59: Trainingset/, Testset/ or a folder holding both"),
                               ("segtrackv2", "SegTrackv2: the folder holding JPEGImages/ and GroundTruth/")):
        command = commands.add_parser(dataset, help=help_text)
        command.add_argument("source", type=Path, help="the unpacked archive")
        command.add_argument("destination", type=Path, help="output folder (created)")
        command.add_argument("--copy", action="store_true", help="copy the frames instead of hard-linking them")
        if dataset == "segtrackv2":
            command.add_argument("--threshold", type=int, default=0,
                                 help="mask value above which a pixel is object (default 0: any non-zero)")
    args = parser.parse_args(argv)
    options = {"threshold": args.threshold} if args.dataset == "segtrackv2" else {}
    try:
        names = converters[args.dataset](args.source, args.destination, link=not args.copy, **options)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(_summary(args.destination, names)))
    how = "copied" if args.copy else "linked"
    print(f"wrote {len(names)} sequences to {args.destination} (frames {how}); "
          f"read with amdlib.data.DAVISLike({str(args.destination)!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
