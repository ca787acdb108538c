"""Realistic synthetic case files for ``msp-core``, in every format and layout ``score`` reads.

For trying the tool out, for the README's first command and for benchmarks.
Everything is made up: names are obviously fictional ("Test Person 014",
"Ada Example"), and every value comes from a seeded random generator, so the
same seed gives byte-identical files. Each file has its own generator, so file
``n`` is the same whatever ``count`` is.

Answers follow a per-case practice quality, so ratings spread across the bands,
with a few critical failures, some "Not applicable" and "Unable to determine",
and B3 answered only when the adult lacked capacity.

Word files are assembled from WordprocessingML directly on top of python-docx's
default package (styles, theme): python-docx itself takes ~70 ms per document,
too slow for a 5,000-file benchmark set.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from .forms import Filled, FilledAnswer, excel_form
from .model import CaseField, Template
from .readers.common import index_for

SAMPLE_TEMPLATE = "msp-core"
#: every layout, in the order files cycle through them
LAYOUTS: tuple[str, ...] = (
    "json-case",
    "json-register",
    "xlsx-form",
    "xlsx-council",
    "xlsx-marks",
    "xlsx-register",
    "docx-form",
    "docx-marks",
    "docx-notes",
)
#: fixed so that files are stable: document properties and the end of the sample period
SAMPLE_CREATED = dt.datetime(2026, 1, 5, 9, 30, 0)
PERIOD_END = dt.date(2026, 9, 30)
_ZIP_TIME = (2026, 1, 5, 9, 30, 0)

# --------------------------------------------------------------------------- vocabulary

_NAMES = (
    "Ada Example", "Bertie Sample", "Clara Placeholder", "Dora Dummy", "Edgar Testcase",
    "Freya Fictional", "Gus Madeup", "Hattie Specimen", "Ivor Instance", "Jemima Mock",
    "Kit Notreal", "Lottie Lorem", "Monty Ipsum", "Nell Pretend", "Otto Exemplar",
)
_AGENCY_TEAMS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("Adult Social Care", 0.58, ("North Locality", "South Locality", "East Locality", "West Locality",
                                 "Hospital Discharge Team", "Learning Disability Team")),
    ("NHS Trust", 0.16, ("Community Mental Health Team", "Safeguarding Nursing Team", "District Nursing")),
    ("Police", 0.09, ("Adult Protection Unit", "Public Protection Hub")),
    ("Housing", 0.09, ("Tenancy Sustainment Team", "Housing Options")),
    ("Care Provider", 0.08, ("Residential Services", "Home Care Services")),
)
_AUDITORS = (
    "Team Manager", "Senior Practitioner", "Principal Social Worker", "Quality Assurance Officer",
    "Safeguarding Adults Manager", "Named Nurse for Safeguarding", "Detective Sergeant, Safeguarding Unit",
    "Housing Safeguarding Lead",
)
_RISK_WEIGHTS = {
    "Neglect and Acts of Omission": 8, "Financial or Material Abuse": 6, "Physical Abuse": 6, "Self-Neglect": 5,
    "Psychological Abuse": 5, "Domestic Abuse": 3, "Organisational Abuse": 2, "Sexual Abuse": 1.5,
    "Discriminatory Abuse": 0.6, "Modern Slavery": 0.4, "Sexual Exploitation": 0.5,
}
_LOCATION_WEIGHTS = {
    "Own Home": 10, "Care Home - Residential": 4, "Care Home - Nursing": 3, "In the Community": 2,
    "Hospital - Acute": 1.2, "Community Service": 1, "Hospital - Mental Health": 0.8,
    "Hospital - Community": 0.5, "Other": 0.5,
}
_SOURCE_WEIGHTS = {"Other - Known to individual": 6, "Service Provider": 4, "Other - Unknown to individual": 1}
_RAO_WEIGHTS = {
    "Risk identified and action taken": 12, "Risk Assessment inconclusive and action taken": 3,
    "No risk identified and no action taken": 2, "Risk identified and no action taken": 1,
    "No risk identified and action taken": 1, "Risk Assessment inconclusive and no action taken": 1,
    "Enquiry ceased at individual's request and no action taken": 1.2,
}

#: practice quality per rating tier (Outstanding, Good, Requires improvement, Inadequate)
_TIERS: tuple[float, ...] = (0.97, 0.8, 0.6, 0.36)
#: how often each tier comes up: single-case files step through the cycle, register rows draw by weight
_TIER_CYCLE: tuple[int, ...] = (1, 2, 0, 1, 2, 3, 1)
_TIER_WEIGHTS: tuple[float, ...] = (2, 5, 4, 1.5)

_EVIDENCE = {
    "yes": (
        "Recorded in the adult's own words in the case note of {d}.",
        "Clearly set out in the enquiry plan dated {d}.",
        "Evidenced in the strategy discussion minutes and again in the closure summary.",
        "Recorded at first contact and revisited at the review visit on {d}.",
        "Manager's oversight entry of {d} confirms this and gives reasons.",
        "Well evidenced throughout the record; see the visit notes of {d}.",
    ),
    "partly": (
        "Mentioned in the case notes of {d} but not revisited later.",
        "Recorded only in the worker's words, not the adult's.",
        "Present at the planning stage; missing at closure.",
        "Partly recorded: the reasoning behind the decision is not written down.",
        "Covered for the main concern but not for the other risks identified.",
    ),
    "no": (
        "No record found anywhere in the case file.",
        "Not evidenced in the enquiry record between referral and closure.",
        "The closure summary is silent on this.",
        "Not considered, although the provider raised it on {d}.",
    ),
    "na": (
        "Does not apply to this enquiry; the reason is recorded in the closure summary.",
        "Not relevant to this case, as the worker recorded on {d}.",
    ),
    "unknown": (
        "The partner agency's records were not available to the auditor.",
        "The relevant case notes could not be located on the system.",
    ),
}
_COMMENTS = (
    "Good practice worth sharing with the team.",
    "Discuss in supervision.",
    "Learning point for the next team meeting.",
    "Raise with the practice lead.",
    "Consistent with the rest of the record.",
    "Recording could be more analytical.",
    "Chase the partner agency for their report.",
)
_NOTE_LINES = (
    "Concern raised with {agency} about {risk_lc} {place}.",
    "The adult was visited at home with an advocate present and said they wanted to feel safe and stay where they are.",
    "A strategy discussion agreed that {agency} would lead the enquiry with support from the GP.",
    "The enquiry found that the risk had been reduced by a change of care provider and a carer's assessment.",
    "The adult said at closure that they felt listened to, but wanted the process to have been quicker.",
    "Information was shared with the police with the adult's consent; no further action was taken.",
)
_PLACES = {
    "Own Home": "at the adult's home", "In the Community": "in the community", "Community Service": "at a day service",
    "Care Home - Nursing": "at a nursing home", "Care Home - Residential": "at a residential care home",
    "Hospital - Acute": "on an acute hospital ward", "Hospital - Mental Health": "on a mental health ward",
    "Hospital - Community": "at a community hospital", "Other": "at a supported living scheme",
}
_CHRONOLOGY = (
    "Concern received and screened by the duty team.",
    "Decision to make Section 42 enquiries, recorded by the team manager.",
    "First visit to the adult; desired outcomes discussed.",
    "Strategy discussion with health and the care provider.",
    "Review visit; safety plan agreed with the adult.",
    "Closure discussed with the adult and their daughter.",
    "Enquiry closed with manager sign-off.",
)

#: alternative spellings councils use; each is checked against the template before use
_SPELLINGS: dict[str, dict[str, str]] = {
    "label": {},
    "met": {"yes": "Met", "partly": "Partially met", "no": "Not met", "na": "N/A", "unknown": "Unable to determine"},
    "short": {"yes": "Y", "partly": "Partial", "no": "N", "na": "n/a", "unknown": "Unknown"},
    "rag": {"yes": "Green", "partly": "Amber", "no": "Red", "na": "N/A", "unknown": "Can't tell"},
}
_MARKS = ("x", "X", "✓", "✔")


# --------------------------------------------------------------------------- synthetic cases


@dataclass
class SampleAnswer:
    value: str | None  # a scale option's value; None = left blank
    evidence: str | None = None
    comment: str | None = None


@dataclass
class SampleCase:
    """One made-up case: typed field values (dates as ``date``, multichoice as lists) and answers."""

    fields: dict[str, Any]
    answers: dict[str, SampleAnswer]
    tier: int
    notes: list[str] = field(default_factory=list)
    chronology: list[tuple[dt.date, str]] = field(default_factory=list)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _ddmmyyyy(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def _answer_value(rng: random.Random, quality: float) -> str:
    r = rng.random()
    if r < 0.035:
        return "na"
    if r < 0.055:
        return "unknown"
    x = quality + rng.gauss(0.0, 0.17)
    return "yes" if x > 0.7 else ("partly" if x > 0.43 else "no")


def make_case(template: Template, rng: random.Random, case_ref: str, tier: int | None = None) -> SampleCase:
    """A plausible case: fields, answers correlated with one practice quality, evidence and notes."""
    if tier is None:
        tier = rng.choices(range(len(_TIERS)), weights=_TIER_WEIGHTS)[0]
    quality = _TIERS[tier]
    agency, teams = _pick_agency(rng)
    concern = PERIOD_END - dt.timedelta(days=rng.randint(75, 720))
    closed = min(concern + dt.timedelta(days=rng.randint(10, 110)), PERIOD_END - dt.timedelta(days=20))
    audited = min(closed + dt.timedelta(days=rng.randint(7, 60)), PERIOD_END)
    risks = [_weighted(rng, _RISK_WEIGHTS)]
    if rng.random() < 0.3:
        extra = _weighted(rng, _RISK_WEIGHTS)
        if extra not in risks:
            risks.append(extra)
    lacked = _weighted(rng, {"Yes, they lacked capacity": 25, "No, they did not lack capacity": 58,
                             "Don't know": 9, "Not recorded": 8})
    rao = _weighted(rng, _RAO_WEIGHTS)
    name = rng.choice(_NAMES) if rng.random() < 0.5 else f"Test Person {rng.randint(1, 999):03d}"
    fields: dict[str, Any] = {
        "case_ref": case_ref,
        "adult_name": name,
        "date_of_birth": dt.date(rng.randint(1928, 2001), rng.randint(1, 12), rng.randint(1, 28)),
        "team": rng.choice(teams),
        "agency": agency,
        "auditor": rng.choice(_AUDITORS),
        "audit_date": audited,
        "concern_date": concern,
        "closed_date": closed,
        "enquiry_type": "Section 42 Enquiry" if rng.random() < 0.85 else "Other Enquiry",
        "risk_types": risks,
        "risk_location": _weighted(rng, _LOCATION_WEIGHTS),
        "risk_source": _weighted(rng, _SOURCE_WEIGHTS),
        "risk_assessment_outcome": rao,
        "lacked_capacity": lacked,
    }
    if rao == "Risk identified and action taken":
        fields["risk_outcome"] = _weighted(rng, {"Risk reduced": 55, "Risk removed": 30, "Risk remained": 15})
    if lacked == "Yes, they lacked capacity":
        fields["advocate_support"] = _weighted(rng, {"Yes": 70, "No": 20, "Don't know": 10})

    answers: dict[str, SampleAnswer] = {}
    for crit in template.criteria.values():
        if crit.applies_if is not None and not _applies(crit.applies_if, fields):
            continue  # B3 and the like: left blank when the rule says it does not apply
        # Critical questions get a little more attention in practice: critical failures stay a minority.
        value = _answer_value(rng, quality + (0.07 if crit.critical else 0.0))
        evidence = rng.choice(_EVIDENCE[value]).format(d=_ddmmyyyy(concern + dt.timedelta(days=rng.randint(1, 40))))
        comment = rng.choice(_COMMENTS) if rng.random() < 0.25 else None
        answers[crit.id] = SampleAnswer(value, evidence if rng.random() < 0.85 else None, comment)
    if rng.random() < 0.12 and answers:
        blank = rng.choice(sorted(answers))
        answers[blank] = SampleAnswer(None)  # an auditor who missed one

    a1 = answers.get("A1", SampleAnswer(None)).value
    asked = {
        "yes": "Yes they were asked and outcomes were expressed",
        "partly": rng.choice(["Yes they were asked and outcomes were expressed",
                              "Yes they were asked but no outcomes were expressed"]),
        "no": rng.choice(["No", "Not recorded"]),
    }.get(a1 or "", "Don't know")
    fields["asked_outcomes"] = asked
    if asked == "Yes they were asked and outcomes were expressed":
        a6 = answers.get("A6", SampleAnswer(None)).value
        fields["outcomes_achieved"] = {
            "yes": rng.choice(["Fully Achieved", "Fully Achieved", "Partially Achieved"]),
            "partly": "Partially Achieved",
        }.get(a6 or "", rng.choice(["Partially Achieved", "Not Achieved"]))
    if rng.random() < 0.85:
        bands = [b.label for b in template.bands]
        judged = min(max(tier + rng.choice((0, 0, 0, 0, -1, 1)), 0), len(bands) - 1)
        fields["judgement"] = bands[judged]
    known = {f.id for f in template.case_fields}
    fields = {k: v for k, v in fields.items() if k in known}

    place = _PLACES.get(str(fields.get("risk_location")), "in the community")
    subs = {"agency": agency, "risk_lc": risks[0].lower(), "place": place}
    notes = [line.format(**subs) for line in rng.sample(_NOTE_LINES, k=rng.randint(2, 4))]
    steps = sorted(rng.sample(range(len(_CHRONOLOGY)), k=rng.randint(4, len(_CHRONOLOGY))))
    span = max((closed - concern).days, len(steps))
    chronology = [(concern + dt.timedelta(days=span * i // max(len(steps) - 1, 1)), _CHRONOLOGY[s])
                  for i, s in enumerate(steps)]
    return SampleCase(fields, answers, tier, notes, chronology)


def _pick_agency(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    r = rng.random() * sum(w for _, w, _ in _AGENCY_TEAMS)
    for agency, weight, teams in _AGENCY_TEAMS:
        r -= weight
        if r <= 0:
            return agency, teams
    return _AGENCY_TEAMS[0][0], _AGENCY_TEAMS[0][2]


def _applies(cond: dict[str, Any], fields: dict[str, Any]) -> bool:
    from .scoring import condition_holds

    plain = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in fields.items()}
    return condition_holds(cond, plain)


# --------------------------------------------------------------------------- how values are written


def _spell(template: Template, criterion_id: str, value: str, style: str) -> str:
    """The answer as a council might write it, if the template accepts that spelling; else its label."""
    scale = template.scale_of(criterion_id)
    option = scale.option(value)
    text = _SPELLINGS.get(style, {}).get(value)
    if text and index_for(template).matcher(criterion_id).match(text) is option:
        return text
    return option.label


def _field_text(value: Any, separator: str = "; ") -> str:
    if isinstance(value, list):
        return separator.join(value)
    if isinstance(value, dt.date):
        return _ddmmyyyy(value)
    return str(value)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _case_json(template: Template, case: SampleCase, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for cid, a in case.answers.items():
        if a.value is None:
            answers[cid] = None
            continue
        text = a.value if rng.random() < 0.8 else template.scale_of(cid).option(a.value).label
        if a.evidence is None and a.comment is None:
            answers[cid] = text
        else:
            answers[cid] = {"answer": text, "evidence": a.evidence, "comment": a.comment}
    doc: dict[str, Any] = {
        "template": template.id,
        "case": {k: _json_value(v) for k, v in case.fields.items()},
        "answers": answers,
    }
    if case.notes and rng.random() < 0.5:
        doc["notes"] = "\n\n".join(case.notes)
    return doc


def _json_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- JSON layouts


def _json_case(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    (case,) = cases
    return _json_bytes(_case_json(template, case, rng))


def _json_register(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    entries: list[dict[str, Any]] = []
    for c in cases:
        entry = _case_json(template, c, rng)
        entry.pop("template")
        entries.append(entry)
    return _json_bytes({"template": template.id, "cases": entries})


# --------------------------------------------------------------------------- Excel layouts


def _xlsx_form(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """Exactly the layout ``msp-audit form -f xlsx`` produces, filled in."""
    (case,) = cases
    filled = Filled(
        fields=dict(case.fields),
        answers={cid: FilledAnswer(template.scale_of(cid).option(a.value).label if a.value else None,
                                   a.evidence, a.comment)
                 for cid, a in case.answers.items()},
    )
    return excel_form(template, filled, created=SAMPLE_CREATED)


def _new_workbook() -> tuple[Any, io.BytesIO]:
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    wb.set_properties({"title": "Safeguarding adults case file audit", "author": "Exampleshire SAB",
                       "created": SAMPLE_CREATED})
    return wb, buffer


def _write_field(ws: Any, row: int, col: int, fld: CaseField, value: Any, fmts: dict[str, Any],
                 separator: str = "; ", text_dates: bool = False) -> None:
    if isinstance(value, dt.date) and not text_dates:
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmts["date"])
    else:
        ws.write_string(row, col, _field_text(value, separator), fmts["cell"])


def _xlsx_council(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """One sheet as a council might make it: merged title rows, details block, its own column order,
    section rows, a 'Page ref' column and a sign-off block at the bottom."""
    (case,) = cases
    style = rng.choice(("label", "met"))
    wb, buffer = _new_workbook()
    ws = wb.add_worksheet("Audit Tool")
    f = wb.add_format
    fmts = {
        "title": f({"bold": True, "font_size": 16, "align": "center"}),
        "sub": f({"italic": True, "align": "center"}),
        "label": f({"bold": True}),
        "cell": f({"text_wrap": True, "valign": "top", "border": 1}),
        "date": f({"num_format": "dd/mm/yyyy", "align": "left", "border": 1}),
        "head": f({"bold": True, "bg_color": "#BDD7EE", "border": 1, "text_wrap": True}),
        "section": f({"bold": True, "bg_color": "#FFF2CC", "border": 1}),
    }
    for col, width in enumerate((60, 8, 45, 16, 30, 10)):
        ws.set_column(col, col, width)
    ws.merge_range(0, 0, 0, 5, "SAFEGUARDING ADULTS CASE FILE AUDIT", fmts["title"])
    ws.merge_range(1, 0, 1, 5, "Exampleshire Safeguarding Adults Board · Making Safeguarding Personal", fmts["sub"])
    row = 3
    sign_off = ("auditor", "audit_date")
    for fld in template.case_fields:
        if fld.id in sign_off:
            continue
        ws.write_string(row, 0, fld.label + ":", fmts["label"])
        ws.merge_range(row, 1, row, 4, "", fmts["cell"])
        if fld.id in case.fields:
            _write_field(ws, row, 1, fld, case.fields[fld.id], fmts, text_dates=(fld.id == "closed_date"))
        row += 1
    row += 1
    header = ("Question", "Ref", "Evidence", "Response", "Comments", "Page ref")
    for col, text in enumerate(header):
        ws.write_string(row, col, text, fmts["head"])
    row += 1
    for section in template.sections:
        ws.merge_range(row, 0, row, 5, section.title.upper(), fmts["section"])
        row += 1
        for crit in section.criteria:
            a = case.answers.get(crit.id, SampleAnswer(None))
            ws.write_string(row, 0, crit.text, fmts["cell"])
            if rng.random() < 0.9:  # a few rows lost their reference: matched by the question's text
                ws.write_string(row, 1, crit.id, fmts["cell"])
            if a.evidence:
                ws.write_string(row, 2, a.evidence, fmts["cell"])
            if a.value:
                ws.write_string(row, 3, _spell(template, crit.id, a.value, style), fmts["cell"])
            if a.comment:
                ws.write_string(row, 4, a.comment, fmts["cell"])
            ws.write_string(row, 5, f"p. {rng.randint(2, 60)}", fmts["cell"])
            row += 1
    row += 1
    for fid in sign_off:
        fld = template.fields.get(fid)
        if fld is not None and fid in case.fields:
            ws.write_string(row, 0, fld.label + ":", fmts["label"])
            _write_field(ws, row, 1, fld, case.fields[fid], fmts)
            row += 1
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return buffer.getvalue()


def _xlsx_marks(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """One column per option with a mark in the chosen one, 'No.' beside 'No', details keyed by short labels."""
    (case,) = cases
    mark = rng.choice(_MARKS)
    wb, buffer = _new_workbook()
    ws = wb.add_worksheet("Case file audit")
    f = wb.add_format
    fmts = {
        "title": f({"bold": True, "font_size": 14}),
        "label": f({"bold": True, "border": 1, "bg_color": "#EDEDED"}),
        "cell": f({"text_wrap": True, "valign": "top", "border": 1}),
        "mark": f({"align": "center", "valign": "top", "border": 1, "bold": True}),
        "date": f({"num_format": "dd/mm/yyyy", "align": "left", "border": 1}),
        "head": f({"bold": True, "border": 1, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}),
        "section": f({"bold": True, "italic": True, "border": 1}),
    }
    ws.write_string(0, 0, "MSP case file audit", fmts["title"])
    ws.write_string(1, 0, "Mark one box per question with an X or a tick.")
    row = 3
    for fld in template.case_fields:
        if fld.id not in case.fields:
            continue
        # Short labels a council might use; the reader matches a field by its id or label.
        label = fld.id.replace("_", " ").capitalize() if rng.random() < 0.3 else fld.label
        ws.write_string(row, 0, label, fmts["label"])
        ws.merge_range(row, 1, row, 2, "", fmts["cell"])
        _write_field(ws, row, 1, fld, case.fields[fld.id], fmts, separator=", ")
        row += 1
    row += 1
    options = list(template.scales["ypn"].options) if "ypn" in template.scales else []
    heads = {"yes": "Yes", "partly": "Partly", "no": "No", "na": "N/A", "unknown": "Unable to determine"}
    option_cols = [(o.value, heads.get(o.value, o.label)) for o in options]
    header = ["No.", "Question", *[h for _, h in option_cols], "Evidence", "Notes"]
    widths = [6, 58, *[7] * len(option_cols), 45, 28]
    for col, (text, width) in enumerate(zip(header, widths)):
        ws.write_string(row, col, text, fmts["head"])
        ws.set_column(col, col, width)
    row += 1
    last = len(header) - 1
    for section in template.sections:
        ws.merge_range(row, 0, row, last, section.title, fmts["section"])
        row += 1
        for crit in section.criteria:
            a = case.answers.get(crit.id, SampleAnswer(None))
            ws.write_string(row, 0, crit.id, fmts["cell"])
            ws.write_string(row, 1, crit.text, fmts["cell"])
            for k, (value, _) in enumerate(option_cols):
                if a.value == value:
                    ws.write_string(row, 2 + k, mark, fmts["mark"])
                else:
                    ws.write_blank(row, 2 + k, None, fmts["mark"])
            if a.evidence:
                ws.write_string(row, 2 + len(option_cols), a.evidence, fmts["cell"])
            if a.comment:
                ws.write_string(row, 3 + len(option_cols), a.comment, fmts["cell"])
            row += 1
    ws.freeze_panes(0, 2)
    wb.close()
    return buffer.getvalue()


def _xlsx_register(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """Many cases per sheet; the header is below title rows; critical questions have evidence columns."""
    style = rng.choice(("label", "short", "rag"))
    wb, buffer = _new_workbook()
    about = wb.add_worksheet("About")
    ws = wb.add_worksheet("Register")
    f = wb.add_format
    fmts = {
        "title": f({"bold": True, "font_size": 14}),
        "head": f({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#E2EFDA", "valign": "top"}),
        "cell": f({"border": 1, "valign": "top"}),
        "date": f({"num_format": "dd/mm/yyyy", "border": 1, "align": "left"}),
    }
    about.set_column(0, 0, 100)
    about.write_string(0, 0, "Exampleshire SAB: multi-agency case file audit register", fmts["title"])
    about.write_string(2, 0, "One row per audited enquiry. Answers use the audit tool's scale.")
    about.write_string(3, 0, "Evidence columns are kept for the critical questions only.")
    ws.write_string(0, 0, "Case file audit register", fmts["title"])
    ws.write_string(1, 0, "Round: Q2 audit of closed Section 42 enquiries")
    columns: list[tuple[str, Callable[[SampleCase], tuple[Any, CaseField | None]]]] = []
    for fld in template.case_fields:
        columns.append((fld.label, lambda c, fld=fld: (c.fields.get(fld.id), fld)))
    for crit in template.criteria.values():
        columns.append((crit.id, lambda c, cid=crit.id: (c.answers.get(cid, SampleAnswer(None)).value, None)))
        if crit.critical:
            columns.append((f"{crit.id} evidence",
                            lambda c, cid=crit.id: (c.answers.get(cid, SampleAnswer(None)).evidence, None)))
    header_row = 3
    for col, (title, _) in enumerate(columns):
        ws.write_string(header_row, col, title, fmts["head"])
        ws.set_column(col, col, 14 if len(title) > 4 else 8)
    crit_ids = set(template.criteria)
    for r, case in enumerate(cases, header_row + 1):
        for col, (title, get) in enumerate(columns):
            value, fld = get(case)
            if value is None:
                continue
            if fld is not None:
                _write_field(ws, r, col, fld, value, fmts)
            elif title in crit_ids:
                ws.write_string(r, col, _spell(template, title, value, style), fmts["cell"])
            else:
                ws.write_string(r, col, str(value), fmts["cell"])
    ws.freeze_panes(header_row + 1, 1)
    ws.autofilter(header_row, 0, header_row + len(cases), len(columns) - 1)
    ws.activate()
    wb.close()
    return buffer.getvalue()


# --------------------------------------------------------------------------- Word, written directly

_W_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_CM = 567  # twips per centimetre


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _x(text: str) -> str:
    """Text safe inside a WordprocessingML element."""
    text = _XML_ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run(text: str, bold: bool = False, italic: bool = False, size: float | None = None) -> str:
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "") + (
        f'<w:sz w:val="{int(size * 2)}"/>' if size else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{_x(text)}</w:t></w:r>'


def _para(text: str = "", style: str | None = None, bold: bool = False, italic: bool = False,
          size: float | None = None) -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{_run(text, bold, italic, size) if text else ''}</w:p>"


@dataclass
class _Cell:
    paragraphs: Sequence[str]  # paragraph XML
    span: int = 1
    fill: str | None = None


def _cell(*texts: str, bold: bool = False, span: int = 1, fill: str | None = None) -> _Cell:
    return _Cell([_para(t, bold=bold) for t in texts] or [_para()], span, fill)


def _table(rows: list[list[_Cell]], widths_cm: Sequence[float], header: bool = True) -> str:
    grid = "".join(f'<w:gridCol w:w="{int(w * _CM)}"/>' for w in widths_cm)
    out = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
        'w:noHBand="0" w:noVBand="1"/></w:tblPr>',
        f"<w:tblGrid>{grid}</w:tblGrid>",
    ]
    for n, row in enumerate(rows):
        trpr = '<w:trPr><w:tblHeader/></w:trPr>' if header and n == 0 else ""
        out.append(f"<w:tr>{trpr}")
        col = 0
        for cell in row:
            width = int(sum(widths_cm[col: col + cell.span]) * _CM)
            props = f'<w:tcW w:w="{width}" w:type="dxa"/>'
            if cell.span > 1:
                props += f'<w:gridSpan w:val="{cell.span}"/>'
            if cell.fill:
                props += f'<w:shd w:val="clear" w:color="auto" w:fill="{cell.fill}"/>'
            out.append(f"<w:tc><w:tcPr>{props}</w:tcPr>{''.join(cell.paragraphs)}</w:tc>")
            col += cell.span
        out.append("</w:tr>")
    out.append("</w:tbl>")
    # Word needs a paragraph between two tables, or it joins them into one.
    return "".join(out) + "<w:p/>"


_OWN_PARTS = ("word/document.xml", "docProps/core.xml")


@lru_cache(maxsize=1)
def _docx_base() -> bytes:
    """python-docx's default package (styles, theme, settings) without the parts each sample
    writes, compressed once: every sample appends its own two parts to a copy."""
    from docx import Document

    source = io.BytesIO()
    Document().save(source)
    base = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name not in _OWN_PARTS:
                dst.writestr(zipfile.ZipInfo(name, _ZIP_TIME), src.read(name), compress_type=zipfile.ZIP_DEFLATED)
    return base.getvalue()


def _docx_package(body: list[str], title: str) -> bytes:
    stamp = SAMPLE_CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")
    document = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f"<w:document {_W_NS}><w:body>{''.join(body)}"
        '<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>'
        '<w:pgMar w:top="1021" w:right="1021" w:bottom="1021" w:left="1021" w:header="567" w:footer="567" '
        'w:gutter="0"/></w:sectPr></w:body></w:document>'
    )
    core = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_x(title)}</dc:title><dc:creator>Exampleshire SAB</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    buffer = io.BytesIO(_docx_base())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as z:
        for name, text in zip(_OWN_PARTS, (document, core)):
            z.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _notes_paragraphs(heading: str, lines: Sequence[str]) -> list[str]:
    return [_para(heading, style="Heading1"), *(_para(line) for line in lines)]


def _docx_form(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """The layout ``msp-audit form -f docx`` produces, with the chosen boxes ticked."""
    from .forms import NOTES_HEADING, WORD_HEADER, checkbox_line, criterion_notes

    (case,) = cases
    body = [
        _para(template.title, style="Title"),
        _para(f"Template {template.id}, version {template.version}"),
        _para("Case details", style="Heading1"),
    ]
    rows = []
    for fld in template.case_fields:
        value = case.fields.get(fld.id)
        rows.append([_cell(fld.label, bold=True), _cell(_field_text(value) if value is not None else "")])
    body.append(_table(rows, (8.0, 18.0), header=False))
    widths = (1.4, 10.6, 4.3, 5.8, 4.0)
    for n, section in enumerate(template.sections, 1):
        body.append(_para(f"Section {n}: {section.title}", style="Heading1"))
        rows = [[_cell(h, bold=True, fill="D9E1F2") for h in WORD_HEADER]]
        for crit in section.criteria:
            a = case.answers.get(crit.id, SampleAnswer(None))
            question = [_para(crit.text),
                        *(_para(note, bold=True, size=8.5) for note in criterion_notes(crit, template)),
                        *([_para(crit.guidance, italic=True, size=8.5)] if crit.guidance else [])]
            chosen = template.scale_of(crit.id).option(a.value).label if a.value else None
            boxes = [_para(checkbox_line(label, label == chosen)) for label in template.scale_of(crit.id).labels()]
            rows.append([_cell(crit.id, bold=True), _Cell(question), _Cell(boxes),
                         _cell(a.evidence or ""), _cell(a.comment or "")])
        body.append(_table(rows, widths))
    body += _notes_paragraphs(NOTES_HEADING, case.notes[:2])
    return _docx_package(body, f"{template.title} — {case.fields.get(template.identifier.id, '')}")


def _docx_marks(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """Details as 'Label: value' paragraphs, one table with section rows and a column per option."""
    (case,) = cases
    mark = rng.choice(("X", "✓", "x"))
    body = [_para("Making Safeguarding Personal — case file audit", style="Title"),
            _para("Exampleshire Safeguarding Adults Board", italic=True),
            _para("About the case", style="Heading1")]
    for fld in template.case_fields:
        if fld.id in case.fields:
            body.append(_para(f"{fld.label}: {_field_text(case.fields[fld.id])}"))
    body.append(_para("Audit questions", style="Heading1"))
    options = template.scales["ypn"].options if "ypn" in template.scales else ()
    heads = {"yes": "Yes", "partly": "Partly", "no": "No", "na": "N/A", "unknown": "Unable to determine"}
    cols = [(o.value, heads.get(o.value, o.label)) for o in options]
    widths = [1.3, 10.0, *[1.5] * len(cols), 7.2]
    rows = [[_cell("Ref", bold=True, fill="DDEBF7"), _cell("Question", bold=True, fill="DDEBF7"),
             *[_cell(h, bold=True, fill="DDEBF7") for _, h in cols], _cell("Evidence", bold=True, fill="DDEBF7")]]
    for section in template.sections:
        rows.append([_cell(section.title, bold=True, span=len(widths), fill="F2F2F2")])
        for crit in section.criteria:
            a = case.answers.get(crit.id, SampleAnswer(None))
            rows.append([_cell(crit.id), _cell(crit.text),
                         *[_cell(mark if a.value == v else "") for v, _ in cols], _cell(a.evidence or "")])
    body.append(_table(rows, widths))
    return _docx_package(body, f"MSP case file audit {case.fields.get(template.identifier.id, '')}")


def _docx_notes(template: Template, rng: random.Random, cases: list[SampleCase]) -> bytes:
    """Details table with 'Label:' cells, text answers in a 'Response' column, then chronology and case notes."""
    (case,) = cases
    style = rng.choice(("met", "label", "short"))
    body = [_para("Safeguarding adults audit", style="Title"),
            _para("Multi-agency case file audit: Making Safeguarding Personal", italic=True)]
    rows = []
    for fld in template.case_fields:
        if fld.id in case.fields:
            value = case.fields[fld.id]
            # Several risk types on separate lines of one cell, as people type them in Word.
            lines = value if isinstance(value, list) else [_field_text(value)]
            rows.append([_cell(f"{fld.label}:", bold=True), _cell(*lines)])
    body.append(_table(rows, (8.0, 16.0), header=False))
    for section in template.sections:
        body.append(_para(section.title, style="Heading2"))
        rows = [[_cell(h, bold=True) for h in ("Question ID", "Question", "Response", "Evidence", "Comments")]]
        for crit in section.criteria:
            a = case.answers.get(crit.id, SampleAnswer(None))
            rows.append([_cell(crit.id), _cell(crit.text),
                         _cell(_spell(template, crit.id, a.value, style) if a.value else ""),
                         _cell(a.evidence or ""), _cell(a.comment or "")])
        body.append(_table(rows, (2.0, 10.0, 3.0, 7.0, 4.0)))
    body += _notes_paragraphs("Chronology", [f"{_ddmmyyyy(d)} — {text}" for d, text in case.chronology])
    body += _notes_paragraphs("Case notes", case.notes)
    return _docx_package(body, f"Safeguarding adults audit {case.fields.get(template.identifier.id, '')}")


# --------------------------------------------------------------------------- front door

Writer = Callable[[Template, random.Random, list[SampleCase]], bytes]

#: layout -> (suffix, writer, how many cases: None for one, else a (low, high) range)
_WRITERS: dict[str, tuple[str, Writer, tuple[int, int] | None]] = {
    "json-case": (".json", _json_case, None),
    "json-register": (".json", _json_register, (4, 9)),
    "xlsx-form": (".xlsx", _xlsx_form, None),
    "xlsx-council": (".xlsx", _xlsx_council, None),
    "xlsx-marks": (".xlsx", _xlsx_marks, None),
    "xlsx-register": (".xlsx", _xlsx_register, (6, 14)),
    "docx-form": (".docx", _docx_form, None),
    "docx-marks": (".docx", _docx_marks, None),
    "docx-notes": (".docx", _docx_notes, None),
}


def layout_of(index: int) -> str:
    """The layout of the file at ``index`` (0-based): files cycle through every layout."""
    return LAYOUTS[index % len(LAYOUTS)]


def sample_cases(template: Template, index: int, seed: int = 1) -> tuple[random.Random, list[SampleCase]]:
    """The cases in file ``index``, and the generator the layout goes on to use for its own choices.

    Independent of how many files are made; tests use it to know what each file must read back as.
    """
    rng = random.Random(f"msp-audit-samples:{seed}:{index}")
    ref = f"SG-{index + 1:05d}"
    many = _WRITERS[layout_of(index)][2]
    if many is None:
        # Single-case files step through the tier cycle (7 against 9 layouts), so every layout
        # meets every rating and a dozen files span the bands; register rows draw their own.
        tier = _TIER_CYCLE[(index + seed) % len(_TIER_CYCLE)]
        return rng, [make_case(template, rng, ref, tier=tier)]
    return rng, [make_case(template, rng, f"{ref}-{k:02d}") for k in range(1, rng.randint(*many) + 1)]


def sample_bytes(template: Template, index: int, seed: int = 1) -> tuple[str, bytes]:
    """File ``index``'s suffix and bytes."""
    suffix, writer, _ = _WRITERS[layout_of(index)]
    rng, cases = sample_cases(template, index, seed)
    return suffix, writer(template, rng, cases)


def sample_name(index: int, count: int, suffix: str) -> str:
    width = max(3, len(str(count)))
    return f"{index + 1:0{width}d}-{layout_of(index)}{suffix}"


def generate_samples(out_dir: Path, count: int = 12, seed: int = 1) -> list[Path]:
    """Write ``count`` synthetic case files for msp-core into ``out_dir``; return their paths.

    Files cycle through every layout in ``LAYOUTS``; the same seed gives the same files.
    """
    from .templates import load_template

    template = load_template(SAMPLE_TEMPLATE)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index in range(count):
        suffix, data = sample_bytes(template, index, seed)
        path = out_dir / sample_name(index, count, suffix)
        path.write_bytes(data)
        paths.append(path)
    return paths
