"""The board workbook ``aggregate.xlsx`` read back with openpyxl and checked against results.json,
and the ``score`` command writing it and the per-case workbooks."""

from __future__ import annotations

import copy
import json
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.gates import evaluate_gates, parse_gate
from audit_cli.model import Template
from audit_cli.store import CaseStore
from audit_cli.templates import template_from_dict
from audit_cli.writers.aggregate_workbook import natural_key, read_case, write_aggregate_workbook

from conftest import base_template_doc, write_json

PERSONAL = ["Zebedee Quonk", "1931-02-03"]
FREE_TEXT = ["EVIDENCE-SECRET", "COMMENT-SECRET", "NOTES-SECRET", "Ophelia Xanthe"]
HOSTILE_TEAM = '=HYPERLINK("http://x","y")'
RED, AMBER, GREEN = "FFFFC7CE", "FFFFEB9C", "FFC6EFCE"
GENERATED = "2026-06-30T12:00:00+00:00"


# --------------------------------------------------------------------------- helpers


def rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def label_values(ws: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in ws.iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(r[0], str) and r[0] not in out:
            out[r[0]] = r[1]
    return out


def block(ws: Any, title: str, width: int) -> list[list[Any]]:
    """The rows under a heading in column A, down to the next empty row."""
    data = rows(ws)
    start = next(i for i, r in enumerate(data) if r[0] == title) + 1
    out = []
    for r in data[start:]:
        if all(v is None for v in r):
            break
        out.append(r[:width])
    return out


def fill(cell: Any) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None


def xml_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


def charts_of(path: Path, sheet: str) -> list[str]:
    """The chart XML parts drawn on one sheet."""
    parts = xml_parts(path)
    sheet_attr = sheet.replace("&", "&amp;").replace('"', "&quot;")
    rid = re.search(rf'<sheet name="{re.escape(sheet_attr)}" sheetId="\d+" r:id="(rId\d+)"', parts["xl/workbook.xml"])
    assert rid, sheet
    target = re.search(rf'Id="{rid.group(1)}" [^>]*Target="([^"]+)"', parts["xl/_rels/workbook.xml.rels"])
    assert target
    sheet_file = target.group(1).rsplit("/", 1)[-1]
    rels = parts.get(f"xl/worksheets/_rels/{sheet_file}.rels", "")
    out = []
    for drawing in re.findall(r'Target="\.\./drawings/(drawing\d+\.xml)"', rels):
        for chart in re.findall(r'Target="\.\./charts/(chart\d+\.xml)"', parts[f"xl/drawings/_rels/{drawing}.rels"]):
            out.append(parts[f"xl/charts/{chart}"])
    return out


def assert_no_formulas(path: Path) -> None:
    for name, xml in xml_parts(path).items():
        if name.startswith("xl/worksheets/"):
            assert "<f>" not in xml and "<f " not in xml, name
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate)
                if isinstance(c.value, str):
                    assert c.data_type == "s", (ws.title, c.coordinate)


def all_text(path: Path) -> str:
    """Every cell value of every sheet, and the raw XML of every part."""
    wb = openpyxl.load_workbook(path)
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    return "\n".join(cells) + "\n".join(xml_parts(path).values())


# --------------------------------------------------------------------------- a round of cases


def msp_case(ref: str, team: str, answers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "template": "msp-core",
        "case": {"case_ref": ref, "team": team, "adult_name": "Zebedee Quonk", "date_of_birth": "1931-02-03",
                 "auditor": "Ophelia Xanthe", "agency": "Council", **fields},
        "answers": answers,
        "notes": "NOTES-SECRET about the adult",
    }


def make_round(folder: Path, t: Template) -> None:
    ids = list(t.criteria)
    yes = {c: "yes" for c in ids if c != "B3"}
    write_json(folder / "c1.json", msp_case("C-1", "North", {**yes, "A2": {"answer": "yes", "evidence": "EVIDENCE-SECRET"}},
                                            judgement="Outstanding", risk_types=["Physical Abuse"],
                                            asked_outcomes="No"))
    write_json(folder / "c2.json", msp_case("C-2", "North", {**yes, "A1": {"answer": "no", "comment": "COMMENT-SECRET"}},
                                            judgement="Requires improvement", risk_types=["Physical Abuse", "Self-Neglect"]))
    write_json(folder / "c3.json", msp_case("C-3", "South", {c: ("partly" if i % 2 else "yes") for i, c in enumerate(ids) if c != "B3"},
                                            judgement="Good", asked_outcomes="Yes they were asked and outcomes were expressed"))
    write_json(folder / "c4.json", msp_case("C-4", HOSTILE_TEAM, {**yes, "A4": "Maybe", "C2": "no"}))
    write_json(folder / "register.json", {"cases": [
        msp_case("R-1", "South", {c: "no" for c in ids if c != "B3"}, judgement="Good"),
        msp_case("R-2", "South", {c: "n/a" for c in ids}),
    ]})
    (folder / "broken.json").write_text("{not json", encoding="utf-8")


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, dict[str, Any], Path]:
    from audit_cli.templates import load_template

    t = load_template("msp-core")
    root = tmp_path_factory.mktemp("board")
    make_round(root / "cases", t)
    doc = run_audit([root / "cases"], t, RunOptions(label="2026 Q2")).to_dict()
    doc["run"]["generated"] = GENERATED
    doc["gates"] = evaluate_gates([parse_gate("mean >= 75", t), parse_gate("critical_failures <= 10", t)], doc)
    path = root / "aggregate.xlsx"
    write_aggregate_workbook(t, doc, path)
    return t, doc, path


# --------------------------------------------------------------------------- sheets


def test_sheets_in_order(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    assert openpyxl.load_workbook(path).sheetnames == [
        "Summary", "MSP essential steps", "Safeguarding principles", "Sections", "Criteria", "Cases",
        "Breakdowns", "Outcome measures", "Critical failures", "Data quality", "Inputs",
    ]


def test_summary(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    agg = doc["aggregate"]
    ws = openpyxl.load_workbook(path)["Summary"]
    lv = label_values(ws)
    assert lv["Round"] == "2026 Q2"
    assert lv["Template"] == "msp-core 1.0.0" and lv["Template title"] == t.title
    assert lv["Tool"] == "msp-audit " + doc["tool"]["version"]
    assert lv["Generated"] == GENERATED
    assert (lv["Files read"], lv["Files rejected"], lv["Files skipped"]) == (5, 1, 0)
    assert (lv["Cases"], lv["Rated"], lv["Not rated"]) == (6, 5, 1) == (agg["cases"], agg["rated"], 1)
    assert lv["Mean score"] == agg["mean_score"]
    assert lv["Cases with a critical failure"] == agg["critical_failures"]["cases"] == 2
    assert lv["Errors (in cases and files)"] == 1  # C-4's "Maybe"
    assert block(ws, "Ratings", 3) == [["Rating", "Cases", "Share"]] + [
        [label, n, agg["rating_shares"][label]] for label, n in agg["ratings"].items()
    ]
    assert [r[0] for r in block(ws, "Ratings", 1)[1:]] == ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated"]
    gates = block(ws, "Gates", 3)
    assert gates == [["Gate", "Value", "Result"],
                     ["mean >= 75", doc["gates"][0]["value"], "FAIL"],
                     ["critical_failures <= 10", 2, "pass"]]
    fail_row = next(r for r in ws.iter_rows() if r[0].value == "mean >= 75")
    assert fail_row[2].value == "FAIL" and fill(fail_row[2]) == RED  # colour with the word, never alone
    charts = charts_of(path, "Summary")
    assert len(charts) == 1 and "<c:barChart>" in charts[0] and "Summary!$B$" in charts[0]
    assert "Disclosure control" not in lv


def test_judgement_agreement_table(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    j = doc["aggregate"]["judgement"]
    ws = openpyxl.load_workbook(path)["Summary"]
    lv = label_values(ws)
    # C-1 Outstanding/Outstanding, C-2 RI/RI agree; C-3 Good vs computed, R-1 Good vs Inadequate
    assert (lv["Cases with a judgement"], lv["Judgement agrees with the rating"]) == (j["compared"], j["agree"]) == (4, j["agree"])
    assert lv["Agreement"] == j["agreement"] == 100 * j["agree"] / 4
    data = rows(ws)
    head = next(i for i, r in enumerate(data) if r[0] == "Auditor \\ rules")
    cols = data[head][1:7]
    assert cols == ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated", "Total"]
    table = {r[0]: r[1:7] for r in data[head + 1 : head + 5]}
    for auditor, row in table.items():
        expected = [j["table"].get(auditor, {}).get(c, 0) for c in cols[:-1]]
        assert row == [*expected, sum(expected)]
    assert table["Good"][3] == 1  # the auditor said Good, the rules say Inadequate
    r = head + 2  # openpyxl rows are 1-based: head + 1 is the header row
    assert fill(ws.cell(r, 2)) == GREEN  # Outstanding/Outstanding on the diagonal


def test_dimension_sheets(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    agg = doc["aggregate"]
    wb = openpyxl.load_workbook(path)
    bands = [b.label for b in t.bands]
    for sheet, dim_id, about in (("MSP essential steps", "step", "Group"),
                                 ("Safeguarding principles", "principle", '"I" statement'),
                                 ("Sections", "section", "Description")):
        data = rows(wb[sheet])
        assert data[0][0] == t.all_dimensions()[dim_id].title
        assert data[1] == ["ID", "Title", about, "Mean score", "Band of the mean", "Cases", *(f"Share {b}" for b in bands)]
        expected = []
        for item in t.all_dimensions()[dim_id].items:
            s = agg["dimensions"][dim_id][item.id]
            expected.append([item.id, item.title, item.statement or item.group or item.description, s["mean"],
                             t.band_for(s["mean"]) or "Not scored", s["cases"], *(s["bands"][b] for b in bands)])
        assert data[2:2 + len(expected)] == expected
        charts = charts_of(path, sheet)
        assert len(charts) == 1 and "<c:barChart>" in charts[0]
        assert f"$D$3:$D${2 + len(expected)}" in charts[0]  # the means
    empowerment = next(r for r in rows(wb["Safeguarding principles"]) if r[0] == "empowerment")
    assert empowerment[2].startswith("I am asked what I want as the outcomes")
    assert wb["MSP essential steps"].freeze_panes == "C3"


def test_criteria_sheet(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    crit = doc["aggregate"]["criteria"]
    data = rows(openpyxl.load_workbook(path)["Criteria"])
    options = ["Yes", "Partly", "No", "Not applicable", "Unable to determine"]
    assert data[0] == ["ID", "Section", "Question", "Weight", "Critical", "Attainment", "Scored", *options,
                       "Unanswered", "Excluded", "Not applicable (rule)", "Flagged", "Weighted shortfall"]
    order = sorted(t.criteria, key=lambda c: (-crit[c]["shortfall"], natural_key(c)))
    assert [r[0] for r in data[1:]] == order
    assert crit[order[0]]["shortfall"] == max(c["shortfall"] for c in crit.values()) > 0
    section_of = {c.id: s.title for s in t.sections for c in s.criteria}
    value_of = {o.label: o.value for o in t.scales["ypn"].options}
    for r in data[1:]:
        cid, c, s = r[0], t.criteria[r[0]], crit[r[0]]
        assert r[1:7] == [section_of[cid], c.text, c.weight, "Critical" if c.critical else None, s["attainment"], s["scored"]]
        assert r[7:12] == [s["counts"][value_of[label]] for label in options]
        assert r[12:17] == [s["unanswered"], s["excluded"], s["not_applicable"], s["flagged"], s["shortfall"]]
    a4 = next(r for r in data if r[0] == "A4")
    assert a4[12] == 1  # C-4's "Maybe" counts as unanswered
    b3 = next(r for r in data if r[0] == "B3")
    assert b3[14] == 6  # not applicable by rule: no case says the adult lacked capacity


def test_cases_sheet(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    ws = openpyxl.load_workbook(path)["Cases"]
    data = rows(ws)
    items = [(d, i) for d, dim in [*((k, v) for k, v in t.dimensions.items()), ("section", t.all_dimensions()["section"])]
             for i in dim.items]
    fixed = ["Case ID", "Source", "Location", "Score", "Rating", "Critical failures", "Auditor's overall judgement",
             "Team", "Agency", "Enquiry type", "Type(s) of risk", "Location of risk", "Source of risk"]
    assert data[1][: len(fixed)] == fixed
    assert len(data[1]) == len(fixed) + len(items)
    assert data[0][len(fixed)] == "MSP essential steps"
    assert len(data) == 2 + len(doc["cases"])
    for row, case in zip(data[2:], doc["cases"]):
        f = case["fields"]
        risk = "; ".join(f["risk_types"]) if f.get("risk_types") else None
        assert row[: len(fixed)] == [case["id"], case["source"], case["location"], case["score"],
                                     case["rating"] or "Not rated", ", ".join(case["critical_failures"]) or None,
                                     case["judgement"], f.get("team"), f.get("agency"), None, risk, None, None]
        assert row[len(fixed):] == [case["dimensions"][d][i.id] for d, i in items]
    assert [r[0] for r in data[2:]] == ["C-1", "C-2", "C-3", "C-4", "R-1", "R-2"]
    last = 2 + len(doc["cases"])
    ranges = {str(cf.sqref) for cf in ws.conditional_formatting}
    assert f"D3:D{last}" in ranges
    assert ws.freeze_panes == "B3"
    assert ws.auto_filter.ref.startswith("A2:")
    assert ws.page_setup.orientation == "landscape"
    rating = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "R-1")[4]
    assert rating.value == "Inadequate" and fill(rating) == RED


def test_breakdowns_sheet(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    bd = doc["aggregate"]["breakdowns"]
    ws = openpyxl.load_workbook(path)["Breakdowns"]
    items = [(d, i) for d, dim in t.dimensions.items() for i in dim.items]
    team = block(ws, "Team", 4 + len(items))
    assert team[0] == [None, None, None, None, "MSP essential steps", *([None] * 8), "Safeguarding principles",
                       *([None] * 5)]
    assert team[1][:4] == ["Value", "Cases", "Rated", "Mean score"]
    assert [r[0] for r in team[2:]] == list(bd["team"]) == [HOSTILE_TEAM, "North", "South"]
    for r in team[2:]:
        s = bd["team"][r[0]]
        assert r[1:4] == [s["cases"], s["rated"], s["mean_score"]]
        assert r[4:] == [s["dimensions"][d][i.id] for d, i in items]
    risk = block(ws, "Type(s) of risk", 4)
    assert [r[0] for r in risk[3:]] == list(bd["risk_types"])
    assert risk[0][0] == "A case with several values counts under each of them."
    labels = [r[0] for r in rows(ws)]
    for f in t.case_fields:
        assert (f.label in labels) == (f.breakdown and not f.personal)


def test_outcome_measures_sheet(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    agg = doc["aggregate"]
    ws = openpyxl.load_workbook(path)["Outcome measures"]
    labels = [r[0] for r in rows(ws)]
    for f in t.case_fields:
        assert (f.label in labels) == (f.type in ("choice", "multichoice") and not f.personal), f.id
    asked = block(ws, "Asked about desired outcomes", 3)
    assert asked[0] == ["Choice", "Cases", "Share"]
    assert asked[1:] == [[k, n, agg["field_shares"]["asked_outcomes"][k]] for k, n in agg["fields"]["asked_outcomes"].items()]
    assert ["No", 1, 100 / 6] in asked


def test_critical_failures_sheet(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    cf = doc["aggregate"]["critical_failures"]
    ws = openpyxl.load_workbook(path)["Critical failures"]
    by_crit = block(ws, "By criterion", 3)
    assert by_crit == [["Criterion", "Cases", "Question"]] + [[c, n, t.criteria[c].text] for c, n in cf["by_criterion"].items()]
    by_case = block(ws, "By case", 4)
    assert by_case[0] == ["Case ID", "Criterion", "Question", "Source"]
    sources = {c["id"]: c["source"] for c in doc["cases"]}
    assert by_case[1:] == [[k, c, t.criteria[c].text, sources[k]] for k, v in cf["by_case"].items() for c in v]
    assert ["C-2", "A1", t.criteria["A1"].text, sources["C-2"]] in by_case


def test_data_quality_and_inputs(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    wb = openpyxl.load_workbook(path)
    dq = rows(wb["Data quality"])
    assert dq[0] == ["Severity", "Code", "File", "Case ID", "Location", "Message"]
    broken = next(i for i in doc["inputs"] if i["status"] == "rejected")
    assert dq[1] == ["error", "rejected", broken["path"], None, None, broken["error"]]
    c4 = next(c for c in doc["cases"] if c["id"] == "C-4")
    err = next(i for i in c4["issues"] if i["code"] == "unknown-answer")
    assert ["error", "unknown-answer", c4["source"], "C-4", "answers.A4", err["message"]] in dq
    severities = [r[0] for r in dq[1:]]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert len(dq) - 1 == 1 + sum(len(c["issues"]) for c in doc["cases"]) + sum(len(i["issues"]) for i in doc["inputs"])
    inputs = rows(wb["Inputs"])
    assert inputs[0] == ["Path", "SHA-256", "Status", "Cases", "Error / note"]
    assert inputs[1:] == [[i["path"], i["sha256"], i["status"], i["cases"], i["error"] or i["note"]] for i in doc["inputs"]]


def test_no_personal_value_or_free_text_anywhere(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    text = all_text(path)
    for value in PERSONAL + FREE_TEXT:
        assert value not in text, value


def test_hostile_text_is_never_a_formula(board: tuple[Template, dict[str, Any], Path]) -> None:
    t, doc, path = board
    assert_no_formulas(path)
    ws = openpyxl.load_workbook(path)["Cases"]
    c4 = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "C-4")
    assert c4[7].value == HOSTILE_TEAM and c4[7].data_type == "s"


def test_same_doc_gives_the_same_file(board: tuple[Template, dict[str, Any], Path], tmp_path: Path) -> None:
    t, doc, path = board
    again = tmp_path / "again.xlsx"
    write_aggregate_workbook(t, doc, again)
    assert again.read_bytes() == path.read_bytes()
    assert "2026-06-30T12:00:00Z" in xml_parts(again)["docProps/core.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx"]  # no temporary files left


# --------------------------------------------------------------------------- a run's case store


class CountingStore(CaseStore):
    """A case store that counts how often its cases are read."""

    reads = 0

    def lines(self) -> Any:
        self.reads += 1
        return super().lines()

    def __iter__(self) -> Any:
        self.reads += 1
        return super().__iter__()


def stored(cases: Any, folder: Path) -> CountingStore:
    store = CountingStore(folder)
    for case in cases:
        store.append(case)
    return store


@pytest.mark.parametrize("suppress", [False, True])
def test_a_stored_run_gives_the_same_workbook_reading_the_cases_once(
        board: tuple[Template, dict[str, Any], Path], tmp_path: Path, suppress: bool) -> None:
    t, doc, _ = board
    listed, spooled = tmp_path / "listed.xlsx", tmp_path / "spooled.xlsx"
    write_aggregate_workbook(t, doc, listed, suppress_small=suppress)
    store = stored(doc["cases"], tmp_path)
    write_aggregate_workbook(t, {**doc, "cases": store}, spooled, suppress_small=suppress)
    assert spooled.read_bytes() == listed.read_bytes()
    assert store.reads == 1  # one pass serves every sheet
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["listed.xlsx", "spooled.xlsx"]  # spools gone


@pytest.mark.parametrize("jobs,suppress", [(1, False), (2, False), (1, True)])
def test_the_pass_made_during_a_run_gives_the_same_workbook_and_reads_no_case(
        tmp_path: Path, jobs: int, suppress: bool) -> None:
    """With ``board_rows`` the workers make each case's rows as they score it and the workbook
    reads no case back; it is the same file, duplicates (and their warnings) included."""
    from audit_cli.templates import load_template

    t = load_template("msp-core")
    make_round(tmp_path / "in" / "a", t)
    make_round(tmp_path / "in" / "b", t)  # every reference again: duplicate-case warnings
    out = tmp_path / "out"
    out.mkdir()
    report = run_audit([tmp_path / "in"], t, RunOptions(out_dir=out, jobs=jobs, board_rows=True))
    assert report.board is not None
    doc = report.to_dict(stream=True)
    doc["run"]["generated"] = GENERATED
    counting = CountingStore(out)
    for line in report.cases.lines():
        counting.append(json.loads(line))
    assert any(i["code"] == "duplicate-case" for c in counting for i in c["issues"])
    counting.reads = 0
    made, read_back = out / "made.xlsx", out / "read.xlsx"
    write_aggregate_workbook(t, {**doc, "cases": counting}, made, suppress_small=suppress, digest=report.board)
    assert counting.reads == 0
    write_aggregate_workbook(t, {**doc, "cases": counting}, read_back, suppress_small=suppress)
    assert counting.reads == 1
    assert made.read_bytes() == read_back.read_bytes()
    report.board.close()
    counting.close()


def test_a_pass_made_for_other_columns_is_not_used(board: tuple[Template, dict[str, Any], Path],
                                                   tmp_path: Path) -> None:
    """A document whose aggregate breaks down by fewer fields has fewer Cases columns than a run's
    pass made: the workbook reads its cases back instead."""
    from audit_cli.writers.aggregate_workbook import CaseDigest

    t, doc, path = board
    assert "Team" in rows(openpyxl.load_workbook(path)["Cases"])[1]
    narrower = copy.deepcopy(doc)
    narrower["aggregate"]["breakdowns"].pop("team")
    expected, got = tmp_path / "expected.xlsx", tmp_path / "got.xlsx"
    write_aggregate_workbook(t, narrower, expected)
    digest = CaseDigest(t, tmp_path)  # empty: used, it would leave the Cases sheet bare
    write_aggregate_workbook(t, narrower, got, digest=digest)
    digest.close()
    assert got.read_bytes() == expected.read_bytes()
    assert "Team" not in rows(openpyxl.load_workbook(got)["Cases"])[1]


def stored_line(case: dict[str, Any], tmp_path: Path) -> str:
    store = CaseStore(tmp_path)
    store.append(case)
    line = next(store.lines())
    store.close()
    return line


def test_read_case_skips_only_the_criteria(board: tuple[Template, dict[str, Any], Path], tmp_path: Path) -> None:
    t, doc, _ = board
    for case in doc["cases"]:
        got = read_case(stored_line(case, tmp_path))
        assert "criteria" not in got
        assert got == {k: v for k, v in case.items() if k != "criteria"}
    tricky = copy.deepcopy(doc["cases"][0])
    tricky["id"] = 'x}, "criteria": {"a": 1}, "fields": {"b": 2'  # quotes in a string are escaped: no match
    tricky["fields"]["team"] = ', "fields": {}}'
    got = read_case(stored_line(tricky, tmp_path))
    assert got == {k: v for k, v in tricky.items() if k != "criteria"}


def odd_case(case: dict[str, Any], how: str) -> dict[str, Any]:
    case = copy.deepcopy(case)
    if how == "a dimension named criteria":
        case["dimensions"]["criteria"] = {"x": 1.0}
    elif how == "a fields key inside the criteria":
        next(iter(case["criteria"].values()))["fields"] = 1
    elif how == "no judgement":
        del case["judgement"]
    elif how == "criteria last":
        case["criteria"] = case.pop("criteria")
    return case


@pytest.mark.parametrize("how", ["a dimension named criteria", "a fields key inside the criteria", "no judgement",
                                 "criteria last"])
def test_read_case_decodes_any_other_layout_whole(board: tuple[Template, dict[str, Any], Path], tmp_path: Path,
                                                  how: str) -> None:
    t, doc, _ = board
    case = odd_case(doc["cases"][1], how)
    assert read_case(stored_line(case, tmp_path)) == case
    assert read_case(json.dumps(case, separators=(",", ":"))) == case


def test_memory_does_not_grow_with_the_cases(board: tuple[Template, dict[str, Any], Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """While the sheets are written (up to the workbook's close, whose zip buffers are another
    matter), the writer's own memory stays flat: the cases are made before measuring and the
    memos kept small, and keeping each case's Cases row would add a quarter of a megabyte."""
    import xlsxwriter

    from audit_cli.writers import xlsx_safe

    monkeypatch.setattr(xlsx_safe, "MEMO", 64)
    close = xlsxwriter.Workbook.close
    peaks: list[int] = []

    def measured_close(wb: Any) -> Any:
        peaks.append(tracemalloc.get_traced_memory()[1])
        return close(wb)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", measured_close)
    t, doc, _ = board

    def peak(copies: int) -> int:
        cases = [{**case, "id": f"{case['id']}-{k}"} for k in range(copies) for case in doc["cases"]]
        tracemalloc.start()
        try:
            write_aggregate_workbook(t, {**doc, "cases": cases}, tmp_path / "aggregate.xlsx")
            return peaks.pop()
        finally:
            tracemalloc.stop()

    peak(1)  # one-off costs (formats, compiled patterns) out of the way
    assert peak(100) < peak(10) + 100_000  # 600 cases against 60


# --------------------------------------------------------------------------- suppression


def test_suppress_small(board: tuple[Template, dict[str, Any], Path], tmp_path: Path) -> None:
    t, doc, _ = board
    path = tmp_path / "suppressed.xlsx"
    write_aggregate_workbook(t, doc, path, suppress_small=True)
    wb = openpyxl.load_workbook(path)
    assert "Cases" not in wb.sheetnames  # no case-level rows in a workbook meant for sharing
    lv = label_values(wb["Summary"])
    assert "Small-number suppression applied" in lv["Disclosure control"]
    assert (lv["Cases"], lv["Rated"], lv["Not rated"]) == (5, 5, "*")  # 6 -> 5, 5 -> 5, 1 -> *
    assert lv["Mean score"] == doc["aggregate"]["mean_score"]  # 5 rated: shown
    assert lv["Files read"] == 5 and lv["Files rejected"] == 1  # files are not people
    agg = doc["aggregate"]
    ratings = block(wb["Summary"], "Ratings", 3)[1:]
    for label, n, share in ratings:
        real = agg["ratings"][label]
        assert n == (0 if real == 0 else "*")
        assert share == (agg["rating_shares"][label] if real == 0 else "*")
    team = {r[0]: r for r in block(wb["Breakdowns"], "Team", 5)[2:]}
    assert team["South"][1:5] == ["*", "*", "*", "*"]  # 3 cases: count and means hidden
    steps = rows(wb["MSP essential steps"])[2]
    assert steps[5] == 5 and steps[3] == agg["dimensions"]["step"]["1"]["mean"]
    crit = {r[0]: r for r in rows(wb["Criteria"])[1:]}
    a1 = agg["criteria"]["A1"]
    assert crit["A1"][6] == 5 and crit["A1"][7] == "*" and a1["counts"]["yes"] == 3
    assert crit["A1"][5] == a1["attainment"]
    # a chart would draw a suppressed figure as zero: it is left out, with a note, where one is hidden
    assert charts_of(path, "Summary") == []
    assert "No chart: some counts are suppressed." in [r[0] for r in rows(wb["Summary"])]
    for sheet in ("MSP essential steps", "Safeguarding principles", "Sections"):
        data = rows(wb[sheet])
        means = [r[3] for r in data[2:] if r[0] is not None and not str(r[0]).startswith("No chart")]
        noted = any(r[0] == "No chart: some means are suppressed." for r in data)
        assert noted == ("*" in means) == (charts_of(path, sheet) == []), sheet
    cf = rows(wb["Critical failures"])
    assert not any(r[0] == "By case" for r in cf)
    assert ["A1", "*"] == block(wb["Critical failures"], "By criterion", 2)[1]


def test_suppression_rounds_larger_counts(board: tuple[Template, dict[str, Any], Path], tmp_path: Path) -> None:
    t, doc, _ = board
    doc = copy.deepcopy(doc)
    agg = doc["aggregate"]
    agg["ratings"] = {"Outstanding": 0, "Good": 8, "Requires improvement": 13, "Inadequate": 7, "Not rated": 2}
    agg["rating_shares"] = {k: 100 * v / 30 for k, v in agg["ratings"].items()}
    agg["cases"], agg["rated"] = 30, 28
    agg["fields"]["asked_outcomes"] = {"No": 12, "Not recorded": 0, "(blank)": 18}
    agg["field_shares"]["asked_outcomes"] = {"No": 40.0, "Not recorded": 0.0, "(blank)": 60.0}
    path = tmp_path / "rounded.xlsx"
    write_aggregate_workbook(t, doc, path, suppress_small=True)
    wb = openpyxl.load_workbook(path)
    assert block(wb["Summary"], "Ratings", 3)[1:] == [
        ["Outstanding", 0, 0.0], ["Good", 10, 100 * 8 / 30], ["Requires improvement", 15, 100 * 13 / 30],
        ["Inadequate", 5, 100 * 7 / 30], ["Not rated", "*", "*"],
    ]
    lv = label_values(wb["Summary"])
    assert (lv["Cases"], lv["Rated"], lv["Not rated"]) == (30, 30, "*")
    asked = block(wb["Outcome measures"], "Asked about desired outcomes", 3)
    assert asked[1:] == [["No", 10, 40.0], ["Not recorded", 0, 0.0], ["(blank)", 20, 60.0]]


# --------------------------------------------------------------------------- other templates, trends


def custom_template() -> Template:
    doc = base_template_doc()
    doc["dimensions"]["theme"]["title"] = "Themes: cross/cutting [draft] * review?"
    doc["dimensions"]["extra"] = {"title": "Summary", "items": [{"id": "x", "title": "Extra"}]}
    doc["sections"][0]["criteria"][1]["map"]["extra"] = ["x"]
    return template_from_dict(doc, "custom")


def test_custom_dimension_gets_its_own_sheet(tmp_path: Path) -> None:
    t = custom_template()
    cases = tmp_path / "cases"
    for n, (team, q1) in enumerate([("North", "yes"), ("North", "no"), ("South", "partly")]):
        write_json(cases / f"{n}.json", {"case": {"ref": f"A-{n}", "lacked": "No", "team": team, "types": ["Neglect"]},
                                         "answers": {"Q1": q1, "Q2": "yes", "Q3": "g", "Q4": "yes"}})
    doc = run_audit([cases], t, RunOptions()).to_dict()
    path = tmp_path / "aggregate.xlsx"
    write_aggregate_workbook(t, doc, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Steps", "Principles", "Themes cross cutting draft revi", "Summary (2)",
                             "Sections", "Criteria", "Cases", "Breakdowns", "Outcome measures", "Critical failures",
                             "Data quality", "Inputs"]
    theme = rows(wb["Themes cross cutting draft revi"])
    voice = doc["aggregate"]["dimensions"]["theme"]["voice"]
    assert theme[0][0] == "Themes: cross/cutting [draft] * review?"
    assert theme[2][:6] == ["voice", "Voice", None, voice["mean"], t.band_for(voice["mean"]), 3]
    assert len(charts_of(path, "Themes cross cutting draft revi")) == 1
    assert rows(wb["Summary (2)"])[2][0] == "x"
    # no judgement field in this template: no agreement table
    assert "Auditors' own judgement and the computed rating" not in [r[0] for r in rows(wb["Summary"])]
    # the Grade scale's options get their own columns
    header = rows(wb["Criteria"])[0]
    assert header[7:18] == ["Yes", "Partly", "No", "Not applicable", "Unable to determine",
                            "Excellent", "Good", "Adequate", "Poor", "Absent", "Does not apply"]
    q3 = next(r for r in rows(wb["Criteria"]) if r[0] == "Q3")
    assert q3[7:12] == [None] * 5 and q3[13] == 3  # Good x3 on the grade scale
    assert_no_formulas(path)


TRENDS = {
    "rounds": ["2026 Q1", "2026 Q2", "2026 Q3"],
    "rows": [
        {"kind": "overall", "id": "overall", "title": "Mean score", "values": [61.5, 64.25, 70.0], "change": [None, 2.75, 5.75]},
        {"kind": "step", "id": "7", "title": "Engage with and include people", "values": [50.0, None, 55.5], "change": [None, None, None]},
        {"kind": "step", "id": "9", "title": "Measure the difference", "values": [40.0, 45.0, 42.5], "change": [None, 5.0, -2.5]},
        {"kind": "principle", "id": "empowerment", "title": "Empowerment", "values": [70.0, 72.0, 75.0], "change": [None, 2.0, 3.0]},
        {"kind": "section", "id": "voice", "title": "Voice", "values": [60.0, 61.0, 62.0], "change": [None, 1.0, 1.0]},
        {"kind": "criterion", "id": "A1", "title": "=Asked about outcomes", "values": [0.5, 0.75, None], "change": [None, 0.25, None]},
    ],
}


def test_trends_sheet(board: tuple[Template, dict[str, Any], Path], tmp_path: Path) -> None:
    t, doc, _ = board
    path = tmp_path / "trends.xlsx"
    write_aggregate_workbook(t, doc, path, trends=TRENDS)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["Summary", "Trends"]
    data = rows(wb["Trends"])
    assert data[1] == ["Kind", "ID", "Title", "2026 Q1", "2026 Q2", "2026 Q3",
                       "Change 2026 Q1 to 2026 Q2", "Change 2026 Q2 to 2026 Q3"]
    kinds = ["Overall", "MSP essential steps", "MSP essential steps", "Safeguarding principles", "Section", "Criterion"]
    for r, item, kind in zip(data[2:8], TRENDS["rows"], kinds):
        assert r == [kind, item["id"], item["title"], *item["values"], *item["change"][1:]]
    ws = wb["Trends"]
    assert ws.cell(5, 8).number_format == "+0.0;-0.0;0.0" and fill(ws.cell(5, 8)) == RED  # -2.5
    charts = charts_of(path, "Trends")
    assert len(charts) == 2 and all("<c:lineChart>" in c for c in charts)
    assert charts[0].count("<c:ser>") == 3 and charts[1].count("<c:ser>") == 2  # overall + steps; overall + principle
    assert "Trends!$D$2:$F$2" in charts[0]
    assert_no_formulas(path)


def test_trends_hide_figures_on_few_cases_when_suppressing(board: tuple[Template, dict[str, Any], Path],
                                                          tmp_path: Path) -> None:
    t, doc, _ = board
    trends = {"rounds": ["Q1", "Q2", "Q3"], "rows": [
        {"kind": "overall", "id": "overall", "title": "Mean score", "values": [61.5, 64.25, 70.0],
         "change": [None, 2.75, 5.75], "cases": [12, 3, 20]},
    ]}
    path = tmp_path / "trends.xlsx"
    write_aggregate_workbook(t, doc, path, trends=trends, suppress_small=True)
    row = rows(openpyxl.load_workbook(path)["Trends"])[2]
    assert row[3:8] == [61.5, "*", 70.0, "*", "*"]
    write_aggregate_workbook(t, doc, path, trends=trends)
    assert rows(openpyxl.load_workbook(path)["Trends"])[2][3:8] == [61.5, 64.25, 70.0, 2.75, 5.75]


# --------------------------------------------------------------------------- the score command


@pytest.fixture()
def cli_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from audit_cli.templates import load_template

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    t = load_template("msp-core")
    yes = {c: "yes" for c in t.criteria if c != "B3"}
    folder = tmp_path / "cases"
    write_json(folder / "a.json", msp_case("C/1", "North", yes))
    write_json(folder / "b.json", msp_case("C/1", "South", yes))  # duplicate reference
    write_json(folder / "c.json", msp_case("../escape", "North", {**yes, "A1": "no"}))
    write_json(folder / "d.json", msp_case(".profile", "South", yes))
    return folder


def test_score_writes_aggregate_and_case_workbooks(cli_cases: Path) -> None:
    res = CliRunner().invoke(app, ["score", "cases", "-o", "out", "--isolated"])
    assert res.exit_code == 0, res.output
    out = Path("out")
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in doc["cases"]] == ["C/1", "C/1", "../escape", ".profile"]
    names = sorted(p.name for p in (out / "cases").iterdir())
    assert names == sorted(["C_1.xlsx", "C_1-2.xlsx", "_escape.xlsx", "profile.xlsx"])
    for name, case in zip(["C_1.xlsx", "C_1-2.xlsx", "_escape.xlsx", "profile.xlsx"], doc["cases"]):
        summary = openpyxl.load_workbook(out / "cases" / name)["Summary"]
        lv = label_values(summary)
        assert (lv["Case reference"], lv["Source file"]) == (case["id"], case["source"])
        assert lv["Score"] == case["score"]
    wb = openpyxl.load_workbook(out / "aggregate.xlsx")
    assert [r[0] for r in rows(wb["Cases"])[2:]] == [c["id"] for c in doc["cases"]]
    assert [r[3] for r in rows(wb["Cases"])[2:]] == [c["score"] for c in doc["cases"]]
    assert label_values(wb["Summary"])["Generated"] == doc["run"]["generated"]
    assert sorted(p.name for p in out.iterdir()) == [".msp-audit-output", "aggregate.xlsx", "cases", "results.json"]
    assert not list(Path(".").glob("escape*")) and not (cli_cases.parent / "escape.xlsx").exists()
    assert "aggregate.xlsx" in res.stderr and "4 case workbook(s)" in res.stderr
    for p in [out / "aggregate.xlsx", *(out / "cases").iterdir()]:
        text = all_text(p)
        if p.name == "aggregate.xlsx":
            assert "NOTES-SECRET" not in text and "Ophelia Xanthe" not in text
        assert "Zebedee Quonk" not in text


def test_score_no_per_case(cli_cases: Path) -> None:
    res = CliRunner().invoke(app, ["score", "cases", "-o", "out", "--isolated", "--no-per-case"])
    assert res.exit_code == 0, res.output
    assert (Path("out") / "aggregate.xlsx").is_file()
    assert not (Path("out") / "cases").exists()


def test_score_suppress_small_and_json_stdout(cli_cases: Path) -> None:
    res = CliRunner().invoke(app, ["score", "cases", "-o", "out", "--isolated", "--suppress-small", "-f", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # stdout holds the results document and nothing else
    assert doc["aggregate"]["cases"] == 4
    wb = openpyxl.load_workbook(Path("out") / "aggregate.xlsx")
    assert "Cases" not in wb.sheetnames
    assert label_values(wb["Summary"])["Cases"] == "*"
