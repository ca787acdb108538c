"""Score one case against a template, exactly as SPEC section 5 says. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Case, CaseResult, Criterion, CriterionResult, Issue, ScaleOption, Template
from .values import is_blank, text_of


def _norm(v: Any) -> str:
    return text_of(v).casefold()


def condition_holds(cond: dict[str, Any], fields: dict[str, Any]) -> bool:
    """``applies_if``: a comparison on an empty field is false (``present: false`` and ``not`` aside)."""
    if "all" in cond:
        return all(condition_holds(c, fields) for c in cond["all"])
    if "any" in cond:
        return any(condition_holds(c, fields) for c in cond["any"])
    if "not" in cond:
        return not condition_holds(cond["not"], fields)
    value = fields.get(cond["field"])
    present = not is_blank(value)
    if "present" in cond:
        return present == bool(cond["present"])
    if not present:
        return False
    values = value if isinstance(value, list) else [value]
    normed = {_norm(v) for v in values}
    if "equals" in cond:
        return not isinstance(value, list) and _norm(value) == _norm(cond["equals"])
    if "in" in cond:
        return not isinstance(value, list) and _norm(value) in {_norm(v) for v in cond["in"]}
    if "contains" in cond:
        return _norm(cond["contains"]) in normed
    raise ValueError(f"unknown condition {cond!r}")


def weighted_score(pairs: list[tuple[float, float]]) -> float | None:
    """100 × Σ w·a / Σ w over (weight, attainment) pairs with w > 0; None when there are none."""
    total_w = sum([w for w, _ in pairs if w > 0])
    if total_w <= 0:
        return None
    return 100.0 * sum([w * a for w, a in pairs if w > 0]) / total_w


def public_fields(template: Template, fields: dict[str, Any]) -> dict[str, Any]:
    """The case fields that may leave the inputs: never personal, never free text.

    Free ``text`` fields are kept only when the template reports them as a breakdown
    (team, agency); the identifier travels as the case id.
    """
    out: dict[str, Any] = {}
    for f in template.case_fields:
        if f.personal or f.role == "identifier" or f.id not in fields:
            continue
        if f.type == "text" and not f.breakdown:
            continue
        out[f.id] = fields[f.id]
    return out


@dataclass(frozen=True)
class _CriterionPlan:
    """What scoring needs of one criterion, looked up once per template rather than once per case."""

    crit: Criterion
    max_points: float
    options: dict[str, ScaleOption]
    targets: tuple[tuple[str, str], ...]  # (dimension id, item id) it counts towards


@dataclass(frozen=True)
class _Plan:
    criteria: tuple[_CriterionPlan, ...]
    items: tuple[tuple[str, tuple[str, ...]], ...]  # every dimension's items, in template order


def _build_plan(template: Template) -> _Plan:
    crits = []
    for crit in template.criteria.values():
        scale = template.scales[crit.scale]
        targets = tuple((dim_id, item) for dim_id, items in template.items_of(crit).items() for item in items)
        crits.append(_CriterionPlan(crit, scale.max_points, {o.value: o for o in scale.options}, targets))
    items = tuple((dim_id, tuple(i.id for i in dim.items)) for dim_id, dim in template.all_dimensions().items())
    return _Plan(tuple(crits), items)


def plan_for(template: Template) -> _Plan:
    """The template's scoring plan, worked out once and kept with the template."""
    return template.derived("scoring_plan", _build_plan)


def score_case(template: Template, case: Case) -> CaseResult:
    plan = plan_for(template)
    issues: list[Issue] = list(case.issues)
    criteria: dict[str, CriterionResult] = {}
    critical_failures: list[str] = []
    pairs: dict[str, dict[str, list[tuple[float, float]]]] = {
        dim_id: {item: [] for item in items} for dim_id, items in plan.items
    }
    scored: list[tuple[float, float]] = []  # (weight, attainment) of every scored criterion, in order
    answers = case.answers
    for cp in plan.criteria:
        crit = cp.crit
        ans = answers.get(crit.id)
        location = ans.location if ans else None
        given = ans is not None and ans.value is not None
        applies = crit.applies_if is None or condition_holds(crit.applies_if, case.fields)
        if not applies:
            if given:
                issues.append(
                    Issue("warning", "answer-not-applicable",
                          f"{crit.id} does not apply to this case by rule; the answer given is ignored", location)
                )
            criteria[crit.id] = CriterionResult("not_applicable", ans.value if ans is not None else None, None,
                                                cp.max_points, crit.weight, location)
            continue
        if not given:
            if ans is None or ans.raw is None:  # an unknown answer already has its error
                issues.append(Issue("warning", "unanswered", f"{crit.id} is not answered", location))
            criteria[crit.id] = CriterionResult("unanswered", None, None, cp.max_points, crit.weight, location)
            continue
        assert ans is not None and ans.value is not None
        option = cp.options[ans.value]
        if option.points is None:
            if option.flag:
                issues.append(Issue("warning", "flagged-answer", f"{crit.id} is answered {option.label!r}", location))
            criteria[crit.id] = CriterionResult("excluded", option.value, None, cp.max_points, crit.weight,
                                                location, flagged=option.flag)
            continue
        r = criteria[crit.id] = CriterionResult("scored", option.value, option.points, cp.max_points, crit.weight,
                                                location, flagged=option.flag)
        if crit.critical and option.points == 0:
            critical_failures.append(crit.id)
        # each scored criterion adds to every item it is mapped to, in criterion order
        pair = (r.weight, r.attainment or 0.0)
        scored.append(pair)
        for dim_id, item in cp.targets:
            pairs[dim_id][item].append(pair)
    dims = {dim_id: {item: weighted_score(p) for item, p in per.items()} for dim_id, per in pairs.items()}

    score = weighted_score(scored)
    rating = template.band_for(score)
    if rating is not None and critical_failures and template.critical_cap is not None:
        if template.band_rank(template.critical_cap) > template.band_rank(rating):
            rating = template.critical_cap
    judgement = None
    if template.judgement is not None:
        j = case.fields.get(template.judgement.id)
        judgement = None if is_blank(j) else str(j)
    return CaseResult(
        id=case.id,
        source=case.source,
        location=case.location,
        score=score,
        rating=rating,
        critical_failures=critical_failures,
        dimensions=dims,
        criteria=criteria,
        fields=public_fields(template, case.fields),
        issues=issues,
        judgement=judgement,
    )
