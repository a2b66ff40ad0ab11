"""The `cpfnet` command: parses arguments and hands over to `cpfnet.commands.<name>`.

Command modules import their heavy dependencies (torch, mediapipe) inside `run`, so `cpfnet --help`
answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from cpfnet import __version__, signals
from cpfnet.errors import UserError, disk_error_message, is_disk_error

# Each name is a module cpfnet.commands.<name> with `add_arguments(parser)`, `run(args) -> int` and a
# docstring whose first line is the help text.
COMMANDS: list[str] = ["evaluate", "train", "prepare", "transfer", "synth", "demo", "study"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage dump is noise for a one-line error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cpfnet", description="CPF-Net: make the person in a photo dance like a video.")
    parser.add_argument("--version", action="version", version=f"cpfnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"cpfnet.commands.{name.replace('-', '_')}")
        doc = (module.__doc__ or "").strip().splitlines()
        summary = doc[0] if doc else name
        cmd = sub.add_parser(name, help=summary, description="\n".join(doc) or None,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _output_of(args: argparse.Namespace) -> str | None:
    """The command's output option (--out or --runs), to name when an OSError carries no path."""
    for name in ("out", "runs"):
        if getattr(args, name, None):
            return str(getattr(args, name))
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        with signals.sigterm_raises():  # kill PID cleans up as Ctrl-C does
            try:
                code = int(args._run(args) or 0)
            except Exception as exc:
                signals.reraise_if_terminated(exc)
                raise
            signals.check()  # a SIGTERM that a library swallowed: still not a success
            return code
    except UserError as exc:  # one line, whatever a message quotes (a YAML key may hold a newline)
        print(f"cpfnet {args.command}: error: {' '.join(str(exc).splitlines())}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only or missing folder: where the output goes, not a bug
        if not is_disk_error(exc):
            raise
        print(f"cpfnet {args.command}: error: {disk_error_message(exc, _output_of(args))}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"cpfnet {args.command}: error: out of memory; use a smaller --size, --batch-size or config, or a "
              "machine with more memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        what, code = signals.exit_code(exc)
        print(f"cpfnet {args.command}: interrupted ({what})", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
