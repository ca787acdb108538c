"""Aggregate case results into the board's figures, exactly as SPEC section 6 says. Pure: no I/O.

Built incrementally (``add`` one case at a time) from the JSON form of a case
result, so that ``score`` can stream cases through it and ``report`` can
re-aggregate earlier ``results.json`` files with the same code; ``score``'s
workers each aggregate their own cases and the partials are ``merge``-d in input
order. Means use ``math.fsum`` so the order of cases never changes a figure.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from typing import Any, Iterable, Sequence

from .model import CaseResult, Template

NOT_RATED = "Not rated"
BLANK = "(blank)"

#: the scores behind a mean, as C doubles (8 bytes each, not a float object each): a run keeps
#: every case's step and principle scores once per breakdown value, and partials travel pickled
Values = array


def _counts() -> defaultdict[str, int]:
    return defaultdict(int)


def _values() -> Values:
    return array("d")


def _items_of_values() -> defaultdict[str, Values]:
    return defaultdict(_values)


def _dims_of_values() -> defaultdict[str, defaultdict[str, Values]]:
    return defaultdict(_items_of_values)


def _add_counts(mine: dict[str, int], theirs: dict[str, int]) -> None:
    """Counts added key by key; a key new here goes last, as it would have arrived."""
    for k, v in theirs.items():
        mine[k] = mine.get(k, 0) + v


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def share(count: int, total: int) -> float | None:
    """A percentage, from unrounded figures; None when there is nothing to divide by."""
    return 100.0 * count / total if total else None


class Aggregator:
    def __init__(self, template: Template) -> None:
        self.template = template
        self.dims = template.all_dimensions()
        self.n = 0
        self.scores: Values = array("d")
        self.ratings: dict[str, int] = {b.label: 0 for b in template.bands}
        self.ratings[NOT_RATED] = 0
        self.item_scores: dict[str, dict[str, Values]] = {
            d: {i.id: array("d") for i in dim.items} for d, dim in self.dims.items()
        }
        self.crit_attain: dict[str, Values] = {c: array("d") for c in template.criteria}
        self.crit_counts: dict[str, dict[str, int]] = {
            c: {o.value: 0 for o in template.scale_of(c).options} for c in template.criteria
        }
        self.crit_status: dict[str, dict[str, int]] = {
            c: {"scored": 0, "excluded": 0, "unanswered": 0, "not_applicable": 0, "flagged": 0}
            for c in template.criteria
        }
        self.critical: dict[str, list[str]] = {}  # case id -> criteria (merged for repeated ids)
        self.critical_cases = 0
        self.critical_by_criterion: dict[str, int] = {}
        self.breakdown_fields = [f for f in template.case_fields if f.breakdown and not f.personal]
        # field -> value -> [scores], and field -> value -> dim -> item -> [scores]
        self.bd_cases: dict[str, dict[str, int]] = {f.id: defaultdict(int) for f in self.breakdown_fields}
        self.bd_scores: dict[str, dict[str, Values]] = {f.id: defaultdict(_values) for f in self.breakdown_fields}
        self.bd_items: dict[str, defaultdict[str, defaultdict[str, defaultdict[str, Values]]]] = {
            f.id: defaultdict(_dims_of_values) for f in self.breakdown_fields
        }
        self.spellings: dict[str, dict[str, set[str]]] = {}
        self.outcome_fields = [f for f in template.case_fields if f.is_categorical and not f.personal]
        self.field_counts: dict[str, dict[str, int]] = {
            f.id: {**{c: 0 for c in f.choices}, BLANK: 0} for f in self.outcome_fields
        }
        judge = template.judgement
        self.judgement_field = judge.id if judge and not judge.personal else None
        self.judge_table: dict[str, dict[str, int]] = defaultdict(_counts)

    # A run's workers each aggregate the cases they score (a partial ``Aggregator``) and the main
    # process merges the partials in input order: every figure, and the order of every key that
    # is not sorted on output, comes out as if the cases had been added one by one.

    _TEMPLATE_BOUND = ("template", "dims", "breakdown_fields", "outcome_fields")

    def __getstate__(self) -> dict[str, Any]:
        """A partial travels without its template: the side that merges it has its own."""
        return {k: v for k, v in self.__dict__.items() if k not in self._TEMPLATE_BOUND}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def merge(self, part: "Aggregator") -> None:
        """Fold in a partial aggregate of the same template, built from the cases after those
        already added."""
        self.n += part.n
        self.scores += part.scores
        _add_counts(self.ratings, part.ratings)
        for d, items in part.item_scores.items():
            mine = self.item_scores[d]
            for item, vals in items.items():
                mine[item] += vals
        for cid, vals in part.crit_attain.items():
            self.crit_attain[cid] += vals
        for cid, counts in part.crit_counts.items():
            _add_counts(self.crit_counts[cid], counts)
        for cid, counts in part.crit_status.items():
            _add_counts(self.crit_status[cid], counts)
        for case_id, crits in part.critical.items():
            merged = set(self.critical.get(case_id, [])) | set(crits)
            self.critical[case_id] = [c for c in self.template.criteria if c in merged]
        self.critical_cases += part.critical_cases
        _add_counts(self.critical_by_criterion, part.critical_by_criterion)
        for f, cases_by_value in part.bd_cases.items():
            _add_counts(self.bd_cases[f], cases_by_value)
        for f, scores_by_value in part.bd_scores.items():
            for v, scores in scores_by_value.items():
                self.bd_scores[f][v] += scores
        for f, items_by_value in part.bd_items.items():
            for v, dims in items_by_value.items():
                mine_v = self.bd_items[f][v]
                for d, items in dims.items():
                    mine_d = mine_v[d]
                    for item, item_scores in items.items():
                        mine_d[item] += item_scores
        for f, keys in part.spellings.items():
            mine_f = self.spellings.setdefault(f, {})
            for key, spelt in keys.items():
                mine_f.setdefault(key, set()).update(spelt)
        for f, counts in part.field_counts.items():
            _add_counts(self.field_counts[f], counts)
        for auditor, row in part.judge_table.items():
            _add_counts(self.judge_table[auditor], row)

    # ------------------------------------------------------------------ input

    def add_all(self, results: Iterable[CaseResult | dict[str, Any]]) -> "Aggregator":
        for r in results:
            self.add(r)
        return self

    def add(self, result: CaseResult | dict[str, Any]) -> None:
        r = result.to_dict() if isinstance(result, CaseResult) else result
        self.n += 1
        score = r["score"]
        if score is not None:
            self.scores.append(score)
        rating = r["rating"] if r["rating"] is not None else NOT_RATED
        self.ratings[rating] = self.ratings.get(rating, 0) + 1
        dimensions = r["dimensions"]
        for d, items in dimensions.items():
            bucket = self.item_scores.get(d)
            if bucket is None:
                continue
            for item, v in items.items():
                if v is not None and item in bucket:
                    bucket[item].append(v)
        crit_status, crit_counts, crit_attain = self.crit_status, self.crit_counts, self.crit_attain
        for cid, c in r["criteria"].items():
            status_counts = crit_status.get(cid)
            if status_counts is None:
                continue
            status = c["status"]
            status_counts[status] += 1
            if c.get("flagged"):
                status_counts["flagged"] += 1
            if status == "scored" or status == "excluded":
                answer = c["answer"]
                if answer is not None:
                    counts = crit_counts[cid]
                    counts[answer] = counts.get(answer, 0) + 1
                if status == "scored":
                    crit_attain[cid].append(c["points"] / c["max"])
        if r["critical_failures"]:
            self.critical_cases += 1
            for c in r["critical_failures"]:
                self.critical_by_criterion[c] = self.critical_by_criterion.get(c, 0) + 1
            merged = set(self.critical.get(r["id"], [])) | set(r["critical_failures"])
            self.critical[r["id"]] = [c for c in self.template.criteria if c in merged]
        fields = r.get("fields", {})
        if self.breakdown_fields:
            # every step/principle score of the case, once, for each breakdown value it counts under
            item_values = [(d, item, v) for d, items in dimensions.items() if d != "section"
                           for item, v in items.items() if v is not None]
        for f in self.breakdown_fields:
            raw = fields.get(f.id)
            values = raw if isinstance(raw, list) else [raw]
            values = [BLANK if v is None or v == "" else str(v) for v in values] or [BLANK]
            if f.type == "text":  # typed by hand: "North", "north " and "NORTH" are one team
                values = [self._spelling(f.id, v) for v in values]
            for v in dict.fromkeys(values):
                self.bd_cases[f.id][v] += 1
                if score is not None:
                    self.bd_scores[f.id][v].append(score)
                per_dim = self.bd_items[f.id][v]
                for d, item, s in item_values:
                    per_dim[d][item].append(s)
        for f in self.outcome_fields:
            raw = fields.get(f.id)
            counts = self.field_counts[f.id]
            if raw is None or raw == [] or raw == "":
                counts[BLANK] += 1
                continue
            for v in dict.fromkeys(raw if isinstance(raw, list) else [raw]):
                counts[v] = counts.get(v, 0) + 1
        if self.judgement_field is not None:
            auditor = fields.get(self.judgement_field) or r.get("judgement")
            if auditor:
                self.judge_table[str(auditor)][r["rating"] or NOT_RATED] += 1

    def _spelling(self, field_id: str, value: str) -> str:
        """The key a hand-typed value is counted under (case and spacing folded); the spellings
        seen are kept, and the report shows the first of them in sort order, whatever the
        order cases arrive in."""
        if value == BLANK:
            return value
        key = " ".join(value.split()).casefold()
        self.spellings.setdefault(field_id, {}).setdefault(key, set()).add(" ".join(value.split()))
        return key

    # ------------------------------------------------------------------ output

    def _bands_of(self, values: Values) -> dict[str, float | None]:
        counts = {b.label: 0 for b in self.template.bands}
        for v in values:
            label = self.template.band_for(v)
            if label is not None:
                counts[label] += 1
        return {k: share(c, len(values)) for k, c in counts.items()}

    def to_dict(self) -> dict[str, Any]:
        rated = len(self.scores)
        dims = {
            d: {
                item: {"mean": mean(vals), "cases": len(vals), "bands": self._bands_of(vals)}
                for item, vals in items.items()
            }
            for d, items in self.item_scores.items()
        }
        criteria: dict[str, Any] = {}
        for cid, crit in self.template.criteria.items():
            st = self.crit_status[cid]
            att = mean(self.crit_attain[cid])
            criteria[cid] = {
                "attainment": att,
                "scored": st["scored"],
                "counts": dict(self.crit_counts[cid]),
                "unanswered": st["unanswered"],
                "excluded": st["excluded"],
                "not_applicable": st["not_applicable"],
                "flagged": st["flagged"],
                # Weighted shortfall: how much this criterion pulls scores down across the round.
                "shortfall": (
                    math.fsum(crit.weight * (1 - a) for a in self.crit_attain[cid]) if crit.weight > 0 else 0.0
                ),
            }
        breakdowns: dict[str, Any] = {}
        for f in self.breakdown_fields:
            per: dict[str, Any] = {}
            for v in sorted(self.bd_cases[f.id], key=lambda s: (s == BLANK, s.casefold())):
                shown = min(self.spellings[f.id][v]) if v in self.spellings.get(f.id, {}) else v
                per[shown] = {
                    "cases": self.bd_cases[f.id][v],
                    "rated": len(self.bd_scores[f.id].get(v, ())),
                    "mean_score": mean(self.bd_scores[f.id].get(v, ())),
                    "dimensions": {
                        d: {
                            item.id: mean(self.bd_items[f.id][v][d][item.id]) if v in self.bd_items[f.id] else None
                            for item in dim.items
                        }
                        for d, dim in self.dims.items()
                        if d != "section"
                    },
                }
            breakdowns[f.id] = per
        fields = {f: dict(c) for f, c in self.field_counts.items()}
        field_shares = {f: {k: share(v, self.n) for k, v in c.items()} for f, c in self.field_counts.items()}
        out: dict[str, Any] = {
            "cases": self.n,
            "rated": rated,
            "mean_score": mean(self.scores),
            "ratings": dict(self.ratings),
            "rating_shares": {k: share(v, self.n) for k, v in self.ratings.items()},
            "dimensions": dims,
            "criteria": criteria,
            "critical_failures": {
                "cases": self.critical_cases,
                "by_case": {k: self.critical[k] for k in sorted(self.critical)},
                "by_criterion": {
                    c: n
                    for c in self.template.criteria
                    if (n := self.critical_by_criterion.get(c, 0))
                },
            },
            "breakdowns": breakdowns,
            "fields": fields,
            "field_shares": field_shares,
        }
        if self.judgement_field is not None:
            compared = sum(sum(row.values()) for row in self.judge_table.values())
            agree = sum(self.judge_table[k].get(k, 0) for k in self.judge_table)
            out["judgement"] = {
                "field": self.judgement_field,
                "compared": compared,
                "agree": agree,
                "agreement": share(agree, compared),
                "table": {a: dict(row) for a, row in sorted(self.judge_table.items(), key=lambda kv: self._rank(kv[0]))},
            }
        return out

    def _rank(self, label: str) -> int:
        labels = [b.label for b in self.template.bands]
        return labels.index(label) if label in labels else len(labels)
