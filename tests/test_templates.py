"""Template loading: every rule refused with its JSON pointer; the bundled templates are valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from audit_cli.errors import TemplateError
from audit_cli.templates import bundled_templates, check_template, load_template, template_from_dict

from conftest import base_template_doc


def crit(doc: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for s in doc["sections"] for c in s["criteria"] if c["id"] == cid)


Mutation = Callable[[dict[str, Any]], None]

RULES: list[tuple[str, Mutation, str]] = [
    ("duplicate criterion id", lambda d: crit(d, "Q2").update(id="Q1"),
     '/sections/0/criteria/1/id: duplicate criterion id \'Q1\' (first at /sections/0/criteria/0/id)'),
    ("duplicate section id", lambda d: d["sections"][1].update(id="s1"), "/sections/1/id: duplicate section id 's1'"),
    ("duplicate field id", lambda d: d["case_fields"][2].update(id="lacked"), "/case_fields/2/id: duplicate case field id 'lacked'"),
    ("duplicate dimension item", lambda d: d["dimensions"]["step"]["items"][1].update(id="1"),
     "/dimensions/step/items/1/id: duplicate step item '1'"),
    ("duplicate option value", lambda d: d["scales"]["ypn"]["options"][1].update(value="yes"),
     "/scales/ypn/options/1/value: duplicate option value 'yes'"),
    ("undeclared scale", lambda d: crit(d, "Q3").update(scale="stars"), "/sections/1/criteria/0/scale: scale 'stars' is not declared"),
    ("undeclared map key", lambda d: crit(d, "Q1")["map"].update(outcome=["x"]),
     "/sections/0/criteria/0/map/outcome: dimension 'outcome' is not declared"),
    ("undeclared map item", lambda d: crit(d, "Q2")["map"].update(step=["1", "10"]),
     '/sections/0/criteria/1/map/step/1: step \'10\' is not declared'),
    ("undeclared applies_if field", lambda d: crit(d, "Q5").update(applies_if={"field": "capacity", "equals": "Yes"}),
     "/sections/1/criteria/2/applies_if/field: case field 'capacity' is not declared"),
    ("undeclared field inside a combinator", lambda d: crit(d, "Q5").update(applies_if={"all": [{"field": "lacked", "equals": "Yes"}, {"not": {"field": "nope", "present": True}}]}),
     "/sections/1/criteria/2/applies_if/all/1/not/field: case field 'nope' is not declared"),
    ("applies_if value not a choice", lambda d: crit(d, "Q5").update(applies_if={"field": "lacked", "equals": "Maybe"}),
     "/sections/1/criteria/2/applies_if: 'Maybe' is not one of 'lacked''s choices"),
    ("no identifier", lambda d: d["case_fields"][0].pop("role"), "/case_fields: exactly one case field must have role \"identifier\" (found 0: none)"),
    ("two identifiers", lambda d: d["case_fields"][3].update(role="identifier"),
     "/case_fields: exactly one case field must have role \"identifier\" (found 2: /case_fields/0, /case_fields/3)"),
    ("duplicate band label", lambda d: d["scoring"]["bands"][1].update(label="Outstanding"),
     "/scoring/bands/1/label: duplicate band label 'Outstanding'"),
    ("critical_cap not a band", lambda d: d["scoring"].update(critical_cap="Poor"),
     "/scoring/critical_cap: 'Poor' is not a band label"),
    ("scale without numeric points", lambda d: d["scales"].update(nn={"options": [{"value": "a", "label": "A", "points": None}]}),
     "/scales/nn/options: scale 'nn' has no option with numeric points"),
    ("scale whose largest points are 0", lambda d: d["scales"].update(zero={"options": [{"value": "a", "label": "A", "points": 0}]}),
     "/scales/zero/options: scale 'zero' needs an option with points above 0"),
    ("equals on a multichoice field", lambda d: crit(d, "Q5").update(applies_if={"field": "types", "equals": "Neglect"}),
     "/sections/1/criteria/2/applies_if/equals: 'types' is multichoice: use 'contains'"),
    ("condition value of the wrong type", lambda d: crit(d, "Q5").update(applies_if={"field": "closed", "equals": "soon"}),
     "/sections/1/criteria/2/applies_if: 'soon' is not a date value for 'closed'"),
    ("a score with no band", lambda d: d["scoring"]["bands"][3].update(min=10),
     "/scoring/bands/3/min: the lowest band ('Inadequate') must start at 0 so that every score has a rating"),
    ("negative weight", lambda d: crit(d, "Q1").update(weight=-1), "/sections/0/criteria/0/weight: -1 is less than the minimum of 0"),
    ("judgement not a band label", lambda d: d["case_fields"].append({"id": "overall", "label": "Overall", "type": "choice", "role": "judgement", "choices": ["Great"]}),
     "/case_fields/6/choices/0: judgement choice 'Great' is not a band label"),
    ("answer spelling shared by two options", lambda d: d["scales"]["ypn"]["options"][2]["synonyms"].append("Y"),
     "answer 'y' also matches /scales/ypn/options/0"),
    ("missing required key", lambda d: d.pop("sections"), "/: 'sections' is a required property"),
    ("bad field type", lambda d: d["case_fields"][1].update(type="list"), "/case_fields/1/type: 'list' is not one of"),
    ("choice field without choices", lambda d: d["case_fields"][1].pop("choices"), "/case_fields/1: 'choices' is a required property"),
    ("section declared as a dimension", lambda d: d["dimensions"].update(section={"title": "S", "items": [{"id": "s1", "title": "S"}]}),
     "/dimensions/section: 'section' is implicit and cannot be declared"),
    ("contains on a choice field", lambda d: crit(d, "Q5").update(applies_if={"field": "lacked", "contains": "Yes"}),
     "/sections/1/criteria/2/applies_if/contains: 'contains' needs a multichoice field; 'lacked' is choice"),
    ("bad condition shape", lambda d: crit(d, "Q5").update(applies_if={"field": "lacked", "like": "Y"}),
     "/sections/1/criteria/2/applies_if: not a valid condition"),
]


@pytest.mark.parametrize("name,mutate,expected", RULES, ids=[r[0] for r in RULES])
def test_each_rule_is_refused_with_its_pointer(name: str, mutate: Mutation, expected: str) -> None:
    doc = base_template_doc()
    mutate(doc)
    problems = check_template(doc)
    assert any(expected in p for p in problems), problems
    with pytest.raises(TemplateError) as exc:
        template_from_dict(doc, "t.json")
    assert exc.value.problems == problems


def test_every_problem_is_listed_not_just_the_first() -> None:
    doc = base_template_doc()
    crit(doc, "Q2")["map"]["step"] = ["1", "10"]
    crit(doc, "Q3")["scale"] = "stars"
    doc["scoring"]["critical_cap"] = "Poor"
    crit(doc, "Q5")["applies_if"] = {"field": "nope", "equals": "x"}
    problems = check_template(doc)
    assert len(problems) == 4
    assert sorted(p.split(":")[0] for p in problems) == [
        "/scoring/critical_cap",
        "/sections/0/criteria/1/map/step/1",
        "/sections/1/criteria/0/scale",
        "/sections/1/criteria/2/applies_if/field",
    ]


def test_valid_template_loads_with_sorted_bands(mini_doc: dict[str, Any]) -> None:
    mini_doc["scoring"]["bands"].reverse()
    t = template_from_dict(mini_doc)
    assert [b.label for b in t.bands] == ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    assert t.scale_of("Q3").max_points == 4
    assert list(t.all_dimensions()) == ["step", "principle", "theme", "section"]


def test_bundled_templates_are_valid() -> None:
    assert "msp-core" in bundled_templates()
    for tid, path in bundled_templates().items():
        assert check_template(json.loads(path.read_text(encoding="utf-8"))) == [], tid


def test_msp_core_content(msp_core: Any) -> None:
    t = msp_core
    assert len(t.criteria) == 28
    assert [s.id for s in t.sections] == ["voice", "capacity", "risk", "prevention", "partnership", "accountability"]
    assert {c.id for c in t.criteria.values() if c.critical} == {"A1", "A6", "B2", "C1"}
    assert [i.id for i in t.dimensions["step"].items] == [str(n) for n in range(1, 10)]
    assert [i.id for i in t.dimensions["principle"].items] == [
        "empowerment", "prevention", "proportionality", "protection", "partnership", "accountability"]
    assert t.dimensions["principle"].item("empowerment").statement.startswith("I am asked what I want as the outcomes")
    assert t.dimensions["step"].item("5").group == "Supporting and developing the workforce"
    assert t.criteria["A1"].weight == 3 and t.criteria["A1"].map == {"step": ("7", "9"), "principle": ("empowerment",)}
    assert t.criteria["F2"].map["step"] == ("1", "2", "4")
    assert t.criteria["B3"].applies_if == {"field": "lacked_capacity", "equals": "Yes, they lacked capacity"}
    assert sum(c.weight for c in t.criteria.values()) == 47
    assert t.identifier.id == "case_ref" and t.judgement is not None and t.judgement.id == "judgement"
    assert t.fields["lacked_capacity"].choices == (
        "Yes, they lacked capacity", "No, they did not lack capacity", "Don't know", "Not recorded")
    assert t.fields["asked_outcomes"].choices == (
        "Yes they were asked and outcomes were expressed", "Yes they were asked but no outcomes were expressed",
        "No", "Don't know", "Not recorded")
    assert {f.id for f in t.case_fields if f.personal} == {"adult_name", "date_of_birth"}
    assert [(b.label, b.min) for b in t.bands] == [("Outstanding", 90), ("Good", 75), ("Requires improvement", 50), ("Inadequate", 0)]
    assert t.critical_cap == "Requires improvement"


def test_load_template_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no such template"):
        load_template("does-not-exist")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(TemplateError, match="not valid JSON at line 1"):
        load_template(bad)
    good = tmp_path / "mini.json"
    good.write_text(json.dumps(base_template_doc()), encoding="utf-8")
    assert load_template(good).id == "mini"


def test_derived_lookups_are_built_once_and_travel_with_the_template() -> None:
    import pickle

    t = load_template("msp-core")
    calls: list[int] = []

    def build(tpl: Any) -> list[str]:
        calls.append(1)
        return sorted(tpl.criteria)

    first = t.derived("ids", build)
    assert t.derived("ids", build) is first and calls == [1]
    copy = pickle.loads(pickle.dumps(t))
    assert copy.derived("ids", build) == first and calls == [1]  # not rebuilt in a worker
    assert copy == load_template("msp-core")  # kept lookups are not part of a template's value
