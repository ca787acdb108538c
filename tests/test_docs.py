"""Docs stay honest: every command has help with an example, and the README describes every
command and option (as sqlite-utils does); CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from audit_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(cmd: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    cmd = cmd or typer.main.get_command(app)
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from commands(sub, (*path, name))
    else:
        yield path, cmd


ALL = list(commands())
IDS = [" ".join(p) for p, _ in ALL]


def test_there_are_commands() -> None:
    assert {"score", "validate", "templates list", "templates show", "templates validate"} <= set(IDS)


@pytest.mark.parametrize("path,cmd", ALL, ids=IDS)
def test_every_command_has_help_with_an_example(path: tuple[str, ...], cmd: Any) -> None:
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Example: msp-audit " + " ".join(path) in res.output


@pytest.mark.parametrize("path,cmd", ALL, ids=IDS)
def test_readme_describes_every_command_and_option(path: tuple[str, ...], cmd: Any) -> None:
    assert f"msp-audit {' '.join(path)}" in README, f"README does not show 'msp-audit {' '.join(path)}'"
    section = readme_section(" ".join(path))
    for param in cmd.params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        assert any(o in section for o in longs), f"README section for {' '.join(path)} does not describe {longs}"


def readme_section(command: str) -> str:
    """The README's text under the heading for a command (### `msp-audit COMMAND`)."""
    pattern = re.compile(r"^#{2,4} `msp-audit " + re.escape(command) + r"[ `].*?$(.*?)(?=^#{2,4} |\Z)", re.M | re.S)
    m = pattern.search(README)
    assert m, f"README has no heading for msp-audit {command}"
    return m.group(1)


def test_quick_start_has_exactly_two_setup_commands_and_ci_runs_the_test_one() -> None:
    quick = re.search(r"## Quick start(.*?)(?=^## )", README, re.S | re.M)
    assert quick
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", quick.group(1), re.S)
    lines = [ln for b in blocks for ln in b.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert len(lines) == 2, lines
    assert "samples/" in lines[0] and "msp-audit score" in lines[0]
    assert "pytest" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1].strip() in ci
