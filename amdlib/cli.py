"""The `amd` command: `amd train ...` and `amd segment VIDEO --checkpoint CKPT --out DIR`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"train": "amdlib.train", "segment": "amdlib.segment"}
    if not argv or argv[0] not in commands:
        print("usage: amd {" + ",".join(commands) + "} [options]   (amd COMMAND --help for its options)",
              file=sys.stderr)
        return 2
    module = __import__(commands[argv[0]], fromlist=["main"])
    module.main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
