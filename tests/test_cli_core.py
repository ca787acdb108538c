"""The CLI as the library: exit codes, gates, JSON output equal to run_audit, validate, templates."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.templates import load_template

from conftest import BASE_TEMPLATE, assert_valid_results, write_json

runner = CliRunner()


def good_case(ref: str, answer: str = "yes", **fields: Any) -> dict[str, Any]:
    return {"case": {"ref": ref, "lacked": "No", **fields},
            "answers": {"Q1": answer, "Q2": "yes", "Q3": "Excellent", "Q4": "yes"}}


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    cases = tmp_path / "cases"
    write_json(cases / "a.json", good_case("A-1", team="North"))
    write_json(cases / "sub" / "b.json", good_case("B-1", "partly", team="South"))
    (cases / "~$a.json").write_text("lock", encoding="utf-8")
    (cases / ".hidden.json").write_text("{}", encoding="utf-8")
    (cases / "notes.txt").write_text("hello", encoding="utf-8")
    (cases / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    return cases


def invoke(*args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def test_score_clean_run_exits_0(folder: Path) -> None:
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out")
    assert res.exit_code == 0, res.output
    doc = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    assert_valid_results(doc)
    assert [c["id"] for c in doc["cases"]] == ["A-1", "B-1"]
    assert [c["source"] for c in doc["cases"]] == ["cases/a.json", "cases/sub/b.json"]
    statuses = {i["path"]: (i["status"], i["note"]) for i in doc["inputs"]}
    assert statuses["cases/a.json"] == ("read", None)
    assert statuses["cases/old.xls"][0] == "skipped" and "save it as .xlsx" in statuses["cases/old.xls"][1]
    assert statuses["cases/notes.txt"][0] == "skipped"
    assert not any("~$" in p or ".hidden" in p for p in statuses)
    assert "Mean score" in res.stdout


def test_json_output_equals_library_result(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "-f", "json")
    assert res.exit_code == 0
    cli_doc = json.loads(res.stdout)
    lib_doc = run_audit([folder], load_template(BASE_TEMPLATE), RunOptions(out_dir=Path("out"))).to_dict()
    lib_doc["gates"] = []
    assert cli_doc == lib_doc
    assert_valid_results(cli_doc)
    assert json.loads(Path("out/results.json").read_text(encoding="utf-8")) == cli_doc


def test_case_error_exits_1_and_exit_zero_hides_it(folder: Path) -> None:
    write_json(folder / "c.json", good_case("C-1", "Maybe"))
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out")
    assert res.exit_code == 1
    assert "cases/c.json: answers.Q1: error: 'Maybe' is not an answer for Q1" in res.stderr
    doc = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    c = next(c for c in doc["cases"] if c["id"] == "C-1")
    assert c["criteria"]["Q1"]["status"] == "unanswered" and c["score"] == 100.0
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--exit-zero").exit_code == 0


def test_rejected_file_exits_1_and_the_run_goes_on(folder: Path) -> None:
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out")
    assert res.exit_code == 1
    assert "cases/broken.json: rejected: not valid JSON at line 1, column 2" in res.stderr
    doc = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    assert doc["rejected"] == [{"path": "cases/broken.json", "error": "not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"}]
    assert len(doc["cases"]) == 2


def test_fail_under(folder: Path) -> None:
    # A-1 scores 100, B-1 scores 100*(1.5+1+2)/6 = 75 -> mean 87.5
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--fail-under", "90")
    assert res.exit_code == 1
    assert "gate failed: mean >= 90 (value: 87.5)" in res.stderr
    doc = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    (g,) = doc["gates"]
    assert (g["gate"], g["value"], g["passed"]) == ("mean >= 90", 87.5, False)
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--fail-under", "87.5").exit_code == 0
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--fail-under", "90", "--exit-zero").exit_code == 0


def test_usage_errors_exit_2_and_write_nothing(folder: Path, tmp_path: Path) -> None:
    bad = write_json(tmp_path / "bad-template.json", {"id": "x"})
    res = invoke("score", folder, "-t", bad, "-o", "out1")
    assert res.exit_code == 2 and "is not valid" in res.stderr and "'version' is a required property" in res.stderr
    assert not Path("out1").exists()
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out2", "--gate", "step:10 >= 5")
    assert res.exit_code == 2 and "step '10' is not in mini" in res.stderr
    assert not Path("out2").exists()
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out3", "--exit-zero", "--gate", "nonsense").exit_code == 2
    Path("afile").write_text("x", encoding="utf-8")
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "afile").exit_code == 2
    assert invoke("score", folder, "-t", "no-such-template").exit_code == 2
    assert invoke("score", "-t", BASE_TEMPLATE).exit_code == 2


def test_output_folder_is_never_read(folder: Path) -> None:
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", folder / "out").exit_code == 0
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", folder / "out", "-f", "json")
    doc = json.loads(res.stdout)
    assert not any("out/" in i["path"] for i in doc["inputs"])
    assert len(doc["cases"]) == 2


def test_validate_lists_every_problem_and_writes_nothing(folder: Path) -> None:
    write_json(folder / "c.json", {"case": {"ref": "C-1", "closed": "31/02/2026"}, "answers": {"Q1": "Maybe"}})
    before = sorted(p for p in Path(".").rglob("*"))
    res = invoke("validate", folder, "-t", BASE_TEMPLATE)
    assert res.exit_code == 1
    assert "cases/c.json: case.closed: error: Closed: '31/02/2026' is not a real date" in res.stdout
    assert "cases/c.json: answers.Q1: error: 'Maybe' is not an answer for Q1" in res.stdout
    assert "cases/c.json: warning: Q2 is not answered" in res.stdout
    assert sorted(p for p in Path(".").rglob("*")) == before
    res = invoke("validate", folder / "a.json", "-t", BASE_TEMPLATE, "-f", "json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["problems"] == []


def test_templates_commands(tmp_path: Path) -> None:
    res = invoke("templates", "list")
    assert res.exit_code == 0 and "msp-core" in res.stdout and "28" in res.stdout
    res = invoke("templates", "show", "msp-core")
    assert res.exit_code == 0 and "A1 (critical)" in res.stdout and "I am asked what I want" in res.stdout
    res = invoke("templates", "show", "msp-core", "--json")
    assert json.loads(res.stdout)["id"] == "msp-core"
    assert invoke("templates", "validate", BASE_TEMPLATE).exit_code == 0
    doc = json.loads(BASE_TEMPLATE.read_text(encoding="utf-8"))
    doc["sections"][0]["criteria"][1]["map"]["step"].append("10")
    doc["scoring"]["critical_cap"] = "Poor"
    bad = write_json(tmp_path / "t.json", doc)
    res = invoke("templates", "validate", bad)
    assert res.exit_code == 2
    assert "/sections/0/criteria/1/map/step/2: step '10' is not declared" in res.stderr
    assert "/scoring/critical_cap: 'Poor' is not a band label" in res.stderr


def test_python_dash_m_works() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "audit_cli", "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "120"})
    assert out.returncode == 0 and "score" in out.stdout


def test_case_text_quoted_in_errors_stays_out_of_shared_outputs(folder: Path) -> None:
    """The terminal shows what was typed (SPEC 4's example); results.json and the board workbook withhold it."""
    import zipfile

    write_json(folder / "leak.json", {"case": {"ref": "L-1", "lacked": "Zelda Quarrington said yes", "closed": "Zelda's day"},
                                      "answers": {"Q1": "Yes - Zelda Quarrington wants to stay home", "Q2": "yes"}})
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out")
    assert res.exit_code == 1
    assert "cases/leak.json: answers.Q1: error: 'Yes - Zelda Quarrington wants to stay h…' is not an answer for Q1" in res.stderr
    assert "cases/leak.json: case.lacked: error: Lacked capacity: 'Zelda Quarrington said yes' is not one of" in res.stderr
    results = Path("out/results.json").read_text(encoding="utf-8")
    assert "Zelda" not in results
    assert "this value is not an answer for Q1 (Yes, Partly, No, Not applicable, Unable to determine)" in results
    with zipfile.ZipFile("out/aggregate.xlsx") as zf:
        assert not any("Zelda" in zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    res = invoke("validate", folder / "leak.json", "-t", BASE_TEMPLATE)
    assert "'Yes - Zelda Quarrington wants to stay h…' is not an answer for Q1" in res.stdout


def test_missing_input_or_unwritable_report_path_is_a_usage_error(folder: Path) -> None:
    res = invoke("score", folder / "nope", "-t", BASE_TEMPLATE, "-o", "out")
    assert res.exit_code == 2 and "no such file or folder" in res.stderr
    assert not Path("out").exists()
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--docx", "no/such/folder/board.docx")
    assert res.exit_code == 0  # missing folders are created
    Path("afile").write_text("x", encoding="utf-8")
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out2", "--junit", "afile/junit.xml")
    assert res.exit_code == 2 and "its folder cannot be created or written to" in res.stderr
    assert not Path("out2").exists()


def test_fail_under_keeps_its_exact_threshold(folder: Path) -> None:
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--fail-under", "87.50001")
    assert res.exit_code == 1 and "gate failed: mean >= 87.50001" in res.stderr
    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--fail-under", "1e-5").exit_code == 0


def test_outputs_get_the_users_usual_permissions(folder: Path) -> None:
    import os
    import stat

    assert invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out").exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    workbooks = sorted(Path("out/cases").glob("*.xlsx"))
    assert workbooks
    for p in (Path("out/results.json"), Path("out/aggregate.xlsx"), *workbooks):
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
