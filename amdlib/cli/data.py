"""`amd data`: write the synthetic datasets in the real layouts (`amdlib.data.synthetic`).

    amd data --profile cpu [--root DIR] [--seed N] [--force] [--verify] [--workers N]

Default root: <repo>/data/generated/<profile> (git-ignored). Every dataset folder that is already
complete for the config is reused; one line per dataset gives its folder, files and size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..data.synthetic import DATASETS, DEFAULT_ROOT, PRESETS, SyntheticConfig, generate_all, read_manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="amd data", description="Write the synthetic datasets in the real layouts.")
    parser.add_argument("--profile", default="smoke", choices=sorted(PRESETS))
    parser.add_argument("--root", type=Path, default=None,
                        help="output folder (default: <repo>/data/generated/<profile>)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--force", action="store_true", help="rewrite even if complete")
    parser.add_argument("--verify", action="store_true", help="re-hash existing folders before reuse")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes rendering videos (the files are the same for any number)")
    args = parser.parse_args(argv)
    config = SyntheticConfig.profile(args.profile)
    if args.seed is not None:
        config = config.replace(seed=args.seed)
    root = args.root or DEFAULT_ROOT / args.profile
    start = time.perf_counter()
    paths = generate_all(root, config, force=args.force, verify=args.verify, workers=args.workers)
    for kind in DATASETS:
        summary = read_manifest(getattr(paths, kind)) or {}
        print(f"{kind:12s} {getattr(paths, kind)}  {summary.get('num_files')} files, "
              f"{summary.get('num_bytes', 0) / 1e6:.1f} MB")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
