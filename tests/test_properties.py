"""Properties of scoring and aggregation (STYLE.md practice 6), checked with hypothesis."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_cli.aggregate import Aggregator
from audit_cli.model import Answer, Case
from audit_cli.scoring import score_case
from audit_cli.templates import template_from_dict

from conftest import base_template_doc

TEMPLATE = template_from_dict(base_template_doc(), "mini")
OPTIONS = {cid: [o.value for o in TEMPLATE.scale_of(cid).options] for cid in TEMPLATE.criteria}
NA = {"Q1": "na", "Q2": "na", "Q3": "gna", "Q4": "na", "Q5": "na"}


@st.composite
def cases(draw: Any, ref: str | None = None) -> Case:
    answers = {}
    for cid, opts in OPTIONS.items():
        choice = draw(st.one_of(st.none(), st.sampled_from(opts)))
        if choice is not None:
            answers[cid] = Answer(choice, choice)
    fields: dict[str, Any] = {}
    lacked = draw(st.sampled_from([None, "Yes", "No", "Not recorded"]))
    if lacked:
        fields["lacked"] = lacked
    fields["team"] = draw(st.sampled_from(["North", "South"]))
    return Case(id=ref or draw(st.text("ABC123", min_size=1, max_size=6)), source="x.json", fields=fields, answers=answers)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_score_within_bounds(case: Case) -> None:
    r = score_case(TEMPLATE, case)
    assert r.score is None or 0.0 <= r.score <= 100.0
    for items in r.dimensions.values():
        for v in items.values():
            assert v is None or 0.0 <= v <= 100.0
    assert (r.score is None) == (r.rating is None)


@settings(max_examples=200, deadline=None)
@given(cases(), st.sets(st.sampled_from(sorted(OPTIONS))))
def test_adding_na_answers_changes_nothing(case: Case, make_na: set[str]) -> None:
    """Answering N/A where a criterion had no answer moves it from unanswered to excluded; scores stay."""
    before = score_case(TEMPLATE, case)
    answers = dict(case.answers)
    for cid in make_na:
        if cid not in answers:
            answers[cid] = Answer(NA[cid], NA[cid])
    after = score_case(TEMPLATE, dataclasses.replace(case, answers=answers))
    assert after.score == before.score
    assert after.rating == before.rating
    assert after.dimensions == before.dimensions


def _scaled_template(factor: float) -> Any:
    doc = base_template_doc()
    for s in doc["sections"]:
        for c in s["criteria"]:
            c["weight"] = c.get("weight", 1) * factor
    return template_from_dict(doc, "scaled")


@settings(max_examples=100, deadline=None)
@given(cases(), st.sampled_from([0.5, 2.0, 3.0, 10.0, 0.1]))
def test_scaling_every_weight_changes_nothing(case: Case, factor: float) -> None:
    a = score_case(TEMPLATE, case)
    b = score_case(_scaled_template(factor), case)
    assert (a.score is None) == (b.score is None)
    if a.score is not None:
        assert b.score == pytest.approx(a.score, rel=1e-9)
    assert a.rating == b.rating


@settings(max_examples=100, deadline=None)
@given(cases())
def test_aggregate_of_one_case_equals_that_case(case: Case) -> None:
    r = score_case(TEMPLATE, case)
    agg = Aggregator(TEMPLATE).add_all([r]).to_dict()
    assert agg["cases"] == 1
    assert agg["mean_score"] == r.score
    assert agg["rated"] == (0 if r.score is None else 1)
    for dim, items in r.dimensions.items():
        for item, v in items.items():
            assert agg["dimensions"][dim][item]["mean"] == v
            assert agg["dimensions"][dim][item]["cases"] == (0 if v is None else 1)
    for cid, cr in r.criteria.items():
        assert agg["criteria"][cid]["attainment"] == cr.attainment
    expected_rating = r.rating or "Not rated"
    assert agg["ratings"][expected_rating] == 1
    assert sum(agg["ratings"].values()) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(cases(), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_order_of_cases_changes_nothing(case_list: list[Case], rnd: Any) -> None:
    results = [score_case(TEMPLATE, c) for c in case_list]
    shuffled = list(results)
    rnd.shuffle(shuffled)
    a = Aggregator(TEMPLATE).add_all(results).to_dict()
    b = Aggregator(TEMPLATE).add_all(shuffled).to_dict()
    assert a == b


def test_hand_typed_breakdown_values_group_whatever_their_case() -> None:
    """Team "North", "north " and "NORTH" are one team; the report shows one spelling of it."""
    results = []
    for n, team in enumerate(["North", "north ", "NORTH", "South"]):
        case = Case(id=f"C{n}", source="x.json", fields={"team": team, "lacked": "No"},
                    answers={"Q1": Answer("yes", "yes")})
        results.append(score_case(TEMPLATE, case))
    agg = Aggregator(TEMPLATE).add_all(results).to_dict()
    assert list(agg["breakdowns"]["team"]) == ["NORTH", "South"]
    assert agg["breakdowns"]["team"]["NORTH"]["cases"] == 3
    reverse = Aggregator(TEMPLATE).add_all(list(reversed(results))).to_dict()
    assert reverse["breakdowns"] == agg["breakdowns"]


@settings(max_examples=80, deadline=None)
@given(st.lists(cases(), min_size=1, max_size=14), st.lists(st.integers(0, 14), max_size=4))
def test_partial_aggregates_merged_in_order_equal_adding_one_by_one(case_list: list[Case], cuts: list[int]) -> None:
    """As a run's workers do: each chunk of cases aggregated apart, sent to the main process
    (pickled, without its template) and merged in input order. Every figure, and the order of
    every key (unexpected answers and values go last, as they arrived), is the same."""
    import json
    import pickle

    results = [score_case(TEMPLATE, c) for c in case_list]
    one_by_one = Aggregator(TEMPLATE).add_all(results).to_dict()
    bounds = [0, *sorted(set(cuts)), len(results)]
    merged = Aggregator(TEMPLATE)
    for lo, hi in zip(bounds, bounds[1:]):
        part = pickle.loads(pickle.dumps(Aggregator(TEMPLATE).add_all(results[lo:hi])))
        assert not hasattr(part, "template")
        merged.merge(part)
    assert json.dumps(merged.to_dict()) == json.dumps(one_by_one)


def test_merging_keeps_the_order_keys_first_arrived_in() -> None:
    """Counts the report lists in arrival order (an answer no option names, a field value
    outside its choices) keep that order across partials."""
    results = []
    for n, lacked in enumerate(["Maybe", "Yes", "Perhaps", "Maybe"]):
        case = Case(id=f"C{n}", source="x.json", fields={"team": "North", "lacked": lacked},
                    answers={"Q1": Answer("yes", "yes")})
        results.append(score_case(TEMPLATE, case))
    whole = Aggregator(TEMPLATE).add_all(results).to_dict()
    merged = Aggregator(TEMPLATE)
    for r in results:
        merged.merge(Aggregator(TEMPLATE).add_all([r]))
    assert list(merged.to_dict()["fields"]["lacked"]) == list(whole["fields"]["lacked"])
    assert merged.to_dict() == whole
