"""The JSON reader's hand check agrees with schemas/case.schema.json on generated documents."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from audit_cli.readers.json_reader import conforms
from audit_cli.resources import validator

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=3))
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(["answer", "evidence", "comment", "x"]), scalars, max_size=3))
keys = st.sampled_from(["template", "case", "answers", "notes", "cases", "A1", "team", "x"])


@st.composite
def cases(draw: Any) -> Any:
    doc: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(["template", "case", "answers", "notes", "extra"]), max_size=4, unique=True)):
        if key == "case":
            doc[key] = draw(st.one_of(st.dictionaries(st.sampled_from(["case_ref", "team", "risk_types"]), values, max_size=3), scalars))
        elif key == "answers":
            doc[key] = draw(st.one_of(st.dictionaries(st.sampled_from(["A1", "A2", "B3"]), values, max_size=3), scalars))
        else:
            doc[key] = draw(scalars)
    return doc


documents = st.one_of(
    cases(),
    st.builds(lambda cs, t: {"cases": cs, **t}, st.lists(st.one_of(cases(), scalars), max_size=3),
              st.one_of(st.just({}), st.fixed_dictionaries({"template": scalars}), st.fixed_dictionaries({"other": scalars}))),
    st.dictionaries(keys, values, max_size=4),
    values,
)


@settings(max_examples=1500, deadline=None)
@given(documents)
def test_hand_check_equals_the_schema(doc: Any) -> None:
    assert conforms(doc) == validator("case").is_valid(doc), doc


def test_examples() -> None:
    assert conforms({"case": {"case_ref": "C", "risk_types": ["a", "b"], "n": 1, "b": True}, "answers": {"A1": "yes", "A2": {"answer": None, "evidence": "e"}}})
    assert conforms({"cases": [{"answers": {}}], "template": "msp-core"})
    assert not conforms({"template": "x"})
    assert not conforms({"case": {"x": {"a": 1}}})
    assert not conforms({"answers": {"A1": True}})
    assert not conforms({"answers": {"A1": {"answer": "y", "why": 1}}})
    assert not conforms({"cases": [], "case": {}})
