"""What `lambda-executor --help` and each command's `--help` tell a newcomer: what the command
does, what each option does and what it is when left out; and counts worded as English has them."""

import argparse
import subprocess
import sys

import pytest
from lambda_executor import LambdaExecutor, LocalLambda
from lambda_executor.cli import command_parser, main
from lambda_executor.cli.words import counted

PARSER = command_parser()
COMMANDS = next(action for action in PARSER._actions if isinstance(action, argparse._SubParsersAction))
WITHOUT_HELP_TEXT = (argparse._HelpAction, argparse._SubParsersAction)


def _help_of(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def _shown_default(action):
    """The default an option's help must state: None, False and nothing (an empty list) state
    themselves ("left out: ..."); a whole float may be written as an int ("300" for 300.0)."""
    default = action.default
    if default is None or default is argparse.SUPPRESS or isinstance(default, bool) or default == []:
        return None
    if isinstance(default, float) and default.is_integer():
        return (str(default), str(int(default)))
    return (str(default),)


def test_the_command_list_describes_every_command(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")
    text = _help_of([], capsys)
    for listed in COMMANDS._choices_actions:
        assert listed.help, f"{listed.dest} has no line in the command list"
        assert f"{listed.dest} " in text and listed.help in text


@pytest.mark.parametrize("name", sorted(COMMANDS.choices))
def test_a_command_help_opens_with_what_it_does(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line a paragraph: argparse wraps at hyphens too
    command = COMMANDS.choices[name]
    assert command.description, f"{name} has no description"
    text = " ".join(_help_of([name], capsys).split())
    assert " ".join(command.description.split()) in text


@pytest.mark.parametrize("name", sorted(COMMANDS.choices))
def test_every_option_says_what_it_does_and_its_default(name):
    command = COMMANDS.choices[name]
    formatter = command._get_formatter()
    for action in command._actions:
        if isinstance(action, WITHOUT_HELP_TEXT):
            continue
        option = "/".join(action.option_strings) or action.metavar or action.dest
        assert action.help and action.help.strip(), f"{name} {option} has no help text"
        shown = formatter._expand_help(action)
        default = _shown_default(action)
        if default is not None:
            assert "default" in shown and any(form in shown for form in default), (
                f"{name} {option}: its help does not state its default {action.default!r}: {shown!r}"
            )


def test_a_command_help_states_defaults_in_a_process_of_its_own():
    result = subprocess.run(
        [sys.executable, "-m", "lambda_executor", "local", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "--account-concurrency" in result.stdout and "(default 1000" in result.stdout


@pytest.mark.parametrize(
    ("count", "noun", "worded"),
    [
        (0, "function", "0 functions"),
        (1, "function", "1 function"),
        (2, "function", "2 functions"),
        (1, "failed call", "1 failed call"),
        (12_345, "byte", "12,345 bytes"),
    ],
)
def test_counts_are_worded_singular_for_one(count, noun, worded):
    assert counted(count, noun) == worded


def test_the_journal_report_says_1_function(tmp_path, capsys):
    journal = tmp_path / "run.journal"
    with LocalLambda() as local:
        local.add_synthetic("echo")
        with LambdaExecutor(endpoint_url=local.endpoint_url, region="us-east-1", journal=journal) as executor:
            assert executor.submit("echo", {"n": 1}).result() == {"n": 1}
    assert main(["journal", str(journal)]) == 0
    assert f"{journal}: 1 invocation of 1 function\n" in capsys.readouterr().out
    assert main(["journal", str(journal), "--export", str(tmp_path / "results.jsonl")]) == 0
    assert "wrote 1 result to" in capsys.readouterr().out
