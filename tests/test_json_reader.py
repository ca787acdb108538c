"""JSON case files and the value rules every reader shares."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit_cli.errors import ReadError
from audit_cli.model import Template
from audit_cli.readers.json_reader import read
from audit_cli.values import ValueProblem, norm_answer, norm_key, parse_boolean, parse_date


def read_doc(doc: Any, template: Template, source: str = "cases/c1.json") -> Any:
    return read(json.dumps(doc).encode(), template, source)


def issues(obj: Any) -> list[tuple[str, str, str | None]]:
    return [(i.severity, i.code, i.location) for i in obj.issues]


def test_single_case_fields_and_answers(mini: Template) -> None:
    r = read_doc({
        "template": "mini",
        "case": {"ref": "C-1", "lacked": "yes", "types": "Physical; neglect", "team": " North ",
                 "advocate": "Y", "closed": "03/02/2026"},
        "answers": {"Q1": "Met", "Q2": {"answer": "N/A", "evidence": "Seen at home", "comment": "ok"}, "Q3": "Good."},
    }, mini)
    (case,) = r.cases
    assert case.id == "C-1" and case.source == "cases/c1.json" and case.location is None
    assert case.fields == {"ref": "C-1", "lacked": "Yes", "types": ["Physical", "Neglect"], "team": "North",
                           "advocate": True, "closed": "2026-02-03"}
    assert case.field_locations["closed"] == "case.closed"
    assert case.answers["Q1"].value == "yes" and case.answers["Q1"].location == "answers.Q1"
    assert case.answers["Q2"].value == "na" and case.answers["Q2"].evidence == "Seen at home" and case.answers["Q2"].comment == "ok"
    assert case.answers["Q3"].value == "g"
    assert case.issues == [] and r.issues == []


def test_register_with_locations(mini: Template) -> None:
    r = read_doc({"cases": [
        {"case": {"ref": "R1"}, "answers": {"Q1": "yes"}},
        {"case": {"team": "South"}, "answers": {"Q1": "no"}},
        {"case": {"ref": "R3", "closed": "2026-13-01"}, "answers": {"Q1": "Maybe", "Q9": "yes"}},
    ]}, mini, "reg.json")
    assert [c.id for c in r.cases] == ["R1", "R3"]
    assert [c.location for c in r.cases] == ["cases[0]", "cases[2]"]
    assert issues(r) == [("error", "missing-identifier", "cases[1]")]
    r3 = r.cases[1]
    assert issues(r3) == [
        ("error", "bad-field-value", "cases[2].case.closed"),
        ("error", "unknown-answer", "cases[2].answers.Q1"),
        ("warning", "unknown-criterion", "cases[2].answers.Q9"),
    ]
    assert r3.issues[1].message == "'Maybe' is not an answer for Q1 (Yes, Partly, No, Not applicable, Unable to determine)"
    assert r3.issues[0].message == "Closed: '2026-13-01' is not a real date"


def test_form_without_identifier_falls_back_to_file_name(mini: Template) -> None:
    r = read_doc({"case": {"team": "X"}, "answers": {"Q1": "yes"}}, mini, "forms/visit-12.json")
    (case,) = r.cases
    assert case.id == "visit-12"
    assert issues(case) == [("warning", "missing-identifier", None)]


def test_unknown_choice_and_field(mini: Template) -> None:
    r = read_doc({"case": {"ref": "C", "lacked": "Perhaps", "Colour": "red", "types": ["Physical", "Arson"]}}, mini)
    (case,) = r.cases
    assert issues(case) == [
        ("error", "bad-field-value", "case.lacked"),
        ("warning", "unknown-field", "case.Colour"),
        ("error", "bad-field-value", "case.types"),
    ]
    assert "'Perhaps' is not one of the choices for Lacked capacity (Yes, No, Not recorded)" in case.issues[0].message


def test_personal_values_are_never_quoted(msp_core: Template) -> None:
    r = read_doc({"case": {"case_ref": "C", "date_of_birth": "Ada's birthday 1/1/50"}}, msp_core)
    msg = r.cases[0].issues[0].message
    assert "Ada" not in msg and msg == "Date of birth: value is not valid for a date field"


def test_labels_accepted_as_keys(mini: Template) -> None:
    r = read_doc({"case": {"Reference": "L-1", "Lacked capacity:": "No"}, "answers": {"q1": "yes"}}, mini)
    (case,) = r.cases
    assert case.id == "L-1" and case.fields["lacked"] == "No" and case.answers["Q1"].value == "yes"


def test_template_mismatch_is_a_warning(mini: Template) -> None:
    r = read_doc({"template": "other", "case": {"ref": "C"}}, mini)
    assert issues(r) == [("warning", "template-mismatch", "template")]


@pytest.mark.parametrize("doc,message", [
    ([1, 2], "the top level is a list"),
    ({"case": {"ref": "C"}, "answers": {"Q1": ["yes"]}}, "answers.Q1"),
    ({"case": "C-1"}, "case: should be an object, not text"),
    ({}, "(top level)"),
])
def test_unreadable_documents_are_rejected(mini: Template, doc: Any, message: str) -> None:
    with pytest.raises(ReadError) as exc:
        read_doc(doc, mini)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_invalid_json_is_rejected_with_position(mini: Template) -> None:
    with pytest.raises(ReadError, match="not valid JSON at line 2, column 1"):
        read(b'{"case":\n}', mini, "x.json")


def test_bom_is_accepted(mini: Template) -> None:
    r = read(b"\xef\xbb\xbf" + json.dumps({"case": {"ref": "B"}}).encode(), mini, "b.json")
    assert r.cases[0].id == "B"


@pytest.mark.parametrize("text,iso", [("2026-02-03", "2026-02-03"), ("3/2/2026", "2026-02-03"), ("03/02/2026", "2026-02-03"),
                                      ("03-02-2026", "2026-02-03"), ("03.02.2026", "2026-02-03"), ("2026-02-03T10:00:00", "2026-02-03")])
def test_dates(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["31/02/2026", "tomorrow", "2026/02/03", "3 Feb 2026"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueProblem):
        parse_date(text)


@pytest.mark.parametrize("text,value", [("yes", True), ("No", False), ("TRUE", True), ("false", False), ("y", True),
                                        ("N", False), ("1", True), ("0", False), (1.0, True), (True, True)])
def test_booleans(text: Any, value: bool) -> None:
    assert parse_boolean(text) is value


def test_normalisation() -> None:
    assert norm_answer("  Partly met. ") == "partly met"
    assert norm_answer("N/A") == "n/a"
    assert norm_key("Adult's name:") == norm_key("ADULTS NAME") == "adultsname"
    assert norm_key("adult_name") == norm_key("Adult name") == "adultname"
    assert norm_key("Type(s) of risk?") == "typesofrisk"


def test_multichoice_commas_inside_a_choice(msp_core: Template) -> None:
    r = read_doc({"case": {"case_ref": "C", "risk_types": "Physical Abuse, Neglect and Acts of Omission;Self-Neglect"}}, msp_core)
    assert r.cases[0].fields["risk_types"] == ["Physical Abuse", "Neglect and Acts of Omission", "Self-Neglect"]
    assert r.cases[0].issues == []
