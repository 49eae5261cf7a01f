"""The `amd` command: `amd train ...`, `amd segment VIDEO --checkpoint CKPT --out DIR` and
`amd download {list,fetch NAME,youtube-vos}`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"train": "amdlib.cli.train", "segment": "amdlib.cli.segment", "download": "amdlib.io.download"}
    if not argv or argv[0] not in commands:
        print("usage: amd {" + ",".join(commands) + "} [options]   (amd COMMAND --help for its options)",
              file=sys.stderr)
        return 2
    module = __import__(commands[argv[0]], fromlist=["main"])
    status = module.main(argv[1:])
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
