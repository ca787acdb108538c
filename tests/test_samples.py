"""Synthetic case files: every layout, deterministic, plausible, and read back exactly as generated."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from audit_cli.api import run_audit
from audit_cli.cli import app
from audit_cli.model import Template
from audit_cli.readers import read_bytes
from audit_cli.samples import (
    LAYOUTS,
    PERIOD_END,
    SAMPLE_CREATED,
    SampleCase,
    generate_samples,
    make_case,
    sample_bytes,
    sample_cases,
)

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = {"json": ".json", "xlsx": ".xlsx", "docx": ".docx"}
#: layouts whose answer table has no comment column / evidence only for critical questions
NO_COMMENTS = {"docx-marks", "xlsx-register"}
CRITICAL_EVIDENCE_ONLY = {"xlsx-register"}


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """24 files: every layout at least twice (the size of a small audit round)."""
    folder = tmp_path_factory.mktemp("samples")
    return folder, generate_samples(folder, count=24, seed=1)


def expected_fields(case: SampleCase) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in case.fields.items()}


# --------------------------------------------------------------------------- files and determinism


def test_every_layout_is_written_in_order(tmp_path: Path) -> None:
    paths = generate_samples(tmp_path, count=len(LAYOUTS), seed=1)
    assert [p.name for p in paths] == [
        f"{i:03d}-{layout}{SUFFIX[layout.split('-')[0]]}" for i, layout in enumerate(LAYOUTS, 1)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]
    assert generate_samples(tmp_path / "none", count=0) == []


def test_same_seed_same_bytes_other_seed_other_content(tmp_path: Path) -> None:
    a = generate_samples(tmp_path / "a", count=len(LAYOUTS), seed=5)
    b = generate_samples(tmp_path / "b", count=len(LAYOUTS), seed=5)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]  # Office files included
    c = generate_samples(tmp_path / "c", count=3, seed=5)  # file n does not depend on count
    assert [p.read_bytes() for p in c] == [p.read_bytes() for p in a[:3]]
    d = generate_samples(tmp_path / "d", count=2, seed=6)
    assert d[0].read_bytes() != a[0].read_bytes() and d[1].read_bytes() != a[1].read_bytes()
    wb = openpyxl.load_workbook(a[2])
    assert wb.properties.created == SAMPLE_CREATED
    document = docx.Document(str(a[6]))
    assert document.core_properties.created.replace(tzinfo=None) == SAMPLE_CREATED


def test_committed_samples_are_the_default_set_and_read_cleanly(msp_core: Template, tmp_path: Path) -> None:
    committed = sorted((ROOT / "samples").iterdir())
    fresh = generate_samples(tmp_path, count=12, seed=1)
    assert [p.name for p in committed] == [p.name for p in fresh]
    for old, new in zip(committed, fresh):
        if old.suffix == ".json":  # Office bytes may move with library versions; JSON must not
            assert old.read_bytes() == new.read_bytes(), f"regenerate samples/: {old.name} is stale"
    report = run_audit([ROOT / "samples"], msp_core)
    assert {r.status for r in report.inputs} == {"read"}
    assert not [i for c in report.cases for i in c["issues"] if i["severity"] == "error"]


# --------------------------------------------------------------------------- what a run makes of them


def test_run_audit_reads_every_file_without_errors_and_ratings_spread(msp_core: Template,
                                                                      two_rounds: tuple[Path, list[Path]]) -> None:
    folder, paths = two_rounds
    report = run_audit([folder], msp_core)
    assert [r.status for r in report.inputs] == ["read"] * len(paths)
    assert report.rejected == [] and report.error_count == 0
    assert not [i for r in report.inputs for i in r.issues]
    codes = {i["code"] for c in report.cases for i in c["issues"]}
    assert codes <= {"unanswered", "flagged-answer"}  # no duplicate ids, no answer where a rule says no
    assert len({c["id"] for c in report.cases}) == len(report.cases) > len(paths)
    ratings = {c["rating"] for c in report.cases if "register" not in c["source"]}
    assert len(ratings) >= 3, ratings  # over the single-case files alone
    assert {c["rating"] for c in report.cases} == {b.label for b in msp_core.bands}
    failures = [c for c in report.cases if c["critical_failures"]]
    assert 0 < len(failures) < len(report.cases) / 2
    statuses = {(c["criteria"][cid]["status"], c["criteria"][cid]["answer"]) for c in report.cases
                for cid in c["criteria"]}
    assert ("excluded", "na") in statuses and ("excluded", "unknown") in statuses
    for c in report.cases:
        lacked = c["fields"].get("lacked_capacity") == "Yes, they lacked capacity"
        assert (c["criteria"]["B3"]["status"] == "not_applicable") is (not lacked), c["id"]
    text = json.dumps(report.to_dict())
    assert "Test Person" not in text and "Example" not in text.replace("Exampleshire", "")
    assert "Concern raised" not in text and "case note" not in text.lower()


def test_every_file_reads_back_exactly_what_was_generated(msp_core: Template,
                                                        two_rounds: tuple[Path, list[Path]]) -> None:
    _, paths = two_rounds
    for index, path in enumerate(paths):
        layout = LAYOUTS[index % len(LAYOUTS)]
        _, cases = sample_cases(msp_core, index, seed=1)
        result = read_bytes(path.read_bytes(), path.suffix, msp_core, path.name)
        assert result.issues == [], path.name
        assert [c.id for c in result.cases] == [c.fields["case_ref"] for c in cases], path.name
        for got, want in zip(result.cases, cases):
            assert got.fields == expected_fields(want), (path.name, got.id)
            assert [i for i in got.issues if i.severity == "error"] == [], (path.name, got.id)
            for cid, crit in msp_core.criteria.items():
                w = want.answers.get(cid)
                a = got.answers.get(cid)
                assert (a.value if a else None) == (w.value if w else None), (path.name, got.id, cid)
                if w is None or w.value is None:
                    continue
                if layout not in CRITICAL_EVIDENCE_ONLY or crit.critical:
                    assert a is not None and a.evidence == w.evidence, (path.name, got.id, cid)
                if layout not in NO_COMMENTS:
                    assert a is not None and a.comment == w.comment, (path.name, got.id, cid)


def test_layout_details_councils_use(msp_core: Template, two_rounds: tuple[Path, list[Path]]) -> None:
    _, paths = two_rounds
    by_layout = {LAYOUTS[i % len(LAYOUTS)]: p for i, p in enumerate(paths[: len(LAYOUTS)])}

    ws = openpyxl.load_workbook(by_layout["xlsx-marks"])["Case file audit"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "No.")
    assert list(header) == ["No.", "Question", "Yes", "Partly", "No", "N/A", "Unable to determine", "Evidence", "Notes"]
    for row in ws.iter_rows(values_only=True):
        if row[0] in msp_core.criteria:
            assert sum(1 for v in row[2:7] if v) <= 1

    wb = openpyxl.load_workbook(by_layout["xlsx-register"])
    reg = wb["Register"]
    assert wb.sheetnames == ["About", "Register"]
    assert reg["A1"].value == "Case file audit register" and reg["A4"].value == "Case reference"
    headers = [c.value for c in reg[4]]
    assert headers.index("A1 evidence") == headers.index("A1") + 1 and "A2 evidence" not in headers
    case = read_bytes(by_layout["xlsx-register"].read_bytes(), ".xlsx", msp_core, "r.xlsx").cases[0]
    assert case.location == "Register!A5" and case.field_locations["case_ref"] == "Register!A5"

    ws = openpyxl.load_workbook(by_layout["xlsx-council"])["Audit Tool"]
    assert ws["A1"].value == "SAFEGUARDING ADULTS CASE FILE AUDIT" and "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A4"].value == "Case reference:"
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Question")
    assert [ws.cell(header_row, c).value for c in range(1, 7)] == [
        "Question", "Ref", "Evidence", "Response", "Comments", "Page ref"]
    assert ws.cell(ws.max_row, 1).value == "Audit date:"  # sign-off block at the bottom

    document = docx.Document(str(by_layout["docx-notes"]))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-2:] == ["Chronology", "Case notes"]
    case = read_bytes(by_layout["docx-notes"].read_bytes(), ".docx", msp_core, "n.docx").cases[0]
    _, (want,) = sample_cases(msp_core, LAYOUTS.index("docx-notes"), seed=1)
    first_event = f"{want.chronology[0][0].strftime('%d/%m/%Y')} — {want.chronology[0][1]}"
    assert case.notes is not None and case.notes.startswith(first_event) and want.notes[-1] in case.notes

    document = docx.Document(str(by_layout["docx-form"]))
    cell = document.tables[1].rows[1].cells[2].text
    assert cell.count("☒") == 1 and cell.count("☐") == 4

    document = docx.Document(str(by_layout["docx-marks"]))
    (table,) = document.tables
    assert [c.text for c in table.rows[0].cells] == [
        "Ref", "Question", "Yes", "Partly", "No", "N/A", "Unable to determine", "Evidence"]
    assert document.paragraphs[3].text.startswith("Case reference: SG-")


def test_council_forms_with_missing_refs_are_matched_by_question_text(msp_core: Template, tmp_path: Path) -> None:
    """The council layout drops a few ids; those rows are still read, by the question's wording."""
    index = LAYOUTS.index("xlsx-council")
    checked = 0
    for round_ in range(6):
        i = index + round_ * len(LAYOUTS)
        suffix, data = sample_bytes(msp_core, i, seed=1)
        path = tmp_path / f"{i}{suffix}"
        path.write_bytes(data)
        ws = openpyxl.load_workbook(path)["Audit Tool"]
        missing = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)
                   if ws.cell(r, 2).value is None and ws.cell(r, 4).value]
        texts = {c.text: cid for cid, c in msp_core.criteria.items()}
        case = read_bytes(path.read_bytes(), ".xlsx", msp_core, path.name).cases[0]
        _, (want,) = sample_cases(msp_core, i, seed=1)
        for text in missing:
            if text in texts:
                assert case.answers[texts[text]].value == want.answers[texts[text]].value
                checked += 1
    assert checked > 0


# --------------------------------------------------------------------------- plausible cases


def test_cases_are_plausible(msp_core: Template) -> None:
    rng = random.Random(42)
    cases = [make_case(msp_core, rng, f"T-{n}") for n in range(300)]
    name = re.compile(r"^(Test Person \d{3}|[A-Z][a-z]+ [A-Z][a-z]+)$")
    for c in cases:
        f = c.fields
        assert name.match(f["adult_name"])
        assert PERIOD_END - dt.timedelta(days=730) <= f["concern_date"] <= f["closed_date"] <= f["audit_date"] <= PERIOD_END
        lacked = f["lacked_capacity"] == "Yes, they lacked capacity"
        assert ("B3" in c.answers) is lacked and ("advocate_support" in f) is lacked
        assert ("risk_outcome" in f) is (f["risk_assessment_outcome"] == "Risk identified and action taken")
        assert ("outcomes_achieved" in f) is (f["asked_outcomes"] == "Yes they were asked and outcomes were expressed")
        for fid, value in f.items():
            fld = msp_core.fields[fid]
            if fld.type == "choice":
                assert value in fld.choices, fid
            if fld.type == "multichoice":
                assert value and set(value) <= set(fld.choices)
    agencies = {c.fields["agency"] for c in cases}
    assert {"Adult Social Care", "NHS Trust", "Police", "Housing"} <= agencies
    assert {"North Locality", "South Locality"} <= {c.fields["team"] for c in cases}
    values = [a.value for c in cases for a in c.answers.values()]
    share = {v: values.count(v) / len(values) for v in ("yes", "partly", "no", "na", "unknown", None)}
    assert share["yes"] > 0.3 and share["partly"] > 0.15 and share["no"] > 0.05
    assert 0.01 < share["na"] < 0.08 and 0.005 < share["unknown"] < 0.05 and 0 < share[None] < 0.02
    # practice quality drives answers: the Outstanding tier says Yes far more than the Inadequate one
    yes_rate = {t: sum(a.value == "yes" for c in cases if c.tier == t for a in c.answers.values())
                / max(1, sum(len(c.answers) for c in cases if c.tier == t)) for t in (0, 3)}
    assert yes_rate[0] > 0.8 > 0.2 > yes_rate[3]


# --------------------------------------------------------------------------- the command


def test_cli_samples(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["samples", "-o", str(tmp_path / "s"), "--count", "10", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "s").iterdir())) == 10
    assert res.stderr.strip() == f"wrote 10 sample case file(s) to {tmp_path / 's'} (9 layout(s), seed 3)"
    assert res.stdout == ""
    assert (tmp_path / "s" / "001-json-case.json").read_bytes() == \
        generate_samples(tmp_path / "lib", count=1, seed=3)[0].read_bytes()
    (tmp_path / "file").write_text("x")
    res = runner.invoke(app, ["samples", "-o", str(tmp_path / "file")])
    assert res.exit_code == 2 and "exists and is not a folder" in res.stderr
    res = runner.invoke(app, ["samples", "-o", str(tmp_path / "file" / "sub")])
    assert res.exit_code == 2 and res.stderr.startswith(f"msp-audit: cannot write samples into {tmp_path / 'file' / 'sub'}: ")
    res = runner.invoke(app, ["samples", "-o", str(tmp_path / "z"), "--count", "0"])
    assert res.exit_code == 2 and not (tmp_path / "z").exists()
    res = runner.invoke(app, ["samples", "--help"], env={"COLUMNS": "200"})
    assert "Example: msp-audit samples -o samples" in res.output
