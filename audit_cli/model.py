"""Plain data shared by every layer: templates, cases, issues and results.

Nothing here reads files or prints; the classes only hold data and say how to
turn it into JSON-ready dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, TypeVar

Severity = Literal["error", "warning"]
#: how far a computed score may sit below a band's minimum (or a gate's threshold) from
#: floating-point rounding alone and still reach it
SCORE_EPSILON = 1e-9
#: stands in shared outputs for the case text an issue quotes
WITHHELD = "this value"
T = TypeVar("T")
Status = Literal["scored", "excluded", "unanswered", "not_applicable"]
FieldValue = Any  # str | float | bool | list[str] | None; dates are ISO strings


# --------------------------------------------------------------------------- template


@dataclass(frozen=True)
class ScaleOption:
    value: str
    label: str
    points: float | None
    synonyms: tuple[str, ...] = ()
    flag: bool = False


@dataclass(frozen=True)
class Scale:
    id: str
    options: tuple[ScaleOption, ...]

    @property
    def max_points(self) -> float:
        """The largest numeric points: the denominator of attainment."""
        return max(o.points for o in self.options if o.points is not None)

    def option(self, value: str) -> ScaleOption:
        for o in self.options:
            if o.value == value:
                return o
        raise KeyError(value)

    def labels(self) -> list[str]:
        return [o.label for o in self.options]


@dataclass(frozen=True)
class DimensionItem:
    id: str
    title: str
    group: str | None = None
    statement: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str
    items: tuple[DimensionItem, ...]

    def item(self, item_id: str) -> DimensionItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)


@dataclass(frozen=True)
class CaseField:
    id: str
    label: str
    type: str  # text | number | date | boolean | choice | multichoice
    choices: tuple[str, ...] = ()
    role: str | None = None  # identifier | judgement
    personal: bool = False
    breakdown: bool = False
    help: str | None = None

    @property
    def is_categorical(self) -> bool:
        return self.type in ("choice", "multichoice")


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    scale: str
    section: str
    weight: float = 1.0
    critical: bool = False
    guidance: str | None = None
    map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    applies_if: dict[str, Any] | None = None


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    criteria: tuple[Criterion, ...]
    description: str | None = None


@dataclass(frozen=True)
class Band:
    label: str
    min: float


@dataclass
class Template:
    id: str
    version: str
    title: str
    scales: dict[str, Scale]
    dimensions: dict[str, Dimension]
    case_fields: tuple[CaseField, ...]
    sections: tuple[Section, ...]
    bands: tuple[Band, ...]  # descending by min
    critical_cap: str | None  # None: a failed critical criterion caps nothing
    description: str | None = None
    source: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.criteria: dict[str, Criterion] = {
            c.id: c for s in self.sections for c in s.criteria
        }
        self.fields: dict[str, CaseField] = {f.id: f for f in self.case_fields}

    @property
    def identifier(self) -> CaseField:
        return next(f for f in self.case_fields if f.role == "identifier")

    @property
    def judgement(self) -> CaseField | None:
        return next((f for f in self.case_fields if f.role == "judgement"), None)

    def scale_of(self, criterion_id: str) -> Scale:
        return self.scales[self.criteria[criterion_id].scale]

    def derived(self, key: str, build: Callable[[Template], T]) -> T:
        """Something worked out from the template once and kept with it (the readers' index,
        the scoring plan, a workbook's layout). A Template is not hashable, so no lru_cache;
        the cache travels with the template when it is pickled to a worker process."""
        cache: dict[str, Any] = self.__dict__.setdefault("_derived", {})
        if key not in cache:
            cache[key] = build(self)
        value: T = cache[key]
        return value

    def all_dimensions(self) -> dict[str, Dimension]:
        """Declared dimensions plus the implicit ``section`` dimension."""
        return dict(self.derived("all_dimensions", _all_dimensions))

    def items_of(self, criterion: Criterion) -> dict[str, tuple[str, ...]]:
        """Every dimension item a criterion counts towards, section included."""
        m = dict(criterion.map)
        if "section" not in self.dimensions:
            m["section"] = (criterion.section,)
        return m

    def band_rank(self, label: str) -> int:
        """0 is the best band."""
        return [b.label for b in self.bands].index(label)

    def band_for(self, score: float | None) -> str | None:
        if score is None:
            return None
        for b in self.bands:
            if score >= b.min - SCORE_EPSILON:
                return b.label
        return None


def _all_dimensions(t: Template) -> dict[str, Dimension]:
    dims = dict(t.dimensions)
    if "section" not in dims:
        dims["section"] = Dimension("section", "Sections", tuple(DimensionItem(s.id, s.title) for s in t.sections))
    return dims


# --------------------------------------------------------------------------- cases


@dataclass
class Issue:
    """A problem in a file or case. ``quote`` is the part of ``message`` that is the case's own
    text (``'Maybe'``): shown on the terminal and in the per-case workbook, withheld from
    results.json and everything built from it, which never carry free text from a case."""

    severity: Severity
    code: str
    message: str
    location: str | None = None
    quote: str | None = None

    @property
    def shared_message(self) -> str:
        if not self.quote:
            return self.message
        return self.message.replace(self.quote, WITHHELD)

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.shared_message,
            "location": self.location,
        }

    def line(self, source: str | None = None) -> str:
        """One line for the terminal: ``file: location: severity: message``."""
        parts = [p for p in (source, self.location) if p]
        where = ": ".join(parts)
        return f"{where + ': ' if where else ''}{self.severity}: {self.message}"


@dataclass
class Answer:
    """One criterion's answer as read, with where it came from.

    ``value`` is the matched scale option's value, or None when the cell was
    empty or its text matched no option (then an error issue says so).
    """

    value: str | None
    raw: str | None = None
    evidence: str | None = None
    comment: str | None = None
    location: str | None = None


@dataclass
class Case:
    id: str
    source: str
    location: str | None = None  # where in the source the case starts (registers)
    fields: dict[str, FieldValue] = field(default_factory=dict)
    field_locations: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    notes: str | None = None


# --------------------------------------------------------------------------- results


@dataclass
class CriterionResult:
    status: Status
    answer: str | None
    points: float | None
    max: float
    weight: float
    location: str | None = None
    flagged: bool = False

    @property
    def attainment(self) -> float | None:
        if self.status != "scored" or self.points is None:
            return None
        return self.points / self.max

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "status": self.status,
            "answer": self.answer,
            "points": self.points,
            "max": self.max,
            "weight": self.weight,
            "attainment": self.attainment,
            "location": self.location,
        }
        if self.flagged:
            d["flagged"] = True
        return d


@dataclass
class CaseResult:
    id: str
    source: str
    location: str | None
    score: float | None
    rating: str | None
    critical_failures: list[str]
    dimensions: dict[str, dict[str, float | None]]
    criteria: dict[str, CriterionResult]
    fields: dict[str, FieldValue]  # already filtered: nothing personal, no free text
    issues: list[Issue]
    judgement: str | None = None

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "location": self.location,
            "score": self.score,
            "rating": self.rating,
            "judgement": self.judgement,
            "critical_failures": list(self.critical_failures),
            "dimensions": {k: dict(v) for k, v in self.dimensions.items()},
            "criteria": {k: v.to_dict() for k, v in self.criteria.items()},
            "fields": dict(self.fields),
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class InputRecord:
    """One file the run looked at."""

    path: str
    sha256: str | None
    status: Literal["read", "rejected", "skipped"]
    cases: int = 0
    error: str | None = None
    note: str | None = None
    issues: list[Issue] = field(default_factory=list)  # file-level issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status,
            "cases": self.cases,
            "error": self.error,
            "note": self.note,
            "issues": [i.to_dict() for i in self.issues],
        }
