"""Thresholds a scheduled run must meet: ``"mean >= 75"``, ``"step:7 >= 70"`` and so on.

Parsed and checked against the template before anything is read (an unknown
dimension or item is a usage error), evaluated on the aggregate after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import UsageError
from .model import SCORE_EPSILON, Template

#: Scores are sums of floating-point fractions: 2/10 + 7/10 of two equal weights is 44.99999999999999,
#: not 45. Comparisons allow for that much and no more, as ``Template.band_for`` does.
EPS = SCORE_EPSILON
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda v, t: v >= t - EPS,
    ">": lambda v, t: v > t + EPS,
    "<=": lambda v, t: v <= t + EPS,
    "<": lambda v, t: v < t - EPS,
    "==": lambda v, t: abs(v - t) <= EPS,
}
_GATE = re.compile(
    r"^\s*(?P<metric>[^<>=]+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")
SIMPLE_METRICS = ("mean", "critical_failures", "rejected")


@dataclass(frozen=True)
class Gate:
    text: str
    metric: str  # mean | critical_failures | rejected | share | <dimension>
    item: str | None
    op: str
    threshold: float

    def value(self, doc: dict[str, Any]) -> float | None:
        agg = doc["aggregate"]
        if self.metric == "mean":
            v: float | None = agg["mean_score"]
        elif self.metric == "critical_failures":
            v = float(agg["critical_failures"]["cases"])
        elif self.metric == "rejected":
            v = float(sum(1 for i in doc["inputs"] if i["status"] == "rejected"))
        elif self.metric == "share":
            # Percent of *rated* cases in the band (issue 7): not-rated cases have no band to be in.
            rated = agg["rated"]
            v = 100.0 * agg["ratings"].get(self.item, 0) / rated if rated else None
        else:
            v = agg["dimensions"][self.metric][str(self.item)]["mean"]
        return v

    def evaluate(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The gate's result as stored in results.json; no value (nothing to measure) fails."""
        v = self.value(doc)
        passed = v is not None and OPERATORS[self.op](v, self.threshold)
        return {"gate": self.text, "value": v, "passed": passed,
                "metric": self.metric, "item": self.item, "op": self.op, "threshold": self.threshold}


def parse_gate(text: str, template: Template) -> Gate:
    m = _GATE.match(text)
    if not m:
        raise UsageError(f"gate {text!r} is not 'METRIC OP NUMBER' (for example 'mean >= 75' or 'step:7 >= 70')")
    metric, op, value = m.group("metric").strip(), m.group("op"), float(m.group("value"))
    if metric.casefold() in SIMPLE_METRICS:
        metric = metric.casefold()
        return Gate(f"{metric} {op} {m.group('value')}", metric, None, op, value)
    if ":" not in metric:
        raise UsageError(
            f"gate {text!r}: unknown measure {metric!r} (use mean, critical_failures, rejected, share:BAND or DIMENSION:ITEM)"
        )
    dim, item = (s.strip() for s in metric.split(":", 1))
    if dim.casefold() == "share":
        labels = [b.label for b in template.bands]
        match = next((b for b in labels if b.casefold() == item.casefold()), None)
        if match is None:
            raise UsageError(f"gate {text!r}: {item!r} is not a band of {template.id} ({', '.join(labels)})")
        return Gate(f"share:{match} {op} {m.group('value')}", "share", match, op, value)
    dims = template.all_dimensions()
    dim = next((d for d in dims if d.casefold() == dim.casefold()), dim)
    if dim not in dims:
        raise UsageError(f"gate {text!r}: dimension {dim!r} is not in {template.id} ({', '.join(dims)})")
    ids = [i.id for i in dims[dim].items]
    found = next((i for i in ids if i.casefold() == item.casefold()), None)
    if found is None:
        raise UsageError(f"gate {text!r}: {dim} {item!r} is not in {template.id} ({', '.join(ids)})")
    return Gate(f"{dim}:{found} {op} {m.group('value')}", dim, found, op, value)


def fail_under_gate(pct: float) -> str:
    """``--fail-under PCT`` as the gate ``mean >= PCT``, with PCT exactly as given (75, 73.80953)."""
    return f"mean >= {int(pct) if float(pct).is_integer() else repr(float(pct))}"


def evaluate_gates(gates: list[Gate], doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [g.evaluate(doc) for g in gates]


COUNT_METRICS = ("critical_failures", "rejected")


def shown_value(result: dict[str, Any]) -> str:
    """A gate result's value for people: counts as whole numbers, scores to one decimal place,
    and more places when one place would hide why the gate passed or failed (74.96 is not >= 75)."""
    value, op, threshold = result["value"], result.get("op"), result.get("threshold")
    if value is None:
        return "no value"
    if result.get("metric") in COUNT_METRICS:
        return str(int(value))
    text = f"{value:.1f}"
    if op in OPERATORS and threshold is not None and OPERATORS[op](float(text), threshold) != OPERATORS[op](value, threshold):
        text = f"{value:.6g}"
    return text


def failure_message(result: dict[str, Any]) -> str:
    """Why a gate failed, in one line: ``mean >= 75 (value: 62.5)``."""
    if result["value"] is None:
        return f"{result['gate']} (no value: nothing in this run to measure it on)"
    return f"{result['gate']} (value: {shown_value(result)})"
