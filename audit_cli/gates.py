"""Thresholds a scheduled run must meet: ``"mean >= 75"``, ``"step:7 >= 70"`` and so on.

Parsed and checked against the template before anything is read (an unknown
dimension or item is a usage error), evaluated on the aggregate after.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import UsageError
from .model import Template

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_GATE = re.compile(r"^\s*(?P<metric>[^<>=]+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)\s*$")
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
            rated = agg["rated"]
            v = 100.0 * agg["ratings"].get(self.item, 0) / rated if rated else None
        else:
            v = agg["dimensions"][self.metric][str(self.item)]["mean"]
        return v

    def evaluate(self, doc: dict[str, Any]) -> dict[str, Any]:
        v = self.value(doc)
        passed = v is not None and OPERATORS[self.op](v, self.threshold)
        return {"gate": self.text, "value": v, "passed": passed}


def parse_gate(text: str, template: Template) -> Gate:
    m = _GATE.match(text)
    if not m:
        raise UsageError(f"gate {text!r} is not 'METRIC OP NUMBER' (for example 'mean >= 75' or 'step:7 >= 70')")
    metric, op, value = m.group("metric").strip(), m.group("op"), float(m.group("value"))
    canonical = f"{metric} {op} {m.group('value')}"
    if metric in SIMPLE_METRICS:
        return Gate(canonical, metric, None, op, value)
    if ":" not in metric:
        raise UsageError(
            f"gate {text!r}: unknown measure {metric!r} (use mean, critical_failures, rejected, share:BAND or DIMENSION:ITEM)"
        )
    dim, item = (s.strip() for s in metric.split(":", 1))
    if dim == "share":
        labels = [b.label for b in template.bands]
        match = next((b for b in labels if b.casefold() == item.casefold()), None)
        if match is None:
            raise UsageError(f"gate {text!r}: {item!r} is not a band of {template.id} ({', '.join(labels)})")
        return Gate(f"share:{match} {op} {m.group('value')}", "share", match, op, value)
    dims = template.all_dimensions()
    if dim not in dims:
        raise UsageError(f"gate {text!r}: dimension {dim!r} is not in {template.id} ({', '.join(dims)})")
    ids = [i.id for i in dims[dim].items]
    found = next((i for i in ids if i.casefold() == item.casefold()), None)
    if found is None:
        raise UsageError(f"gate {text!r}: {dim} {item!r} is not in {template.id} ({', '.join(ids)})")
    return Gate(f"{dim}:{found} {op} {m.group('value')}", dim, found, op, value)


def fail_under_gate(pct: float) -> str:
    return f"mean >= {pct:g}"


def evaluate_gates(gates: list[Gate], doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [g.evaluate(doc) for g in gates]
