"""Shared fixtures: templates, a results-schema check, and helpers to run the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from audit_cli.model import Template
from audit_cli.resources import validator
from audit_cli.templates import load_template, template_from_dict

TESTS = Path(__file__).parent
BASE_TEMPLATE = TESTS / "scoring_base_template.json"


def base_template_doc() -> dict[str, Any]:
    return copy.deepcopy(json.loads(BASE_TEMPLATE.read_text(encoding="utf-8")))


def assert_valid_results(doc: dict[str, Any]) -> None:
    """Every results document the tests produce must satisfy schemas/results.schema.json."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator("results").iter_errors(doc)]
    assert not errors, errors


@pytest.fixture(scope="session")
def msp_core() -> Template:
    return load_template("msp-core")


@pytest.fixture()
def mini_doc() -> dict[str, Any]:
    return base_template_doc()


@pytest.fixture(scope="session")
def mini() -> Template:
    return template_from_dict(base_template_doc(), "mini")


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _every_results_document_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every results.json any test makes through the CLI is checked against the results schema."""
    from audit_cli.writers import results_json

    real = results_json.write_results

    def checked(doc: dict[str, Any], out_dir: Path) -> Path:
        path = real(doc, out_dir)
        assert_valid_results(json.loads(path.read_text(encoding="utf-8")))
        return path

    monkeypatch.setattr(results_json, "write_results", checked)
