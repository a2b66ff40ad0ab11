"""The command line: help, unknown commands, one-line errors."""

import subprocess
import sys

from cpfnet.cli import COMMANDS, build_parser


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cpfnet.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_command():
    result = _run("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_every_command_has_help():
    parser = build_parser()
    for name in COMMANDS:
        result = _run(name, "--help")
        assert result.returncode == 0 and "usage: cpfnet " + name in result.stdout
    assert parser.prog == "cpfnet"


def test_unknown_command_is_a_one_line_error():
    result = _run("dance-now")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_device_option_is_checked():
    import pytest
    import torch

    from cpfnet.device import resolve_device
    from cpfnet.errors import UserError

    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match="not a torch device"):
        resolve_device("gpu0")
    with pytest.raises(UserError, match="cpu or cuda"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda")
