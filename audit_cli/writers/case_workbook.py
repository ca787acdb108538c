"""``cases/<case id>.xlsx``: one case's audit, for the auditor and their manager.

Unlike the board's workbook this one carries the case's own words (evidence,
comments, notes), because that is what a practitioner reviews; personal fields
are still left out. It renders a ``CaseResult``; it never recomputes a score.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import Case, CaseResult, Template
from ..outputs import OUTPUT_MARKER, atomic_write, atomic_write_bytes, inside, safe_name
from .xlsx_safe import (
    ATTAINMENT,
    SCORE,
    SheetWriter,
    Styles,
    attainment_tone,
    band_tones,
    created_at,
    display,
    new_workbook,
)

if TYPE_CHECKING:
    from xlsxwriter.workbook import Workbook

STATUS_TEXT = {
    "scored": "Scored",
    "excluded": "Excluded",
    "unanswered": "Unanswered",
    "not_applicable": "Not applicable (rule)",
}
NOT_RATED = "Not rated"


def write_case_workbook(
    template: Template, case: Case, result: CaseResult, path: Path, *, generated: str | None = None
) -> None:
    """Write one case's workbook atomically; ``generated`` (ISO time) pins the file's creation date."""

    def build(tmp: Path) -> None:
        wb = new_workbook(tmp, created=created_at(generated), title=f"Case audit {case.id}")
        styles = Styles(wb)
        _summary(wb, styles, template, case, result)
        _criteria(wb, styles, template, case, result)
        _dimensions(wb, styles, template, result)
        _issues(wb, styles, result)
        if case.notes:
            _notes(wb, styles, case.notes)
        wb.close()

    atomic_write(path, build)


class CaseWorkbooks:
    """Each case's workbook, written as the case is scored (in whichever process scored it).

    Two steps, so parallel workers never race for a name: ``draft`` writes the workbook
    under a hidden temporary name, and ``place`` (in the main process, in results order)
    renames it to ``cases/<safe case id>.xlsx`` with ``outputs.safe_name`` and one ``used``
    set per run, so names are the same every run whatever the number of workers.
    """

    def __init__(self, template: Template, out_dir: Path, *, folder: str = "cases", generated: str | None = None) -> None:
        self.template = template
        self.out_dir = out_dir
        self.folder = folder
        self.generated = generated
        self.used: set[str] = set()
        self.written: list[Path] = []

    def draft(self, case: Case, result: CaseResult, tag: str) -> Path:
        # checked against the output folder itself, so not even a symlinked cases/ leads outside it
        path = inside(self.out_dir, self.folder, f".pending-{safe_name(tag)}.xlsx")
        write_case_workbook(self.template, case, result, path, generated=self.generated)
        return path

    def place(self, draft: Path, case_id: str) -> Path:
        final = inside(self.out_dir, self.folder, safe_name(case_id, self.used) + ".xlsx")
        os.replace(draft, final)
        self.written.append(final)
        return final

    MANIFEST = OUTPUT_MARKER  # the output folder's marker also lists the workbooks written
    _LISTED = "case workbook: "

    def start(self) -> None:
        """Remove the workbooks the previous run into this folder wrote (listed in the marker),
        so a case dropped from a round leaves no stale workbook behind. Nothing else is touched."""
        manifest = inside(self.out_dir, self.MANIFEST)
        if not manifest.is_file():
            return
        for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
            name = line[len(self._LISTED):] if line.startswith(self._LISTED) else ""
            if name and name == safe_name(name[:-5]) + ".xlsx":  # only names this writer makes
                inside(self.out_dir, self.folder, name).unlink(missing_ok=True)

    def cleanup(self) -> None:
        """Remove drafts a run could not place (a worker that died while writing one), and list
        what this run wrote for the next run's ``start``."""
        folder = inside(self.out_dir, self.folder)
        if folder.is_dir():
            for p in folder.iterdir():
                if p.name.startswith((".pending-", "..pending-")) and p.is_file():
                    p.unlink(missing_ok=True)
        listed = "".join(f"{self._LISTED}{p.name}\n" for p in self.written)
        atomic_write_bytes(inside(self.out_dir, self.MANIFEST),
                           f"msp-audit output folder: never read as input\n{listed}".encode())

    def __call__(self, case: Case, result: CaseResult) -> None:
        self.place(self.draft(case, result, f"{os.getpid()}-{len(self.written)}"), result.id)


# --------------------------------------------------------------------------- sheets


def _summary(wb: "Workbook", styles: Styles, template: Template, case: Case, result: CaseResult) -> None:
    sh = SheetWriter(wb, styles, "Summary")
    tones = band_tones([b.label for b in template.bands])
    rating_tone = tones.get(result.rating) if result.rating else None
    sh.put(0, 0, f"Case audit: {case.id}", styles.title)
    sh.put(1, 0, template.title, styles.note)
    sh.row = 3
    statuses = [c.status for c in result.criteria.values()]
    rows: list[tuple[str, Any, Any]] = [(template.identifier.label, case.id, None)]
    if result.id != case.id:  # pseudonymised run: the shared outputs know the case by this
        rows.append(("Pseudonym in shared outputs", result.id, None))
    rows.append(("Source file", result.source, None))
    if result.location:
        rows.append(("Location in file", result.location, None))
    rows += [
        ("Template", f"{template.id} {template.version}", None),
        ("Template title", template.title, styles.wrap),
        ("Score", result.score if result.score is not None else NOT_RATED,
         styles.get(rating_tone, num_format=SCORE, align="left")),
        ("Rating", result.rating or NOT_RATED, styles.get(rating_tone)),
        ("Critical failures", ", ".join(result.critical_failures) or "None",
         styles.get("red") if result.critical_failures else None),
    ]
    judge = template.judgement
    if judge is not None and not judge.personal:
        rows.append((judge.label, result.judgement or "Not given", styles.get(tones.get(result.judgement or ""))))
        if result.judgement:
            agrees = result.judgement == (result.rating or NOT_RATED)
            rows.append(("Agrees with the computed rating", "Yes" if agrees else "No", None))
    rows += [
        ("Criteria scored", statuses.count("scored"), None),
        ("Criteria excluded (N/A, unable to determine)", statuses.count("excluded"), None),
        ("Criteria unanswered", statuses.count("unanswered"), None),
        ("Criteria not applicable by rule", statuses.count("not_applicable"), None),
        ("Errors", sum(1 for i in result.issues if i.severity == "error"), None),
        ("Warnings", sum(1 for i in result.issues if i.severity == "warning"), None),
    ]
    for label, value, fmt in rows:
        r = sh.row
        sh.put(r, 0, label, styles.label)
        sh.put(r, 1, value, fmt)
        sh.row += 1
    sh.skip()
    sh.put(sh.row, 0, "Case fields", styles.heading)
    sh.skip()
    sh.header(sh.row, ["Field", "Value"])
    sh.skip()
    for f in template.case_fields:
        if f.personal or f.role in ("identifier", "judgement"):
            continue
        r = sh.row
        sh.put(r, 0, f.label, styles.label)
        sh.put(r, 1, display(case.fields.get(f.id)), styles.wrap)
        sh.row += 1
    sh.width(0, 42)
    sh.width(1, 70, wrap=True)
    sh.finish()


CRITERIA_HEADERS = [
    "Section", "ID", "Question", "Answer", "Status", "Points", "Max", "Weight", "Critical",
    "Attainment", "Evidence", "Comment", "Location",
]


def _answer_text(template: Template, case: Case, cid: str, status: str, value: str | None) -> str:
    """The answer's label, or what was written when it matched no option."""
    if value is not None:
        label = template.scale_of(cid).option(value).label
        return f"{label} (ignored: does not apply)" if status == "not_applicable" else label
    given = case.answers.get(cid)
    if given is not None and given.raw:
        return f"{given.raw} (not a recognised answer)"
    return ""


def _criteria(wb: "Workbook", styles: Styles, template: Template, case: Case, result: CaseResult) -> None:
    sh = SheetWriter(wb, styles, "Criteria")
    sh.header(0, CRITERIA_HEADERS)
    r = 1
    for section in template.sections:
        for crit in section.criteria:
            cr = result.criteria.get(crit.id)
            if cr is None:
                continue
            att = cr.attainment
            tone = attainment_tone(att) if cr.status == "scored" else "grey"
            given = case.answers.get(crit.id)
            sh.put(r, 0, section.title, styles.wrap)
            sh.put(r, 1, crit.id)
            sh.put(r, 2, crit.text, styles.wrap)
            sh.put(r, 3, _answer_text(template, case, crit.id, cr.status, cr.answer), styles.get(tone, text_wrap=True))
            sh.put(r, 4, STATUS_TEXT.get(cr.status, cr.status))
            sh.put(r, 5, cr.points)
            sh.put(r, 6, cr.max)
            sh.put(r, 7, cr.weight)
            sh.put(r, 8, "Critical" if crit.critical else "")
            sh.put(r, 9, att, styles.get(tone, num_format=ATTAINMENT))
            sh.put(r, 10, given.evidence if given else None, styles.wrap)
            sh.put(r, 11, given.comment if given else None, styles.wrap)
            sh.put(r, 12, cr.location)
            r += 1
    sh.width(0, 18, wrap=True)
    sh.width(2, 50, wrap=True)
    sh.width(3, 16, wrap=True)
    sh.width(10, 50, wrap=True)
    sh.width(11, 40, wrap=True)
    sh.ws.autofilter(0, 0, max(r - 1, 0), len(CRITERIA_HEADERS) - 1)
    sh.finish(freeze=(1, 2), landscape=True)


def _dimensions(wb: "Workbook", styles: Styles, template: Template, result: CaseResult) -> None:
    sh = SheetWriter(wb, styles, "Dimensions")
    sh.header(0, ["Dimension", "Item", "Title", 'Group / "I" statement', "Score", "Band"])
    tones = band_tones([b.label for b in template.bands])
    r = 1
    for dim_id, dim in template.all_dimensions().items():
        scores = result.dimensions.get(dim_id, {})
        for item in dim.items:
            score = scores.get(item.id)
            band = template.band_for(score)
            tone = tones.get(band) if band else None
            sh.put(r, 0, dim.title)
            sh.put(r, 1, item.id)
            sh.put(r, 2, item.title, styles.wrap)
            sh.put(r, 3, item.statement or item.group or item.description, styles.wrap)
            sh.put(r, 4, score, styles.get(tone, num_format=SCORE))
            sh.put(r, 5, band or "Not scored", styles.get(tone))
            r += 1
    sh.width(2, 40, wrap=True)
    sh.width(3, 70, wrap=True)
    sh.ws.autofilter(0, 0, max(r - 1, 0), 5)
    sh.finish(freeze=(1, 0), landscape=True)


def _issues(wb: "Workbook", styles: Styles, result: CaseResult) -> None:
    sh = SheetWriter(wb, styles, "Issues")
    sh.header(0, ["Severity", "Code", "Message", "Location"])
    if not result.issues:
        sh.put(1, 0, "No issues")
    for r, issue in enumerate(result.issues, 1):
        sh.put(r, 0, issue.severity, styles.get("red" if issue.severity == "error" else "amber"))
        sh.put(r, 1, issue.code)
        sh.put(r, 2, issue.message, styles.wrap)
        sh.put(r, 3, issue.location)
    sh.width(2, 80, wrap=True)
    sh.finish(freeze=(1, 0))


def _notes(wb: "Workbook", styles: Styles, notes: str) -> None:
    sh = SheetWriter(wb, styles, "Notes")
    sh.header(0, ["Notes"])
    for r, para in enumerate((p for p in notes.split("\n\n") if p.strip()), 1):
        sh.put(r, 0, para, styles.wrap)
    sh.width(0, 110, wrap=True)
    sh.finish(freeze=(1, 0))

