"""`cpfnet ARGS` run in the test's own process: the same command as `hostile_support.run_cli` without an
interpreter start-up and imports per case (1.5-3 s each on this machine), for catalogue cases that need no
process of their own (no signals, no C-level stderr)."""

from __future__ import annotations

import subprocess

from cpfnet.cli import main


def run_in_process(capsys, *args) -> subprocess.CompletedProcess:
    """The command's exit code and captured output, as a CompletedProcess for `assert_one_line_error`."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)
