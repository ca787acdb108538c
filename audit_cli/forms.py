"""Blank audit forms from a template: Excel, Word and JSON that ``score`` reads back.

The layouts follow SPEC section 4, so a form filled in by hand scores exactly as
the same answers given in JSON. Excel forms are written with xlsxwriter, Word
forms with python-docx; both are imported only when such a form is made.

``excel_form`` also takes the values of a filled-in case, so that the sample
generator can produce forms in exactly this layout.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import AuditError, UsageError
from .model import CaseField, Criterion, Scale, Template

FORM_FORMATS: tuple[str, ...] = ("xlsx", "docx", "json")

#: sheet names and the question table's header, shared with tests and samples
CASE_SHEET = "Case details"
AUDIT_SHEET = "Audit"
LISTS_SHEET = "Lists"
EXCEL_HEADER: tuple[str, ...] = ("ID", "Question", "Guidance", "Answer", "Evidence", "Comment")
WORD_HEADER: tuple[str, ...] = ("ID", "Question", "Answer", "Evidence", "Comment")
UNCHECKED = "☐"
CHECKED = "☒"
NOTES_HEADING = "Case notes"
MULTI_SEPARATOR = "; "

# Excel's limits on data-validation text.
_INPUT_TITLE_MAX = 32
_INPUT_MESSAGE_MAX = 255
_INLINE_LIST_MAX = 255


@dataclass(frozen=True)
class FilledAnswer:
    """What an auditor wrote for one criterion: the answer text, evidence and comment."""

    answer: str | None = None
    evidence: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Filled:
    """Values to write into a form (samples); a blank form has none.

    ``fields`` holds typed values: ISO date strings or dates for dates, lists for multichoice.
    """

    fields: Mapping[str, Any] = field(default_factory=dict)
    answers: Mapping[str, FilledAnswer] = field(default_factory=dict)


# --------------------------------------------------------------------------- shared wording


def default_form_name(template: Template, fmt: str) -> str:
    return f"{template.id}-form.{fmt}"


def _quote(value: Any) -> str:
    return f'"{value}"'


def describe_condition(cond: Mapping[str, Any], template: Template) -> str:
    """An ``applies_if`` condition in plain words, so the auditor knows when to answer."""
    if "all" in cond:
        return " and ".join(_wrapped(c, template) for c in cond["all"])
    if "any" in cond:
        return " or ".join(_wrapped(c, template) for c in cond["any"])
    if "not" in cond:
        return f"it is not the case that {describe_condition(cond['not'], template)}"
    fld = template.fields.get(cond.get("field", ""))
    label = fld.label if fld else str(cond.get("field"))
    if "equals" in cond:
        return f"{label} is {_quote(cond['equals'])}"
    if "in" in cond:
        return f"{label} is one of " + ", ".join(_quote(v) for v in cond["in"])
    if "contains" in cond:
        return f"{label} includes {_quote(cond['contains'])}"
    if "present" in cond:
        return f"{label} is {'filled in' if cond['present'] else 'left blank'}"
    return json.dumps(dict(cond))


def _wrapped(cond: Mapping[str, Any], template: Template) -> str:
    text = describe_condition(cond, template)
    return f"({text})" if ("all" in cond or "any" in cond) else text


def criterion_notes(criterion: Criterion, template: Template) -> list[str]:
    """What an auditor must know beyond the guidance: critical questions and when to answer."""
    notes: list[str] = []
    if criterion.critical and template.critical_cap:
        scale = template.scales[criterion.scale]
        zero = [o.label for o in scale.options if o.points == 0]
        answer = " or ".join(zero) if zero else "the lowest answer"
        notes.append(f"Critical question: {answer} caps the case rating at {template.critical_cap}.")
    if criterion.applies_if:
        notes.append(
            f"Answer only when {describe_condition(criterion.applies_if, template)}; otherwise leave the answer blank."
        )
    return notes


def field_hint(fld: CaseField) -> str:
    """How to fill in a case field, for comments and Word help lines."""
    parts: list[str] = []
    if fld.help:
        parts.append(fld.help.rstrip("."))
    if fld.type == "multichoice":
        parts.append("Choose one or more of " + "; ".join(fld.choices) + " — separate several values with ;")
    elif fld.type == "choice":
        parts.append("Choose one of " + "; ".join(fld.choices))
    elif fld.type == "date":
        parts.append("A date as dd/mm/yyyy")
    elif fld.type == "boolean":
        parts.append("Yes or No")
    elif fld.type == "number":
        parts.append("A number")
    if fld.personal:
        parts.append("Personal data: never copied into results or reports")
    return ". ".join(parts) + "."


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _field_text(fld: CaseField, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return MULTI_SEPARATOR.join(str(v) for v in value)
    if fld.type == "date":
        d = _as_date(value)
        if d is not None:
            return d.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- JSON


def json_skeleton(template: Template) -> dict[str, Any]:
    """Every field null (multichoice: empty list) and every criterion unanswered."""
    return {
        "template": template.id,
        "case": {f.id: ([] if f.type == "multichoice" else None) for f in template.case_fields},
        "answers": {
            cid: {"answer": None, "evidence": None, "comment": None} for cid in template.criteria
        },
    }


def json_form(template: Template) -> bytes:
    return (json.dumps(json_skeleton(template), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- Excel


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _ExcelForm:
    """Builds one Excel form; a class only to share formats and the lists sheet between steps."""

    def __init__(self, template: Template, filled: Filled | None, created: dt.datetime) -> None:
        import xlsxwriter

        self.template = template
        self.filled = filled or Filled()
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, {"in_memory": True, "strings_to_formulas": False})
        self.wb.set_properties({
            "title": f"{template.title} — audit form",
            "subject": f"{template.id} {template.version}",
            "author": "msp-audit",
            "comments": "Fill in the case details and answer every question; msp-audit score reads this file back.",
            "created": created,
        })
        self.case_ws = self.wb.add_worksheet(CASE_SHEET)
        self.audit_ws = self.wb.add_worksheet(AUDIT_SHEET)
        self.lists_ws: Any = None
        self.lists_used = 0
        self.list_ranges: dict[tuple[str, ...], str] = {}
        f = self.wb.add_format
        base = {"font_name": "Arial", "font_size": 10, "valign": "top"}
        self.fmt = {
            "title": f({**base, "bold": True, "font_size": 14, "valign": "vcenter"}),
            "subtitle": f({**base, "italic": True, "text_wrap": True}),
            "label": f({**base, "bold": True, "text_wrap": True, "border": 1, "bg_color": "#F2F2F2"}),
            "value": f({**base, "text_wrap": True, "border": 1, "locked": False}),
            "value_date": f({**base, "border": 1, "locked": False, "num_format": "dd/mm/yyyy", "align": "left"}),
            "value_number": f({**base, "border": 1, "locked": False, "align": "left"}),
            "header": f({**base, "bold": True, "text_wrap": True, "border": 2, "bg_color": "#D9E1F2", "valign": "vcenter"}),
            "section": f({**base, "bold": True, "font_size": 12, "border": 1, "bg_color": "#E2EFDA", "valign": "vcenter"}),
            "id": f({**base, "bold": True, "border": 1}),
            "question": f({**base, "text_wrap": True, "border": 1}),
            "guidance": f({**base, "text_wrap": True, "border": 1, "font_size": 9, "font_color": "#404040"}),
            "answer": f({**base, "text_wrap": True, "border": 1, "locked": False, "bold": True}),
            "input": f({**base, "text_wrap": True, "border": 1, "locked": False}),
        }

    # ---------------------------------------------------------------- lists

    def _list_source(self, values: list[str]) -> list[str] | str:
        """An inline list when Excel allows one (no commas, under 255 characters), else a range on a hidden sheet."""
        if values and all("," not in v for v in values) and len(",".join(values)) <= _INLINE_LIST_MAX:
            return values
        key = tuple(values)
        if key in self.list_ranges:
            return self.list_ranges[key]
        if self.lists_ws is None:
            self.lists_ws = self.wb.add_worksheet(LISTS_SHEET)
            self.lists_ws.very_hidden()
            self.lists_ws.protect()
        col = self.lists_used
        self.lists_used += 1
        for r, v in enumerate(values):
            self.lists_ws.write_string(r, col, v)
        from xlsxwriter.utility import xl_col_to_name

        name = xl_col_to_name(col)
        self.list_ranges[key] = f"='{LISTS_SHEET}'!${name}$1:${name}${max(len(values), 1)}"
        return self.list_ranges[key]

    def _protect(self, ws: Any) -> None:
        # No password: the structure stays intact while auditors can still fill in and resize.
        ws.protect("", {"format_columns": True, "format_rows": True})

    def _print_setup(self, ws: Any) -> None:
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer("&L&F&RPage &P of &N")

    # ---------------------------------------------------------------- case details

    def case_details(self) -> None:
        t, ws, fmt = self.template, self.case_ws, self.fmt
        ws.set_column(0, 0, 38)
        ws.set_column(1, 1, 62)
        ws.set_row(0, 24)
        ws.write_string(0, 0, t.title, fmt["title"])
        ws.write_string(1, 0, f"Template {t.id}, version {t.version}", fmt["subtitle"])
        ws.write_string(
            2, 0,
            "Fill in one value per case detail in column B, then answer the questions on the "
            f"'{AUDIT_SHEET}' sheet. Select a value cell to see what it needs; lists offer the allowed choices.",
            fmt["subtitle"],
        )
        ws.set_row(2, 40)
        first = 4
        for i, fld in enumerate(t.case_fields):
            row = first + i
            ws.write_string(row, 0, fld.label, fmt["label"])
            ws.write_comment(row, 0, fld.label + ": " + field_hint(fld), {"x_scale": 2.2, "y_scale": 1.6})
            self._field_cell(row, fld)
        ws.freeze_panes(first, 0)
        self._print_setup(ws)
        ws.repeat_rows(0)
        self._protect(ws)
        ws.activate()

    def _field_cell(self, row: int, fld: CaseField) -> None:
        ws, fmt = self.case_ws, self.fmt
        value = self.filled.fields.get(fld.id)
        hint = field_hint(fld)
        title = _fit(fld.label, _INPUT_TITLE_MAX)
        if fld.type == "date":
            d = _as_date(value)
            if d is not None:
                ws.write_datetime(row, 1, dt.datetime(d.year, d.month, d.day), fmt["value_date"])
            else:
                ws.write_blank(row, 1, None, fmt["value_date"])
            ws.data_validation(row, 1, row, 1, {
                "validate": "date", "criteria": "between",
                "minimum": dt.date(1900, 1, 1), "maximum": dt.date(2199, 12, 31),
                "input_title": title, "input_message": _fit(hint, _INPUT_MESSAGE_MAX),
                "error_title": "Not a date", "error_message": "Enter a date as dd/mm/yyyy, for example 31/01/2025.",
            })
            return
        if fld.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row, 1, float(value), fmt["value_number"])
        else:
            text = _field_text(fld, value)
            if text:
                ws.write_string(row, 1, text, fmt["value"])
            else:
                ws.write_blank(row, 1, None, fmt["value"])
        if fld.type == "multichoice":
            # The separator first: the choices may not fit in Excel's 255 characters.
            hint = "Several values: separate them with ; (semicolon). Choices: " + "; ".join(fld.choices)
        options: dict[str, Any] = {"input_title": title, "input_message": _fit(hint, _INPUT_MESSAGE_MAX)}
        if fld.type == "choice" or fld.type == "boolean":
            choices = list(fld.choices) if fld.type == "choice" else ["Yes", "No"]
            options.update({
                "validate": "list", "source": self._list_source(choices),
                "error_title": _fit(fld.label, _INPUT_TITLE_MAX),
                "error_message": _fit("Choose one of: " + "; ".join(choices), _INPUT_MESSAGE_MAX),
            })
        elif fld.type == "number":
            options.update({"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15,
                            "error_title": "Not a number", "error_message": "Enter a number."})
        else:
            # Text and multichoice stay free: several choices are typed separated by ';'.
            options["validate"] = "any"
        ws.data_validation(row, 1, row, 1, options)

    # ---------------------------------------------------------------- questions

    def questions(self) -> None:
        t, ws, fmt = self.template, self.audit_ws, self.fmt
        for col, width in enumerate((7, 55, 55, 20, 45, 35)):
            ws.set_column(col, col, width)
        last_col = len(EXCEL_HEADER) - 1
        ws.set_row(0, 24)
        ws.merge_range(0, 0, 0, last_col, f"{t.title} ({t.id} {t.version})", fmt["title"])
        ws.merge_range(
            1, 0, 1, last_col,
            "Choose an answer from the list in the Answer column for every question (Not applicable or Unable to "
            "determine where that is the honest answer), and write the evidence you relied on and any comment.",
            fmt["subtitle"],
        )
        ws.set_row(1, 28)
        header_row = 2
        for col, text in enumerate(EXCEL_HEADER):
            ws.write_string(header_row, col, text, fmt["header"])
        row = header_row + 1
        for n, section in enumerate(t.sections, 1):
            ws.set_row(row, 20)
            ws.merge_range(row, 0, row, last_col, f"Section {n}: {section.title}", fmt["section"])
            row += 1
            run_start = row
            for k, crit in enumerate(section.criteria):
                self._criterion_row(row, crit)
                following = section.criteria[k + 1] if k + 1 < len(section.criteria) else None
                if following is None or following.scale != crit.scale:
                    self._answer_validation(run_start, row, self.template.scales[crit.scale])
                    run_start = row + 1
                row += 1
        ws.freeze_panes(header_row + 1, 0)
        self._print_setup(ws)
        ws.repeat_rows(header_row)
        self._protect(ws)

    def _criterion_row(self, row: int, crit: Criterion) -> None:
        ws, fmt = self.audit_ws, self.fmt
        ws.write_string(row, 0, crit.id, fmt["id"])
        ws.write_string(row, 1, crit.text, fmt["question"])
        guidance = "\n".join([*criterion_notes(crit, self.template), *([crit.guidance] if crit.guidance else [])])
        if guidance:
            ws.write_string(row, 2, guidance, fmt["guidance"])
        else:
            ws.write_blank(row, 2, None, fmt["guidance"])
        given = self.filled.answers.get(crit.id, FilledAnswer())
        for col, text, style in ((3, given.answer, "answer"), (4, given.evidence, "input"), (5, given.comment, "input")):
            if text:
                ws.write_string(row, col, text, fmt[style])
            else:
                ws.write_blank(row, col, None, fmt[style])

    def _answer_validation(self, first_row: int, last_row: int, scale: Scale) -> None:
        """A dropdown of the scale's labels over a run of answer cells that share the scale."""
        labels = scale.labels()
        self.audit_ws.data_validation(first_row, 3, last_row, 3, {
            "validate": "list", "source": self._list_source(labels),
            "error_title": "Answer",
            "error_message": _fit("Choose one of: " + "; ".join(labels), _INPUT_MESSAGE_MAX),
        })

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


def excel_form(template: Template, filled: Filled | None = None, created: dt.datetime | None = None) -> bytes:
    """An Excel form: a 'Case details' sheet and an 'Audit' sheet with the questions by section.

    Case details sit on their own sheet so the question table's header can stay frozen
    at the top of the screen while the auditor scrolls.
    """
    form = _ExcelForm(template, filled, created or _now())
    form.case_details()
    form.questions()
    return form.close()


# --------------------------------------------------------------------------- Word


def checkbox_line(label: str, checked: bool = False) -> str:
    return f"{CHECKED if checked else UNCHECKED} {label}"


def word_form(template: Template, created: dt.datetime | None = None) -> bytes:
    """A Word form: case details table, a table of questions per section with checkbox answers, case notes."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    props = doc.core_properties
    props.title = f"{template.title} — audit form"
    props.subject = f"{template.id} {template.version}"
    props.author = "msp-audit"
    props.comments = "Fill in the case details, tick one answer per question; msp-audit score reads this file back."
    stamp = created or _now()
    props.created = stamp
    props.modified = stamp
    props.last_modified_by = "msp-audit"
    props.revision = 1

    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)

    def small(paragraph: Any, text: str, italic: bool = True, bold: bool = False) -> None:
        run = paragraph.add_run(text)
        run.italic, run.bold = italic, bold
        run.font.size = Pt(8.5)
        run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)

    def set_widths(table: Any, widths: list[float]) -> None:
        table.autofit = False
        for row in table.rows:
            for cell, w in zip(row.cells, widths):
                cell.width = Cm(w)

    def header_row(row: Any) -> None:
        tr_pr = row._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        tr_pr.append(repeat)
        for cell in row.cells:
            shading = OxmlElement("w:shd")
            shading.set(qn("w:val"), "clear")
            shading.set(qn("w:color"), "auto")
            shading.set(qn("w:fill"), "D9E1F2")
            cell._tc.get_or_add_tcPr().append(shading)
            for run in cell.paragraphs[0].runs:
                run.bold = True

    doc.add_heading(template.title, 0)
    doc.add_paragraph(f"Template {template.id}, version {template.version}")
    doc.add_paragraph(
        f"How to fill in this form. Write each case detail in the right-hand column of the table below. For each "
        f"question tick exactly one answer by changing its box from {UNCHECKED} to {CHECKED} (or {UNCHECKED} to ☑), "
        "and write the evidence you relied on and any comment. Leave a question's answer unticked only when its "
        "note says it does not apply."
    )

    doc.add_heading("Case details", 1)
    fields_table = doc.add_table(rows=len(template.case_fields), cols=2)
    fields_table.style = "Table Grid"
    fields_table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for row, fld in zip(fields_table.rows, template.case_fields):
        row.cells[0].paragraphs[0].add_run(fld.label).bold = True
    set_widths(fields_table, [8.0, 18.0])
    hints = doc.add_paragraph()
    small(hints, "What each case detail needs", italic=False, bold=True)
    for fld in template.case_fields:
        # "Label — hint" never reads as a "Label: value" line, so a blank form holds no values.
        small(doc.add_paragraph(style="List Bullet"), f"{fld.label} — {field_hint(fld)}")

    widths = [1.4, 10.6, 4.3, 5.8, 4.0]
    for n, sec in enumerate(template.sections, 1):
        doc.add_heading(f"Section {n}: {sec.title}", 1)
        if sec.description:
            small(doc.add_paragraph(), sec.description)
        table = doc.add_table(rows=1 + len(sec.criteria), cols=len(WORD_HEADER))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, WORD_HEADER):
            cell.text = text
        header_row(table.rows[0])
        for row, crit in zip(table.rows[1:], sec.criteria):
            cells = row.cells
            cells[0].paragraphs[0].add_run(crit.id).bold = True
            cells[1].paragraphs[0].add_run(crit.text)
            for note in criterion_notes(crit, template):
                small(cells[1].add_paragraph(), note, italic=False, bold=True)
            if crit.guidance:
                small(cells[1].add_paragraph(), crit.guidance)
            labels = template.scales[crit.scale].labels()
            cells[2].paragraphs[0].add_run(checkbox_line(labels[0]))
            for label in labels[1:]:
                cells[2].add_paragraph().add_run(checkbox_line(label))
        set_widths(table, widths)

    doc.add_heading(NOTES_HEADING, 1)
    doc.add_paragraph("")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- front door


def _now() -> dt.datetime:
    """Creation time for document properties; SOURCE_DATE_EPOCH pins it for reproducible forms."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def form_bytes(template: Template, fmt: str) -> bytes:
    """A blank form in ``fmt`` (xlsx, docx or json)."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "xlsx":
        return excel_form(template)
    if fmt == "docx":
        return word_form(template)
    if fmt == "json":
        return json_form(template)
    raise UsageError(f"form format {fmt!r}: choose one of {', '.join(FORM_FORMATS)}")


def write_form(template: Template, fmt: str, path: Path, force: bool = False) -> Path:
    """Write a blank form to ``path``; an existing file is kept unless ``force``."""
    from .outputs import atomic_write_bytes

    if path.is_dir():
        raise AuditError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise AuditError(f"{path} already exists; use --force to overwrite it")
    data = form_bytes(template, fmt)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise AuditError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
