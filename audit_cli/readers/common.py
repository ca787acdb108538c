"""What every reader shares: turning labels, cells and marks into a ``Case``.

A reader finds *where* things are in its format; ``CaseBuilder`` decides what
they mean, so a value means the same in JSON, Excel and Word and every problem
is an ``Issue`` at its location.
"""

from __future__ import annotations

from typing import Any

from ..model import Answer, Case, CaseField, Criterion, Issue, Severity, Template
from ..values import AnswerMatcher, ValueProblem, is_blank, norm_answer, norm_key, parse_field, quoted, text_of


class TemplateIndex:
    """Lookups a reader needs, built once per template."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.fields_by_key: dict[str, CaseField] = {}
        for f in template.case_fields:
            self.fields_by_key.setdefault(norm_key(f.id), f)
            self.fields_by_key.setdefault(norm_key(f.label), f)
        self.criteria_by_key: dict[str, Criterion] = {norm_key(c): crit for c, crit in template.criteria.items()}
        self.criteria_by_text: dict[str, Criterion] = {}
        for crit in template.criteria.values():
            self.criteria_by_text.setdefault(norm_key(crit.text), crit)
        #: each criterion key's first characters, to rule out long texts cheaply (grid._criterion_key)
        self.key_heads: set[str] = {k[:8] for k in (*self.criteria_by_key, *self.criteria_by_text)}
        self.matchers: dict[str, AnswerMatcher] = {sid: AnswerMatcher(s) for sid, s in template.scales.items()}
        # Every spelling of every option of every scale: used to recognise option columns.
        self.option_words: set[str] = set()
        # word -> the (scale, option value) pairs it names: ``Yes`` and ``Green`` are one option.
        self.option_values: dict[str, set[tuple[str, str]]] = {}
        for sid, s in template.scales.items():
            for o in s.options:
                for w in (o.value, o.label, *o.synonyms):
                    key = norm_answer(w)
                    self.option_words.add(key)
                    self.option_values.setdefault(key, set()).add((sid, o.value))
        # grid.py's verdict on short cell texts as headers: (role, names an option, stripped text)
        self.header_cells: dict[str, tuple[str | None, bool, str]] = {}

    def field(self, label: Any) -> CaseField | None:
        """The case field a label names (by id or label; case, punctuation, spacing and a trailing ``:`` ignored)."""
        return self.fields_by_key.get(norm_key(label)) if not is_blank(label) else None

    def criterion(self, id_text: Any = None, question: Any = None) -> Criterion | None:
        """By id first; by the question's text when the id is empty or unknown."""
        if not is_blank(id_text):
            crit = self.criteria_by_key.get(norm_key(text_of(id_text)))
            if crit:
                return crit
        if not is_blank(question):
            return self.criteria_by_text.get(norm_key(text_of(question)))
        return None

    def matcher(self, criterion_id: str) -> AnswerMatcher:
        return self.matchers[self.template.criteria[criterion_id].scale]


def index_for(template: Template) -> TemplateIndex:
    return template.derived("reader_index", TemplateIndex)


def _optional_text(value: Any) -> str | None:
    """Evidence or a comment: its text, or None when the cell is empty."""
    return None if is_blank(value) else text_of(value)


class CaseBuilder:
    """Collects one case's fields and answers, with locations, and every problem met."""

    def __init__(self, template: Template, source: str, location: str | None = None) -> None:
        self.template = template
        self.index = index_for(template)
        self.source = source
        self.location = location
        self.fields: dict[str, Any] = {}
        self.field_locations: dict[str, str] = {}
        self.answers: dict[str, Answer] = {}
        self.issues: list[Issue] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------------ issues

    def issue(self, severity: Severity, code: str, message: str, location: str | None = None,
              quote: str | None = None) -> None:
        """``quote``: the case text the message quotes, withheld from shared outputs."""
        self.issues.append(Issue(severity, code, message, location, quote))

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    # ------------------------------------------------------------------ fields

    def set_field(self, fld: CaseField, value: Any, location: str | None) -> None:
        """Parse and keep a field value; a blank value is simply absent."""
        if is_blank(value):
            return
        try:
            parsed = parse_field(fld, value)
        except ValueProblem as exc:
            # Never quote a personal field's value: messages reach results.json.
            if fld.personal:
                self.issue("error", "bad-field-value", f"{fld.label}: value is not valid for a {fld.type} field", location)
            else:
                self.issue("error", "bad-field-value", f"{fld.label}: {exc}", location, exc.quote)
            return
        if is_blank(parsed):
            return
        if fld.id in self.fields:
            if self.fields[fld.id] != parsed:
                self.issue(
                    "warning",
                    "duplicate-field",
                    f"{fld.label} is given again with a different value; the first (at {self.field_locations.get(fld.id) or 'earlier'}) is used",
                    location,
                )
            return
        self.fields[fld.id] = parsed
        if location:
            self.field_locations[fld.id] = location

    def set_field_by_label(self, label: Any, value: Any, location: str | None) -> bool:
        fld = self.index.field(label)
        if fld is None:
            return False
        self.set_field(fld, value, location)
        return True

    # ------------------------------------------------------------------ answers

    def _store(self, criterion_id: str, answer: Answer) -> None:
        if criterion_id in self.answers:
            prev = self.answers[criterion_id]
            if prev.value is None and prev.raw is None:
                self.answers[criterion_id] = answer  # an empty earlier row gives way
            elif answer.value is not None or answer.raw is not None:
                self.issue(
                    "warning",
                    "duplicate-answer",
                    f"{criterion_id} is answered again; the first answer (at {prev.location or 'earlier'}) is used",
                    answer.location,
                )
            return
        self.answers[criterion_id] = answer

    def set_answer(
        self,
        criterion_id: str,
        raw: Any,
        location: str | None,
        evidence: Any = None,
        comment: Any = None,
    ) -> None:
        """An answer as text: matched to the criterion's scale by value, label or synonym."""
        ev, co = _optional_text(evidence), _optional_text(comment)
        if is_blank(raw):
            self._store(criterion_id, Answer(None, None, ev, co, location))
            return
        text = text_of(raw)
        matcher = self.index.matcher(criterion_id)
        option = matcher.match(text)
        if option is None:
            self.issue(
                "error",
                "unknown-answer",
                f"{quoted(text)} is not an answer for {criterion_id} ({matcher.choices_text()})",
                location,
                quoted(text),
            )
            self._store(criterion_id, Answer(None, text, ev, co, location))
            return
        self._store(criterion_id, Answer(option.value, text, ev, co, location))

    def set_answer_option(
        self,
        criterion_id: str,
        option_value: str,
        location: str | None,
        evidence: Any = None,
        comment: Any = None,
    ) -> None:
        """An answer given by a mark or a ticked box: the option is already known."""
        option = self.template.scale_of(criterion_id).option(option_value)
        ev, co = _optional_text(evidence), _optional_text(comment)
        self._store(criterion_id, Answer(option.value, option.label, ev, co, location))

    def set_unreadable(
        self,
        criterion_id: str,
        raw: str,
        location: str | None,
        evidence: Any = None,
        comment: Any = None,
    ) -> None:
        """An answer given but unusable (two marks in a row): an error already says why, so the
        criterion counts as unanswered without a second "not answered" warning."""
        ev, co = _optional_text(evidence), _optional_text(comment)
        self._store(criterion_id, Answer(None, raw, ev, co, location))

    def add_note(self, text: str) -> None:
        if text.strip():
            self.notes.append(text.strip())

    # ------------------------------------------------------------------ result

    def identifier(self) -> str | None:
        value = self.fields.get(self.template.identifier.id)
        return None if is_blank(value) else text_of(value)

    def build(self, fallback_id: str | None = None) -> Case | None:
        """The case; None when it has no identifier and no fallback (an error says so).

        A form falls back to its file name (with a warning); a register row has no
        fallback and is not scored without its reference.
        """
        ident = self.identifier()
        if ident is None:
            label = self.template.identifier.label
            if fallback_id is None:
                self.issue("error", "missing-identifier", f"no {label}: this case is not scored", self.location)
                return None
            self.issue(
                "warning",
                "missing-identifier",
                f"no {label} found; the file name {fallback_id!r} is used instead",
                self.location,
            )
            ident = fallback_id
        return Case(
            id=ident,
            source=self.source,
            location=self.location,
            fields=self.fields,
            field_locations=self.field_locations,
            answers=self.answers,
            issues=self.issues,
            notes="\n\n".join(self.notes) or None,
        )
