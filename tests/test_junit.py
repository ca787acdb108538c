"""JUnit XML from ``score --junit``: structure, counts, names, messages, escaping."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.model import Template
from audit_cli.writers.junit import clean, junit_timestamp, junit_tree, write_junit

from conftest import BASE_TEMPLATE, write_json

runner = CliRunner()
OUTCOMES = ("failure", "error", "skipped")


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def case(ref: str, **answers: str) -> dict[str, Any]:
    base = {"Q1": "yes", "Q2": "yes", "Q3": "Excellent", "Q4": "yes"}
    return {"case": {"ref": ref, "lacked": "No"}, "answers": {**base, **answers}}


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    cases = tmp_path / "cases"
    write_json(cases / "a.json", case("A-1"))  # 100
    write_json(cases / "b.json", case("B-1", Q1="partly"))  # 75
    write_json(cases / "c.json", case("C-1", Q1="no"))  # 50, critical failure on Q1
    write_json(cases / "d.json", case("E-1", Q2="Maybe"))  # an error in the case; scores 100
    write_json(cases / "e.json", case("N-1", Q1="n/a", Q2="n/a", Q3="Does not apply"))  # only Q4 (weight 0): not rated
    (cases / "f.json").write_text("{broken", encoding="utf-8")
    return cases


def check_structure(root: ET.Element) -> ET.Element:
    """The JUnit rules CI servers rely on: one suite here, counts equal to what the suite holds,
    at most one outcome element per test case."""
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    for tc in cases:
        assert sum(len(tc.findall(tag)) for tag in OUTCOMES) <= 1, ET.tostring(tc)
        assert tc.get("time") == "0" and tc.get("name") and tc.get("classname")
    counted = {
        "tests": len(cases),
        "failures": sum(1 for tc in cases if tc.find("failure") is not None),
        "errors": sum(1 for tc in cases if tc.find("error") is not None),
        "skipped": sum(1 for tc in cases if tc.find("skipped") is not None),
    }
    for el in (root, suite):
        assert {k: int(el.get(k, "-1")) for k in counted} == counted
    return suite


def test_score_writes_junit_with_every_outcome(folder: Path) -> None:
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--label", "2026 Q1", "--fail-under", "80",
                 "--gate", "rejected == 0", "--junit", "ci/junit.xml")
    assert res.exit_code == 1
    root = ET.parse("ci/junit.xml").getroot()
    suite = check_structure(root)
    assert (suite.get("name"), suite.get("timestamp")) == ("2026 Q1", "2026-09-21T14:13:20")
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "8", "failures": "3", "errors": "1", "skipped": "1"
    }
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"template": "mini 1.0.0", "label": "2026 Q1", "fail_under": "80", "mean_score": "81.2"}

    tcs = {tc.get("name"): tc for tc in suite.findall("testcase")}
    assert list(tcs) == ["A-1", "B-1", "C-1", "E-1", "N-1", "cases/f.json", "gate: rejected == 0", "gate: mean >= 80"]
    assert [tc.get("classname") for tc in tcs.values()] == ["mini"] * 6 + ["mini.gates"] * 2
    assert len(tcs["A-1"]) == 0
    b = tcs["B-1"].find("failure")
    assert b is not None and b.get("message") == "score 75.0 is below --fail-under 80"
    c = tcs["C-1"].find("failure")
    assert c is not None
    assert c.get("message") == "critical failure: Q1 (Asked about outcomes?); score 50.0 is below --fail-under 80"
    assert c.text == "critical failure: Q1 (Asked about outcomes?)\nscore 50.0 is below --fail-under 80"
    e = tcs["E-1"]
    assert e.find("failure") is None and e.find("error") is None
    err = e.find("system-err")
    assert err is not None and err.text is not None
    assert err.text.startswith("cases/d.json: answers.Q2: error: this value is not an answer for Q2")
    skipped = tcs["N-1"].find("skipped")
    assert skipped is not None and skipped.get("message") == "not rated: no criterion with a weight was scored"
    error = tcs["cases/f.json"].find("error")
    assert error is not None
    assert error.attrib == {"message": "not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes",
                            "type": "rejected"}
    gate = tcs["gate: rejected == 0"].find("failure")
    assert gate is not None and gate.get("message") == "rejected == 0 (value: 1)"
    assert len(tcs["gate: mean >= 80"]) == 0


def test_suite_is_named_after_the_template_without_a_label(folder: Path) -> None:
    for name in ("b.json", "c.json", "d.json", "e.json", "f.json"):
        (folder / name).unlink()
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--junit", "junit.xml")
    assert res.exit_code == 0
    root = ET.parse("junit.xml").getroot()
    suite = check_structure(root)
    assert suite.get("name") == "mini"
    assert [tc.get("name") for tc in suite.findall("testcase")] == ["A-1"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "0", "0", "0")
    assert "label" not in {p.get("name") for p in suite.iter("property")}


def test_critical_failures_without_fail_under(folder: Path, mini: Template) -> None:
    doc = run_audit([folder], mini, RunOptions()).to_dict()
    suite = check_structure(junit_tree(doc, mini))
    failed = {tc.get("name"): tc.find("failure") for tc in suite.findall("testcase") if tc.find("failure") is not None}
    assert list(failed) == ["C-1"]
    assert failed["C-1"].get("message") == "critical failure: Q1 (Asked about outcomes?)"  # type: ignore[union-attr]


def test_several_critical_failures_name_each_criterion(mini: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "c" / "x.json", case("X-1", Q1="no", Q4="no"))
    doc = run_audit([tmp_path / "c"], mini, RunOptions()).to_dict()
    failure = junit_tree(doc, mini).find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "critical failure: Q1 (Asked about outcomes?); Q4 (Immediate safety?)"


def test_text_is_escaped_and_illegal_characters_are_stripped(folder: Path, mini: Template, tmp_path: Path) -> None:
    doc = run_audit([folder], mini, RunOptions()).to_dict()
    doc["cases"][0]["id"] = "A<1>&\"x\"\x01\x0b\ufffe"
    doc["inputs"][-1]["error"] = "bad \x00byte </error> & more"
    doc["run"]["label"] = "Q1 <North> & \x07South"
    path = write_junit(doc, mini, tmp_path / "j.xml")
    raw = path.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(raw)  # a parser refuses illegal characters: this proves they are gone
    suite = check_structure(root)
    assert suite.get("name") == "Q1 <North> & South"
    names = [tc.get("name") for tc in suite.findall("testcase")]
    assert names[0] == 'A<1>&"x"'
    error = suite.find("testcase/error")
    assert error is not None and error.get("message") == "bad byte </error> & more"
    assert b"</error> &" not in raw and b"&lt;/error&gt; &amp; more" in raw


def test_helpers() -> None:
    assert clean("a\x00b\x1fc\td\ne\rf\ud7ff\ue000\U0001f600") == "abc\td\ne\rf\ud7ff\ue000\U0001f600"
    assert junit_timestamp("2026-03-01T10:00:00+01:00") == "2026-03-01T09:00:00"
    assert junit_timestamp("2026-03-01T10:00:00") == "2026-03-01T10:00:00"
    assert junit_timestamp("") is None and junit_timestamp("yesterday") is None


def test_written_atomically_over_an_old_file(folder: Path, mini: Template, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "junit.xml"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    doc = run_audit([folder], mini, RunOptions()).to_dict()
    write_junit(doc, mini, target)
    assert ET.parse(target).getroot().tag == "testsuites"
    assert sorted(p.name for p in target.parent.iterdir()) == ["junit.xml"]


def test_no_personal_value_or_free_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_json(tmp_path / "c" / "x.json", {
        "case": {"case_ref": "C-9", "adult_name": "Ada Secretname", "date_of_birth": "1940-02-03", "auditor": "Jo Auditor"},
        "answers": {"A1": {"answer": "no", "evidence": "Confidential evidence text", "comment": "Private remark"},
                    "A2": "Maybe"},
        "notes": "Chronology notes here",
    })
    res = invoke("score", tmp_path / "c", "-o", "out", "--junit", "junit.xml", "--fail-under", "99")
    assert res.exit_code == 1
    text = Path("junit.xml").read_text(encoding="utf-8")
    for secret in ("Ada Secretname", "1940-02-03", "Jo Auditor", "Confidential evidence", "Private remark", "Chronology notes"):
        assert secret not in text
    assert "C-9" in text and "critical failure: A1 (" in text
    assert json.loads(Path("out/results.json").read_text(encoding="utf-8"))["cases"][0]["id"] == "C-9"
