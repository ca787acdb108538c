"""Gates: every form and operator, pass and fail, values, messages, and where results appear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.errors import UsageError
from audit_cli.gates import Gate, evaluate_gates, failure_message, parse_gate, shown_value
from audit_cli.model import Template

from conftest import BASE_TEMPLATE, assert_valid_results, write_json

runner = CliRunner()


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def case(ref: str, q1: str = "yes", q3: str = "Excellent") -> dict[str, Any]:
    return {"case": {"ref": ref, "lacked": "No"}, "answers": {"Q1": q1, "Q2": "yes", "Q3": q3, "Q4": "yes"}}


@pytest.fixture()
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scores 100 (Outstanding), 75 (Good), 50 (critical failure, Requires improvement); one file rejected.

    mean 75; step 1 (Q1 w3, Q2 w1): 100, 62.5, 25 -> 62.5; theme voice (Q1): 100, 50, 0 -> 50;
    principle protection (Q2 w1, Q3 w2): 100 each; section s2 (Q3): 100.
    """
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cases"
    write_json(folder / "a.json", case("A-1"))
    write_json(folder / "b.json", case("B-1", "partly"))
    write_json(folder / "c.json", case("C-1", "no"))
    (folder / "d.json").write_text("[1, 2", encoding="utf-8")
    return folder


@pytest.fixture()
def doc(cases: Path, mini: Template) -> dict[str, Any]:
    return run_audit([cases], mini, RunOptions()).to_dict()


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "canonical", "metric", "item", "op", "threshold"),
    [
        ("mean >= 75", "mean >= 75", "mean", None, ">=", 75.0),
        ("  Mean>=75.5 ", "mean >= 75.5", "mean", None, ">=", 75.5),
        ("critical_failures <= 2", "critical_failures <= 2", "critical_failures", None, "<=", 2.0),
        ("rejected == 0", "rejected == 0", "rejected", None, "==", 0.0),
        ("share:inadequate < 10", "share:Inadequate < 10", "share", "Inadequate", "<", 10.0),
        ("share: Requires improvement <= 40", "share:Requires improvement <= 40", "share", "Requires improvement", "<=", 40.0),
        ("step:1 > 60", "step:1 > 60", "step", "1", ">", 60.0),
        ("STEP:2>=1", "step:2 >= 1", "step", "2", ">=", 1.0),
        ("principle:Empowerment == 100", "principle:empowerment == 100", "principle", "empowerment", "==", 100.0),
        ("section:s2 >= 0", "section:s2 >= 0", "section", "s2", ">=", 0.0),
        ("theme:voice >= -1", "theme:voice >= -1", "theme", "voice", ">=", -1.0),
    ],
)
def test_every_form_parses(mini: Template, text: str, canonical: str, metric: str, item: str | None,
                           op: str, threshold: float) -> None:
    assert parse_gate(text, mini) == Gate(canonical, metric, item, op, threshold)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mean >", "gate 'mean >' is not 'METRIC OP NUMBER' (for example 'mean >= 75' or 'step:7 >= 70')"),
        ("mean => 5", "gate 'mean => 5' is not 'METRIC OP NUMBER'"),
        ("mean >= high", "gate 'mean >= high' is not 'METRIC OP NUMBER'"),
        ("median >= 3", "gate 'median >= 3': unknown measure 'median' (use mean, critical_failures, rejected, share:BAND or DIMENSION:ITEM)"),
        ("share:Bad <= 1", "gate 'share:Bad <= 1': 'Bad' is not a band of mini (Outstanding, Good, Requires improvement, Inadequate)"),
        ("colour:red >= 1", "gate 'colour:red >= 1': dimension 'colour' is not in mini (step, principle, theme, section)"),
        ("step:10 >= 5", "gate 'step:10 >= 5': step '10' is not in mini (1, 2, 3)"),
        ("principle:wellbeing >= 5", "gate 'principle:wellbeing >= 5': principle 'wellbeing' is not in mini (empowerment, protection)"),
    ],
)
def test_parse_errors_say_what_is_wrong(mini: Template, text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_gate(text, mini)
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------------- values and operators


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mean >= 0", 75.0),
        ("critical_failures >= 0", 1.0),
        ("rejected >= 0", 1.0),
        ("share:Outstanding >= 0", 100.0 / 3),
        ("share:Requires improvement >= 0", 100.0 / 3),
        ("share:Inadequate >= 0", 0.0),
        ("step:1 >= 0", 62.5),
        ("step:2 >= 0", 100.0),
        ("principle:empowerment >= 0", 62.5),
        ("principle:protection >= 0", 100.0),
        ("section:s1 >= 0", 62.5),
        ("section:s2 >= 0", 100.0),
        ("theme:voice >= 0", 50.0),
    ],
)
def test_values(mini: Template, doc: dict[str, Any], text: str, value: float) -> None:
    (result,) = evaluate_gates([parse_gate(text, mini)], doc)
    assert result["value"] == value
    assert result["passed"] is True


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("mean >= 75", True), ("mean >= 75.1", False),
        ("mean > 74.9", True), ("mean > 75", False),
        ("mean <= 75", True), ("mean <= 74.9", False),
        ("mean < 75.1", True), ("mean < 75", False),
        ("mean == 75", True), ("mean == 75.5", False),
        ("critical_failures <= 1", True), ("critical_failures < 1", False), ("critical_failures == 0", False),
        ("rejected == 1", True), ("rejected == 0", False),
        ("share:Good <= 33.4", True), ("share:Good <= 33.3", False),
        ("step:1 >= 62.5", True), ("step:1 > 62.5", False),
        ("theme:voice < 50.5", True), ("theme:voice < 50", False),
    ],
)
def test_every_operator_passes_and_fails_at_the_boundary(mini: Template, doc: dict[str, Any], text: str, passed: bool) -> None:
    (result,) = evaluate_gates([parse_gate(text, mini)], doc)
    assert result["passed"] is passed


def test_no_value_fails(tmp_path: Path, mini: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "c" / "only.json", case("Z-1", q3="Does not apply"))  # step 3 has nothing scored
    doc = run_audit([tmp_path / "c"], mini, RunOptions()).to_dict()
    empty = run_audit([tmp_path / "nothing-here"], mini, RunOptions()).to_dict()
    step3 = evaluate_gates([parse_gate("step:3 <= 100", mini)], doc)[0]
    assert step3 == {"gate": "step:3 <= 100", "value": None, "passed": False,
                     "metric": "step", "item": "3", "op": "<=", "threshold": 100.0}
    assert failure_message(step3) == "step:3 <= 100 (no value: nothing in this run to measure it on)"
    mean, share = evaluate_gates([parse_gate("mean >= 0", mini), parse_gate("share:Good <= 100", mini)], empty)
    assert (mean["value"], mean["passed"], share["value"], share["passed"]) == (None, False, None, False)


def test_failure_messages_and_shown_values() -> None:
    def result(metric: str, value: float | None, op: str, threshold: float) -> dict[str, Any]:
        return {"gate": f"{metric} {op} {threshold:g}", "value": value, "passed": False,
                "metric": metric, "op": op, "threshold": threshold}

    assert failure_message(result("mean", 62.5, ">=", 75)) == "mean >= 75 (value: 62.5)"
    assert failure_message(result("mean", 80.0, ">=", 90)) == "mean >= 90 (value: 80.0)"
    # One decimal place would show 75.0 and hide why 'mean >= 75' failed.
    assert failure_message(result("mean", 74.96, ">=", 75)) == "mean >= 75 (value: 74.96)"
    assert shown_value(result("mean", 74.94, ">=", 75)) == "74.9"
    assert failure_message(result("critical_failures", 3.0, "<=", 2)) == "critical_failures <= 2 (value: 3)"
    assert failure_message(result("rejected", 1.0, "==", 0)) == "rejected == 0 (value: 1)"
    # Results written before op/metric were stored still render.
    assert shown_value({"gate": "mean >= 75", "value": 70.25, "passed": False}) == "70.2"


# --------------------------------------------------------------------------- the command


def test_every_gate_result_reaches_results_json_the_table_and_stderr(cases: Path) -> None:
    res = invoke("score", cases, "-t", BASE_TEMPLATE, "-o", "out",
                 "--gate", "mean >= 75", "--gate", "step:1 > 62.5", "--gate", "critical_failures <= 0",
                 "--gate", "share:Inadequate == 0", "--gate", "rejected < 1", "--fail-under", "70")
    assert res.exit_code == 1
    doc = json.loads(Path("out/results.json").read_text(encoding="utf-8"))
    assert_valid_results(doc)
    assert [(g["gate"], g["value"], g["passed"]) for g in doc["gates"]] == [
        ("mean >= 75", 75.0, True),
        ("step:1 > 62.5", 62.5, False),
        ("critical_failures <= 0", 1.0, False),
        ("share:Inadequate == 0", 0.0, True),
        ("rejected < 1", 1.0, False),
        ("mean >= 70", 75.0, True),
    ]
    assert doc["gates"][1] == {"gate": "step:1 > 62.5", "value": 62.5, "passed": False,
                               "metric": "step", "item": "1", "op": ">", "threshold": 62.5}
    failed = [line for line in res.stderr.splitlines() if line.startswith("gate failed")]
    assert failed == [
        "gate failed: step:1 > 62.5 (value: 62.5)",
        "gate failed: critical_failures <= 0 (value: 1)",
        "gate failed: rejected < 1 (value: 1)",
    ]
    table = res.stdout[res.stdout.index("Gate "):].splitlines()
    assert [line.split() for line in table[2:8]] == [
        ["mean", ">=", "75", "75.0", "pass"],
        ["step:1", ">", "62.5", "62.5", "FAIL"],
        ["critical_failures", "<=", "0", "1", "FAIL"],
        ["share:Inadequate", "==", "0", "0.0", "pass"],
        ["rejected", "<", "1", "1", "FAIL"],
        ["mean", ">=", "70", "75.0", "pass"],
    ]


def test_passing_gates_exit_0_and_exit_zero_hides_a_failure(cases: Path) -> None:
    (cases / "d.json").unlink()
    assert invoke("score", cases, "-t", BASE_TEMPLATE, "-o", "out", "--gate", "mean >= 75",
                  "--gate", "rejected == 0").exit_code == 0
    res = invoke("score", cases, "-t", BASE_TEMPLATE, "-o", "out", "--gate", "mean > 75", "--exit-zero")
    assert res.exit_code == 0
    assert "gate failed: mean > 75 (value: 75.0)" in res.stderr


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("principle:wellbeing >= 5", "principle 'wellbeing' is not in mini (empowerment, protection)"),
        ("domain:x >= 5", "dimension 'domain' is not in mini (step, principle, theme, section)"),
        ("share:Excellent <= 5", "'Excellent' is not a band of mini"),
        ("mean is high", "is not 'METRIC OP NUMBER'"),
    ],
)
def test_a_bad_gate_exits_2_before_reading_and_writes_nothing(cases: Path, gate: str, message: str) -> None:
    res = invoke("score", cases, "-t", BASE_TEMPLATE, "-o", "out", "--gate", "mean >= 1", "--gate", gate,
                 "--junit", "junit.xml", "--docx", "board.docx", "--exit-zero")
    assert res.exit_code == 2
    assert message in res.stderr
    assert "rejected" not in res.stderr  # the broken case file was never read
    assert not Path("out").exists() and not Path("junit.xml").exists() and not Path("board.docx").exists()


def test_share_is_a_percentage_of_rated_cases(mini: Template, cases: Path) -> None:
    """A not-rated case (all N/A) has no band: share:BAND divides by rated cases (issue 7)."""
    write_json(cases / "zz-all-na.json", {"case": {"ref": "NA-1", "lacked": "No"},
                                          "answers": {"Q1": "n/a", "Q2": "n/a", "Q3": "Does not apply", "Q4": "n/a"}})
    d = run_audit([cases], mini, RunOptions()).to_dict()
    assert d["aggregate"]["cases"] == 4 and d["aggregate"]["rated"] == 3
    (result,) = evaluate_gates([parse_gate("share:Outstanding <= 50", mini)], d)
    assert result["value"] == 100.0 / 3 and result["passed"] is True
