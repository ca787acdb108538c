"""Progress on stderr: only when it is a terminal, never with -q or --format json."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from audit_cli.cli.score import progress_bar
from audit_cli.model import InputRecord


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_disabled_or_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with progress_bar(enabled=False) as update:
        assert update is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bar(enabled=True) as update:
        assert update is None


def test_bar_counts_files_cases_and_rejections(monkeypatch: pytest.MonkeyPatch) -> None:
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setenv("COLUMNS", "150")
    seen: list[Any] = []
    with progress_bar(enabled=True) as update:
        assert update is not None
        update(InputRecord("a.json", "0" * 64, "read", cases=3), 1, 2)
        update(InputRecord("b.xlsx", None, "rejected", error="bad"), 2, 2)
        seen.append(True)
    out = term.getvalue()
    assert seen and "2/2" in out and "files" in out
    assert "3 cases, 1 rejected" in out


def test_score_stays_silent_with_json(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """--format json keeps stdout to exactly one JSON document, and no bar on stderr."""
    import json

    from typer.testing import CliRunner

    from audit_cli.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.json").write_text(json.dumps({"case": {"case_ref": "C-1"}, "answers": {"A1": "yes"}}), encoding="utf-8")
    res = CliRunner().invoke(app, ["score", "c.json", "-o", "out", "-f", "json"])
    assert json.loads(res.stdout)["cases"][0]["id"] == "C-1"
    assert "scoring" not in res.stderr
