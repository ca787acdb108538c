"""Config files: discovery walking up, pyproject [tool.msp-audit], precedence, --config, --isolated, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.cli import app
from audit_cli.config import discover_config, read_config, resolve_score_settings
from audit_cli.errors import ConfigError, UsageError

from conftest import BASE_TEMPLATE, assert_valid_results, write_json

runner = CliRunner()


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def case(ref: str, q1: str = "yes") -> dict[str, Any]:
    return {"case": {"ref": ref, "lacked": "No"}, "answers": {"Q1": q1, "Q2": "yes", "Q3": "Excellent", "Q4": "yes"}}


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """root/ (msp-audit.toml) > proj/ (pyproject with table) > sub/ > deeper/ ; working folder: tmp_path."""
    root = tmp_path / "root"
    (root / "proj" / "sub" / "deeper").mkdir(parents=True)
    (root / "msp-audit.toml").write_text('label = "from root"\ngates = ["mean >= 50"]\n', encoding="utf-8")
    (root / "proj" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.msp-audit]\nlabel = "from pyproject"\nout = "reports"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return root


# --------------------------------------------------------------------------- discovery


def test_nearest_config_wins_walking_up(tree: Path) -> None:
    assert discover_config(tree / "proj" / "sub" / "deeper") == (tree / "proj" / "pyproject.toml").resolve()
    assert discover_config(tree / "proj") == (tree / "proj" / "pyproject.toml").resolve()
    assert discover_config(tree) == (tree / "msp-audit.toml").resolve()
    # A nearer msp-audit.toml beats the pyproject above it.
    (tree / "proj" / "sub" / "msp-audit.toml").write_text('label = "from sub"\n', encoding="utf-8")
    assert discover_config(tree / "proj" / "sub" / "deeper") == (tree / "proj" / "sub" / "msp-audit.toml").resolve()


def test_msp_audit_toml_beats_pyproject_in_the_same_folder(tree: Path) -> None:
    (tree / "proj" / "msp-audit.toml").write_text('label = "own file"\n', encoding="utf-8")
    assert discover_config(tree / "proj") == (tree / "proj" / "msp-audit.toml").resolve()


def test_pyproject_without_the_table_does_not_count(tree: Path) -> None:
    (tree / "proj" / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n', encoding="utf-8")
    assert discover_config(tree / "proj" / "sub") == (tree / "msp-audit.toml").resolve()
    s = resolve_score_settings({}, None, False, tree / "proj" / "sub")
    assert s.label == "from root" and s.config == (tree / "msp-audit.toml").resolve()


def test_files_are_never_merged(tree: Path) -> None:
    # root sets gates; the nearer pyproject does not, so the run has no gates at all.
    s = resolve_score_settings({}, None, False, tree / "proj" / "sub")
    assert s.label == "from pyproject"
    assert s.gates == []
    assert s.out == (tree / "proj" / "reports").resolve()


def test_no_config_anywhere_gives_defaults(tmp_path: Path) -> None:
    s = resolve_score_settings({}, None, False, tmp_path)
    assert s.config is None and s.out == Path("audit-output") and s.gates == [] and s.format == "table"


# --------------------------------------------------------------------------- values and precedence


def test_every_key_and_paths_relative_to_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "cfg" / "msp-audit.toml"
    conf.parent.mkdir()
    conf.write_text(
        "\n".join([
            'inputs = ["cases", "/abs/more"]',
            'template = "templates/custom.json"',
            'out = "../out"',
            "jobs = 3",
            'label = "2026 Q2"',
            'gates = ["mean >= 70", "step:1 >= 60"]',
            "fail_under = 72.5",
            'pseudonymise = "key.txt"',
            "suppress_small = true",
            "per_case = false",
            'junit = "ci/junit.xml"',
            'docx = "board.docx"',
            'format = "markdown"',
            "exit_zero = true",
            "quiet = true",
            "verbose = false",
        ]),
        encoding="utf-8",
    )
    base = conf.parent.resolve()
    s = resolve_score_settings({}, conf, False, tmp_path / "elsewhere")
    assert s.paths == [base / "cases", Path("/abs/more")]
    assert s.template == str(base / "templates" / "custom.json")
    assert s.out == base / ".." / "out"
    assert (s.jobs, s.label, s.gates, s.fail_under) == (3, "2026 Q2", ["mean >= 70", "step:1 >= 60"], 72.5)
    assert s.pseudonymise == base / "key.txt"
    assert (s.suppress_small, s.per_case, s.exit_zero, s.quiet, s.verbose) == (True, False, True, True, False)
    assert (s.junit, s.docx, s.format) == (base / "ci" / "junit.xml", base / "board.docx", "markdown")


def test_bundled_template_id_stays_an_id(tmp_path: Path) -> None:
    (tmp_path / "msp-audit.toml").write_text('template = "msp-core"\n', encoding="utf-8")
    assert resolve_score_settings({}, None, False, tmp_path).template == "msp-core"


def test_flags_override_the_file(tree: Path) -> None:
    flags = {"label": "from flag", "out": Path("flag-out"), "gates": None, "format": "json", "quiet": None}
    s = resolve_score_settings(flags, None, False, tree)
    assert s.label == "from flag" and s.out == Path("flag-out") and s.format == "json"
    assert s.gates == ["mean >= 50"]  # not given on the command line: the file's value stays


def test_explicit_config_and_isolated(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('label = "explicit"\n', encoding="utf-8")
    assert resolve_score_settings({}, other, False, tree / "proj").label == "explicit"
    # --config relative to the working folder
    assert resolve_score_settings({}, Path("other.toml"), False, tmp_path).label == "explicit"
    # an explicit pyproject.toml is read for its table
    assert resolve_score_settings({}, tree / "proj" / "pyproject.toml", False, tmp_path).label == "from pyproject"
    iso = resolve_score_settings({}, None, True, tree / "proj")
    assert iso.label is None and iso.config is None
    with pytest.raises(UsageError, match="--config and --isolated cannot be used together"):
        resolve_score_settings({}, other, True, tree)


def test_explicit_config_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        read_config(tmp_path / "nope.toml")
    py = tmp_path / "pyproject.toml"
    py.write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: has no \[tool\.msp-audit\] table"):
        read_config(py)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('gates = ["mean >= 75", 5]\n', "msp-audit.toml: gates[1]: 5 is not of type 'string'"),
        ('ouput = "x"\n', "msp-audit.toml: unknown key 'ouput' (did you mean 'out'?)"),
        ("jobs = 0\n", "msp-audit.toml: jobs: 0 is less than the minimum of 1"),
        ('jobs = "four"\n', "msp-audit.toml: jobs: 'four' is not of type 'integer'"),
        ('format = "xml"\n', "msp-audit.toml: format: 'xml' is not one of ['table', 'json', 'markdown']"),
        ("quiet = 1\n", "msp-audit.toml: quiet: 1 is not of type 'boolean'"),
        ('inputs = "cases"\n', "msp-audit.toml: inputs: 'cases' is not of type 'array'"),
        ("fail_under = 120\n", "msp-audit.toml: fail_under: 120 is greater than the maximum of 100"),
        ("zzz = 1\n", "msp-audit.toml: unknown key 'zzz' (known keys: docx, exit_zero,"),
        ("label = \n", "msp-audit.toml: not valid TOML: Invalid value (at line 1, column 9)"),
    ],
)
def test_schema_errors_name_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "msp-audit.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve_score_settings({}, None, False, tmp_path)
    assert str(info.value).startswith(message)


def test_every_problem_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "msp-audit.toml").write_text('ouput = "x"\ngates = [1, "mean >= 2", 3]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve_score_settings({}, None, False, tmp_path)
    assert str(info.value) == (
        "msp-audit.toml: unknown key 'ouput' (did you mean 'out'?); "
        "msp-audit.toml: gates[0]: 1 is not of type 'string'; "
        "msp-audit.toml: gates[2]: 3 is not of type 'string'"
    )


def test_pyproject_errors_name_the_table_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.msp-audit]\njobs = 0\nlable = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        resolve_score_settings({}, None, False, tmp_path)
    assert str(info.value) == (
        "pyproject.toml: unknown key 'tool.msp-audit.lable' (did you mean 'label'?); "
        "pyproject.toml: tool.msp-audit.jobs: 0 is less than the minimum of 1"
    )


# --------------------------------------------------------------------------- the command


@pytest.fixture()
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scheduled job's folder: the config and the cases, run from a subfolder."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    write_json(tmp_path / "cases" / "a.json", case("A-1"))
    write_json(tmp_path / "cases" / "b.json", case("B-1", "partly"))  # 75.0 -> mean 87.5
    tpl = tmp_path / "tpl" / "mini.json"
    tpl.parent.mkdir()
    tpl.write_text(BASE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "msp-audit.toml").write_text(
        'inputs = ["cases"]\ntemplate = "tpl/mini.json"\nout = "out"\nlabel = "2026 Q1"\n'
        'gates = ["mean >= 80", "step:1 >= 50"]\njunit = "out/junit.xml"\n',
        encoding="utf-8",
    )
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def test_a_run_with_only_a_config_file(job: Path) -> None:
    res = invoke("score")
    assert res.exit_code == 0, res.output
    doc = json.loads((job / "out" / "results.json").read_text(encoding="utf-8"))
    assert_valid_results(doc)
    assert doc["run"]["label"] == "2026 Q1"
    assert [c["id"] for c in doc["cases"]] == ["A-1", "B-1"]
    assert [(g["gate"], g["value"], g["passed"]) for g in doc["gates"]] == [
        ("mean >= 80", 87.5, True), ("step:1 >= 50", 81.25, True)  # (100 + 62.5) / 2
    ]
    assert (job / "out" / "junit.xml").is_file()
    assert not (job / "work" / "audit-output").exists()


def test_flags_override_the_config_on_the_command_line(job: Path) -> None:
    res = invoke("score", "--label", "override", "--fail-under", "90", "-o", "here")
    assert res.exit_code == 1
    assert "gate failed: mean >= 90 (value: 87.5)" in res.stderr
    doc = json.loads(Path("here/results.json").read_text(encoding="utf-8"))
    assert doc["run"]["label"] == "override"
    assert [g["gate"] for g in doc["gates"]] == ["mean >= 80", "step:1 >= 50", "mean >= 90"]


def test_isolated_ignores_the_config(job: Path) -> None:
    res = invoke("score", "--isolated")
    assert res.exit_code == 2
    assert "no case files or folders given" in res.stderr
    res = invoke("score", "--isolated", job / "cases", "-t", BASE_TEMPLATE, "-o", "iso")
    assert res.exit_code == 0
    doc = json.loads(Path("iso/results.json").read_text(encoding="utf-8"))
    assert doc["run"]["label"] is None and doc["gates"] == []


def test_config_option_names_the_file(job: Path) -> None:
    (job / "other.toml").write_text(
        f'inputs = ["cases/a.json"]\ntemplate = "{BASE_TEMPLATE.as_posix()}"\nout = "other-out"\nlabel = "other"\n',
        encoding="utf-8",
    )
    res = invoke("score", "--config", job / "other.toml")
    assert res.exit_code == 0, res.output
    doc = json.loads((job / "other-out" / "results.json").read_text(encoding="utf-8"))
    assert doc["run"]["label"] == "other" and [c["id"] for c in doc["cases"]] == ["A-1"]
    assert invoke("score", "--config", job / "other.toml", "--isolated").exit_code == 2


def test_bad_config_exits_2_and_writes_nothing(job: Path) -> None:
    (job / "msp-audit.toml").write_text('inputs = ["cases"]\nout = "out"\ngates = ["mean >= 1", 5]\n', encoding="utf-8")
    res = invoke("score")
    assert res.exit_code == 2
    assert res.stderr.strip() == f"msp-audit: {(job / 'msp-audit.toml').as_posix()}: gates[1]: 5 is not of type 'string'"
    assert not (job / "out").exists()
    (job / "msp-audit.toml").write_text('inputs = ["cases"]\nouput = "out"\n', encoding="utf-8")
    res = invoke("score")
    assert res.exit_code == 2
    assert "msp-audit.toml: unknown key 'ouput' (did you mean 'out'?)" in res.stderr
    assert not (job / "work" / "audit-output").exists()


def test_a_gate_in_the_config_on_an_unknown_item_exits_2(job: Path) -> None:
    (job / "msp-audit.toml").write_text(
        'inputs = ["cases"]\ntemplate = "tpl/mini.json"\nout = "out"\ngates = ["step:9 >= 1"]\n', encoding="utf-8"
    )
    res = invoke("score")
    assert res.exit_code == 2 and "step '9' is not in mini (1, 2, 3)" in res.stderr
    assert not (job / "out").exists()
