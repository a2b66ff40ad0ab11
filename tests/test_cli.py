"""The command line: help for every option, arguments and exit codes passed through, one-line errors."""

import argparse
import subprocess
import sys

import pytest

from cpfnet.cli import COMMANDS, build_parser, main
from cpfnet.errors import UserError


def _run(*args):
    return subprocess.run([sys.executable, "-m", "cpfnet.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_command():
    result = _run("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def _commands(parser, prefix=()):
    """(names, parser) of every command and subcommand, e.g. (("evaluate", "table"), <parser>)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_command_documents_every_option(capsys):
    commands = dict(_commands(build_parser()))
    assert {names[0] for names in commands} == set(COMMANDS) and ("evaluate", "table") in commands
    for names, parser in commands.items():
        with pytest.raises(SystemExit) as exit_:
            main([*names, "--help"])
        out = capsys.readouterr().out
        assert exit_.value.code == 0 and out.startswith("usage: cpfnet " + " ".join(names)), names
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (names, action.dest)
            for option in action.option_strings or [action.metavar or action.dest]:
                assert option in out, (names, option)


def test_arguments_reach_the_command_and_its_outcome_is_the_exit_code(monkeypatch, capsys):
    import cpfnet.commands.demo as demo

    seen = []

    def run(args):
        seen.append(args)
        if args.frames == 13:
            raise UserError("13 frames are unlucky")
        return args.seed

    monkeypatch.setattr(demo, "run", run)
    assert main(["demo", "--frames", "9", "--seed", "5", "--out", "x"]) == 5  # the command's own return value
    assert (seen[-1].frames, seen[-1].seed, seen[-1].out, seen[-1].command) == (9, 5, "x", "demo")
    assert main(["demo", "--seed", "0"]) == 0 and seen[-1].frames == 48  # defaults filled in
    assert main(["demo", "--frames", "13"]) == 2  # a UserError: exit code 2 and the message, no traceback
    assert capsys.readouterr().err == "cpfnet demo: error: 13 frames are unlucky\n"
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--frames", "nine"])
    assert exit_.value.code == 2 and "invalid int value: 'nine'" in capsys.readouterr().err
    assert len(seen) == 3  # a bad argument never reaches the command


def test_unknown_command_is_a_one_line_error():
    result = _run("dance-now")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_device_option_is_checked():
    import torch

    from cpfnet.device import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError, match="not a torch device"):
        resolve_device("gpu0")
    with pytest.raises(UserError, match="cpu or cuda"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda")
