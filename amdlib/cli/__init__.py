"""The `amd` command: `amd train ...`, `amd segment VIDEO --checkpoint CKPT --out DIR`,
`amd download {list,fetch NAME,youtube-vos}` and `amd data --profile cpu`.

Expected problems with the user's input (a missing or unreadable file, an empty folder, a bad
checkpoint, an invalid option value) end the command with one line on stderr,
`amd COMMAND: <file>: <problem>`, and exit status 1; anything else keeps its traceback.
"""

from __future__ import annotations

import sys

COMMANDS = {
    "train": ("amdlib.cli.train", "train AMD on unlabeled video (synthetic by default; --resume continues a run)"),
    "segment": ("amdlib.cli.segment", "segment the moving object of your own video or frame folder"),
    "download": ("amdlib.cli.download", "fetch and verify the real datasets and the released checkpoint"),
    "data": ("amdlib.cli.data", "write the synthetic datasets in the real datasets' layouts"),
}


class CommandError(Exception):
    """A problem with the user's input that the command reports in one line, without a traceback."""


EXPECTED_ERRORS = (CommandError, ValueError, OSError)
"""Exception types reported in one line: input errors (`DatasetError`, `VideoReadError` and
`CheckpointError` are ValueErrors; missing files are OSErrors)."""


def usage() -> str:
    """`amd`'s help: one line per subcommand."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: amd {" + ",".join(COMMANDS) + "} [options]   (amd COMMAND --help for its options)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def one_line(error: BaseException) -> str:
    """The error's message on one line (its first line; the type name when it has no message)."""
    text = str(error).strip()
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        text = f"{error.filename}: {error.strerror}"
    return text.splitlines()[0] if text else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; exit status 0 on success, 1 on an expected error, 2 on bad usage."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(usage() if not argv else f"amd: unknown command {argv[0]!r}\n{usage()}", file=sys.stderr)
        return 2
    module = __import__(COMMANDS[argv[0]][0], fromlist=["main"])
    try:
        status = module.main(argv[1:])
    except EXPECTED_ERRORS as error:
        print(f"amd {argv[0]}: {one_line(error)}", file=sys.stderr)
        return 1
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
