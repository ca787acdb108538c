"""``msp-audit report``: agencies merged into a round, rounds into a trend, refusals, and Markdown output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.templates import load_template
from audit_cli.writers.table import render_markdown

from conftest import BASE_TEMPLATE, assert_valid_results, base_template_doc, write_json

runner = CliRunner()

#: Q1's answer -> the case score on the mini template (Q1 w3, Q2 w1, Q3 w2; Q2 yes, Q3 Excellent)
Q1_FOR = {100.0: "yes", 75.0: "partly", 50.0: "no"}


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def make_cases(folder: Path, prefix: str, scores: list[float]) -> Path:
    for n, score in enumerate(scores, 1):
        write_json(folder / f"{prefix}-{n}.json", {
            "case": {"ref": f"{prefix}-{n}", "lacked": "No", "team": prefix},
            "answers": {"Q1": Q1_FOR[score], "Q2": "yes", "Q3": "Excellent", "Q4": "yes"},
        })
    return folder


def score_run(folder: Path, out: str, label: str | None, template: Path = BASE_TEMPLATE) -> Path:
    args: list[Any] = ["score", folder, "-t", template, "-o", out, "--exit-zero", "-q"]
    if label is not None:
        args += ["--label", label]
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    return Path(out) / "results.json"


@pytest.fixture(autouse=True)
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    return tmp_path


def report_json(*args: Any) -> dict[str, Any]:
    res = invoke("report", *args, "-f", "json")
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


# --------------------------------------------------------------------------- one round, several agencies


def test_two_agencies_with_the_same_label_are_one_round(here: Path) -> None:
    north = score_run(make_cases(here / "north", "N", [100.0]), "north-out", "2026 Q1")
    south_cases = make_cases(here / "south", "S", [50.0, 50.0, 75.0])
    (south_cases / "broken.json").write_text("{oops", encoding="utf-8")
    south = score_run(south_cases, "south-out", "2026 Q1")

    doc = report_json(north, south, "-t", BASE_TEMPLATE)
    agg = doc["aggregate"]
    # The mean of all four cases (275 / 4), not the mean of the agencies' means ((100 + 58.33) / 2).
    assert agg["mean_score"] == 68.75
    assert (agg["cases"], agg["rated"]) == (4, 4)
    assert agg["ratings"] == {"Outstanding": 1, "Good": 1, "Requires improvement": 2, "Inadequate": 0, "Not rated": 0}
    assert agg["critical_failures"]["by_case"] == {"S-1": ["Q1"], "S-2": ["Q1"]}
    assert agg["criteria"]["Q1"]["attainment"] == 0.375  # (1 + 0 + 0 + 0.5) / 4
    assert agg["dimensions"]["step"]["1"] == {"mean": 53.125, "cases": 4, "bands": agg["dimensions"]["step"]["1"]["bands"]}
    assert agg["breakdowns"]["team"]["N"]["mean_score"] == 100.0
    assert agg["breakdowns"]["team"]["S"]["mean_score"] == 175.0 / 3
    assert [c["id"] for c in doc["cases"]] == ["N-1", "S-1", "S-2", "S-3"]
    assert [i["path"] for i in doc["inputs"]] == ["north/N-1.json", "south/S-1.json", "south/S-2.json",
                                                  "south/S-3.json", "south/broken.json"]
    assert doc["rejected"] == [{"path": "south/broken.json",
                                "error": "not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"}]
    assert doc["run"] == {"label": "2026 Q1", "generated": "2026-09-21T14:13:20+00:00",
                          "sources": ["north-out/results.json", "south-out/results.json"]}
    # Re-aggregated with the same code as score: identical to scoring both folders in one run.
    together = run_audit([here / "north", here / "south"], load_template(BASE_TEMPLATE), RunOptions()).to_dict()
    assert agg == together["aggregate"]
    assert doc["trends"]["rounds"] == ["2026 Q1"]
    assert doc["trends"]["rows"][0] == {"kind": "overall", "id": "mean", "title": "Overall mean score",
                                        "values": [68.75], "change": [None], "cases": [4]}
    assert_valid_results({k: v for k, v in doc.items() if k != "trends"})


def test_gates_of_the_runs_are_measured_again_on_the_round(here: Path) -> None:
    a = make_cases(here / "a", "A", [100.0])
    b = make_cases(here / "b", "B", [50.0])
    ra = here / "ra"
    assert invoke("score", a, "-t", BASE_TEMPLATE, "-o", ra, "--label", "R", "--gate", "mean >= 80").exit_code == 0
    rb = score_run(b, "rb", "R")
    doc = report_json(ra / "results.json", rb, "-t", BASE_TEMPLATE)
    assert [(g["gate"], g["value"], g["passed"]) for g in doc["gates"]] == [("mean >= 80", 75.0, False)]


def test_duplicate_case_ids_and_repeated_files_are_reported(here: Path) -> None:
    one = score_run(make_cases(here / "x", "D", [100.0]), "x-out", "R")
    two = score_run(make_cases(here / "y", "D", [50.0]), "y-out", "R")
    res = invoke("report", one, two, one, "-t", BASE_TEMPLATE, "-f", "json")
    assert res.exit_code == 0
    assert "warning: x-out/results.json is given more than once; it is read once" in res.stderr
    assert "warning: round R: case 'D-1' is in both x-out/results.json and y-out/results.json" in res.stderr
    assert json.loads(res.stdout)["aggregate"]["cases"] == 2


# --------------------------------------------------------------------------- rounds and trends


def test_three_rounds_trend_with_exact_changes(here: Path) -> None:
    r1 = score_run(make_cases(here / "r1", "A", [100.0, 50.0]), "r1-out", "2025 Q4")
    r2n = score_run(make_cases(here / "r2n", "B", [75.0]), "r2n-out", "2026 Q1")
    r3 = score_run(make_cases(here / "r3", "C", [100.0, 75.0]), "r3-out", "2026 Q2")
    r2s = score_run(make_cases(here / "r2s", "E", [50.0, 100.0]), "r2s-out", "2026 Q1")

    # Rounds in order of first appearance; the second 2026 Q1 run joins its round.
    doc = report_json(r1, r2n, r3, r2s, "-t", BASE_TEMPLATE)
    trends = doc["trends"]
    assert trends["rounds"] == ["2025 Q4", "2026 Q1", "2026 Q2"]
    rows = {(r["kind"], r["id"]): r for r in trends["rows"]}
    assert [(r["kind"], r["id"]) for r in trends["rows"]] == [
        ("overall", "mean"), ("step", "1"), ("step", "2"), ("step", "3"),
        ("principle", "empowerment"), ("principle", "protection"), ("theme", "voice"),
        ("section", "s1"), ("section", "s2"),
        ("criterion", "Q1"), ("criterion", "Q2"), ("criterion", "Q3"), ("criterion", "Q4"), ("criterion", "Q5"),
    ]
    # overall: (100+50)/2, (75+50+100)/3, (100+75)/2
    assert rows[("overall", "mean")]["values"] == [75.0, 75.0, 87.5]
    assert rows[("overall", "mean")]["change"] == [None, 0.0, 12.5]
    assert rows[("overall", "mean")]["cases"] == [2, 3, 2]
    # step 1 (Q1 w3, Q2 w1): 100 / 25 / 62.5 per case
    assert rows[("step", "1")]["values"] == [62.5, 62.5, 81.25]
    assert rows[("step", "1")]["change"] == [None, 0.0, 18.75]
    # theme voice = Q1 only: 100 / 0 / 50
    assert rows[("theme", "voice")]["values"] == [50.0, 50.0, 75.0]
    assert rows[("theme", "voice")]["change"] == [None, 0.0, 25.0]
    assert rows[("section", "s2")]["values"] == [100.0, 100.0, 100.0]
    # criteria as attainment percentages; Q5 never applies, so no value and no change
    assert rows[("criterion", "Q1")]["values"] == [50.0, 50.0, 75.0]
    assert rows[("criterion", "Q1")]["change"] == [None, 0.0, 25.0]
    assert rows[("criterion", "Q1")]["title"] == "Asked about outcomes?"
    assert rows[("criterion", "Q5")]["values"] == [None, None, None]
    assert rows[("criterion", "Q5")]["change"] == [None, None, None]
    # The document itself is the latest round.
    assert doc["run"]["label"] == "2026 Q2" and [c["id"] for c in doc["cases"]] == ["C-1", "C-2"]


def test_a_missing_value_breaks_the_change_only_where_it_is_missing(here: Path) -> None:
    r1 = score_run(make_cases(here / "r1", "A", [100.0]), "r1-out", "one")
    folder = here / "r2"
    write_json(folder / "x.json", {"case": {"ref": "X", "lacked": "No"},
                                   "answers": {"Q1": "yes", "Q2": "yes", "Q3": "Does not apply", "Q4": "yes"}})
    r2 = score_run(folder, "r2-out", "two")
    r3 = score_run(make_cases(here / "r3", "C", [50.0]), "r3-out", "three")
    rows = {(r["kind"], r["id"]): r for r in report_json(r1, r2, r3, "-t", BASE_TEMPLATE)["trends"]["rows"]}
    assert rows[("section", "s2")]["values"] == [100.0, None, 100.0]
    assert rows[("section", "s2")]["change"] == [None, None, None]
    assert rows[("overall", "mean")]["change"] == [None, 0.0, -50.0]


def test_unlabelled_runs_are_rounds_of_their_own(here: Path) -> None:
    a = score_run(make_cases(here / "a", "A", [100.0]), "a-out", None)
    b = score_run(make_cases(here / "b", "B", [50.0]), "b-out", None)
    doc = report_json(a, b, "-t", BASE_TEMPLATE)
    assert doc["trends"]["rounds"] == ["a-out/results.json", "b-out/results.json"]
    assert doc["trends"]["rows"][0]["change"] == [None, -50.0]


def test_board_workbook_gains_a_trends_sheet(here: Path) -> None:
    import openpyxl

    r1 = score_run(make_cases(here / "r1", "A", [100.0, 50.0]), "r1-out", "2025 Q4")
    r2 = score_run(make_cases(here / "r2", "B", [100.0, 75.0]), "r2-out", "2026 Q1")
    res = invoke("report", r1, r2, "-t", BASE_TEMPLATE, "-o", "board.xlsx")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook("board.xlsx")
    assert "Trends" in wb.sheetnames
    values = [[c for c in row] for row in wb["Trends"].iter_rows(values_only=True)]
    overall = next(r for r in values if r[1] == "mean")
    assert list(overall[3:6]) == [75.0, 87.5, 12.5]
    # One round: the same workbook without a Trends sheet.
    assert invoke("report", r2, "-t", BASE_TEMPLATE, "-o", "single.xlsx").exit_code == 0
    assert "Trends" not in openpyxl.load_workbook("single.xlsx").sheetnames


def test_terminal_summary_is_the_latest_round_with_the_trend(here: Path) -> None:
    r1 = score_run(make_cases(here / "r1", "A", [100.0, 50.0]), "r1-out", "2025 Q4")
    r2 = score_run(make_cases(here / "r2", "B", [100.0, 75.0]), "r2-out", "2026 Q1")
    res = invoke("report", r1, r2, "-t", BASE_TEMPLATE)
    assert res.exit_code == 0
    lines = [line.split() for line in res.stdout.splitlines()]
    assert ["Round", "2026", "Q1"] in lines
    assert ["Mean", "score", "87.5"] in lines
    assert ["Overall", "mean", "score", "75.0", "87.5", "+12.5"] in lines
    assert ["1", "One", "62.5", "81.2", "+18.8"] in lines
    assert "rounds: 2025 Q4 (1 run), 2026 Q1 (1 run)" in res.stderr
    assert "no --out or --docx given: nothing written" in res.stderr


# --------------------------------------------------------------------------- refusals


def other_template(here: Path, **changes: Any) -> Path:
    doc = base_template_doc()
    doc.update(changes.pop("top", {}))
    s2 = doc["sections"][1]["criteria"]
    if changes.get("swap_q5"):
        s2[-1] = {"id": "Q6", "text": "Recorded?", "scale": "ypn", "weight": 1}
    if changes.get("theme"):
        doc["dimensions"]["theme"]["items"] = [{"id": "choice", "title": "Choice"}]
        doc["sections"][0]["criteria"][0]["map"]["theme"] = ["choice"]
    return write_json(here / f"tpl-{doc['id']}-{doc['version']}.json", doc)


def test_different_templates_are_refused_with_the_differences(here: Path) -> None:
    a = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    tpl = other_template(here, top={"id": "mini2"}, swap_q5=True, theme=True)
    b = score_run(make_cases(here / "b", "B", [100.0]), "b-out", "R", template=tpl)
    res = invoke("report", a, b, "-t", BASE_TEMPLATE, "-o", "board.xlsx")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "msp-audit: runs of different templates cannot be combined: "
        "a-out/results.json uses template mini 1.0.0, b-out/results.json uses mini2 1.0.0; "
        "criteria only in a-out/results.json: Q5; criteria only in b-out/results.json: Q6; "
        "theme items only in a-out/results.json: voice; theme items only in b-out/results.json: choice"
    )
    assert not Path("board.xlsx").exists()


def test_versions_whose_criteria_differ_are_refused(here: Path) -> None:
    a = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    tpl = other_template(here, top={"version": "1.1.0"}, swap_q5=True)
    b = score_run(make_cases(here / "b", "B", [100.0]), "b-out", "S", template=tpl)
    res = invoke("report", a, b, "-t", tpl)
    assert res.exit_code == 2
    assert ("a-out/results.json uses mini 1.0.0, b-out/results.json uses mini 1.1.0, and their criteria differ; "
            "criteria only in a-out/results.json: Q5; criteria only in b-out/results.json: Q6") in res.stderr


def test_versions_with_the_same_criteria_are_combined(here: Path) -> None:
    a = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R1")
    tpl = other_template(here, top={"version": "1.0.1", "title": "Mini, reworded"})
    b = score_run(make_cases(here / "b", "B", [50.0]), "b-out", "R2", template=tpl)
    doc = report_json(a, b, "-t", tpl)
    assert doc["template"] == {"id": "mini", "version": "1.0.1", "title": "Mini, reworded"}
    assert doc["trends"]["rows"][0]["values"] == [100.0, 50.0]


def test_template_for_titles(here: Path) -> None:
    a = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    res = invoke("report", a)
    assert res.exit_code == 2
    assert "the runs use template 'mini', which is not bundled: name its file with -t FILE" in res.stderr
    res = invoke("report", a, "-t", other_template(here, top={"version": "2.0.0"}, swap_q5=True))
    assert res.exit_code == 2
    assert ("the template does not match the runs: criteria only in template mini 2.0.0: Q6; "
            "criteria only in a-out/results.json: Q5") in res.stderr
    res = invoke("report", a, "-t", "msp-core")
    assert res.exit_code == 2 and "-t msp-core: the template is 'msp-core' but the runs use 'mini'" in res.stderr


def test_bundled_template_is_used_when_its_version_matches(here: Path) -> None:
    folder = here / "core"
    write_json(folder / "c.json", {"case": {"case_ref": "C-1"}, "answers": {"A1": "yes", "A2": "no"}})
    run = score_run(folder, "core-out", "R", template=Path("msp-core"))
    doc = report_json(run)
    assert doc["template"]["id"] == "msp-core" and doc["aggregate"]["criteria"]["A1"]["attainment"] == 1.0
    old = json.loads(run.read_text(encoding="utf-8"))
    old["template"]["version"] = "0.9.0"
    write_json(here / "old.json", old)
    res = invoke("report", here / "old.json")
    assert res.exit_code == 2
    assert ("the runs use msp-core 0.9.0 but the bundled msp-core is 1.0.0: "
            "name the template file they were scored with, -t FILE") in res.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "bad.json: not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
        ('{"cases": []}', "bad.json: not an msp-audit results.json (no schema_version and aggregate)"),
        ("[1, 2]", "bad.json: not an msp-audit results.json (no schema_version and aggregate)"),
        (b"\xff\xfe{", "bad.json: not UTF-8 text, so not a results.json"),
    ],
)
def test_a_file_that_is_not_a_results_json_exits_2_naming_it(here: Path, content: str | bytes, message: str) -> None:
    good = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    bad = here / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    res = invoke("report", good, bad, "-t", BASE_TEMPLATE, "-o", "board.xlsx", "--docx", "board.docx")
    assert res.exit_code == 2
    assert res.stderr.strip() == f"msp-audit: {message}"
    assert not Path("board.xlsx").exists() and not Path("board.docx").exists()


def test_a_damaged_results_json_and_a_missing_one(here: Path) -> None:
    good = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    doc = json.loads(good.read_text(encoding="utf-8"))
    doc["cases"][0]["score"] = "high"
    write_json(here / "damaged.json", doc)
    res = invoke("report", here / "damaged.json", "-t", BASE_TEMPLATE)
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "msp-audit: damaged.json: not a valid msp-audit results.json: cases/0/score: 'high' is not a score from 0 to 100 or null"
    )
    res = invoke("report", "missing/results.json", "-t", BASE_TEMPLATE)
    assert res.exit_code == 2
    assert "missing/results.json: cannot read: No such file or directory" in res.stderr
    doc["schema_version"] = 7
    write_json(here / "future.json", doc)
    res = invoke("report", here / "future.json", "-t", BASE_TEMPLATE)
    assert res.exit_code == 2 and "future.json: results schema_version 7 is not 1" in res.stderr


def test_usage_errors(here: Path) -> None:
    good = score_run(make_cases(here / "a", "A", [100.0]), "a-out", "R")
    res = invoke("report", good, "-t", BASE_TEMPLATE, "-f", "xml")
    assert res.exit_code == 2 and "--format 'xml': choose table, json or markdown" in res.stderr
    Path("adir").mkdir()
    res = invoke("report", good, "-t", BASE_TEMPLATE, "-o", "adir")
    assert res.exit_code == 2 and "--out adir is a folder; name the file to write" in res.stderr


# --------------------------------------------------------------------------- Markdown


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row, split on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def test_score_markdown_is_headings_and_tables(here: Path) -> None:
    folder = make_cases(here / "c", "A", [100.0, 75.0])
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "-f", "markdown", "--label", "Q1 | North",
                 "--gate", "mean >= 90")
    assert res.exit_code == 1
    md = res.stdout
    assert md.startswith("## msp-audit: Scoring test template (Q1 \\| North)\n\n### Summary\n\n")
    lines = md.splitlines()
    assert [line for line in lines if line.startswith("### ")] == [
        "### Summary", "### Ratings", "### Steps", "### Principles", "### Themes", "### Gates"
    ]
    assert lines[lines.index("### Summary") + 2].replace(" ", "") == "|Measure|Value|"
    assert lines[lines.index("### Summary") + 3].startswith("|--")
    assert "| Round" in md and "Q1 \\| North" in md
    row = next(line for line in lines if line.startswith("| Mean score"))
    assert cells(row) == ["Mean score", "87.5"]
    gate = next(line for line in lines if line.startswith("| mean >= 90"))
    assert cells(gate) == ["mean >= 90", "87.5", "FAIL"]
    step = next(line for line in lines if line.startswith("| 1 "))
    assert cells(step) == ["1", "One", "81.2", "2"]
    # Every table row has the same number of cells as its header.
    for block in md.split("### ")[1:]:
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({line.replace("\\|", "").count("|") for line in rows}) == 1, block


def test_report_markdown_has_the_trend(here: Path) -> None:
    r1 = score_run(make_cases(here / "r1", "A", [100.0, 50.0]), "r1-out", "2025 Q4")
    r2 = score_run(make_cases(here / "r2", "B", [100.0, 75.0]), "r2-out", "2026 Q1")
    res = invoke("report", r1, r2, "-t", BASE_TEMPLATE, "-f", "markdown")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert lines[0] == "## msp-audit: Scoring test template (2026 Q1)"
    head = lines[lines.index("### Trend") + 2]
    assert cells(head) == ["", "Measure", "2025 Q4", "2026 Q1", "Change"]
    overall = next(line for line in lines if "Overall mean score" in line)
    assert cells(overall) == ["", "Overall mean score", "75.0", "87.5", "+12.5"]


def test_markdown_renderer_escapes_cells(mini_doc: dict[str, Any]) -> None:
    from audit_cli.templates import template_from_dict

    mini_doc["dimensions"]["step"]["items"][0]["title"] = "One | two\nthree"
    tpl = template_from_dict(mini_doc)
    doc = run_audit([], tpl, RunOptions()).to_dict()
    md = render_markdown(doc, tpl.all_dimensions())
    row = next(line for line in md.splitlines() if line.startswith("| 1 "))
    assert cells(row) == ["1", "One \\| two three", "–", "0"]
