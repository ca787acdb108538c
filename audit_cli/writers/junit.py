"""JUnit XML for CI servers: a run is a test suite, a case a test case.

CI systems (GitLab, Jenkins, Azure DevOps, GitHub test reporters) render JUnit
XML natively, so a scheduled audit shows which cases failed and why without
anyone opening the workbook. A case *fails* on a critical failure or a score
under ``--fail-under``; a rejected file is an *error*; a case that could not be
rated is *skipped*; each gate is a test case of its own, so a failed gate shows
beside the cases. Only ids, question texts and tool messages go in: never a
personal field or free text from a case file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..gates import failure_message, shown_value
from ..model import Template
from ..outputs import atomic_write
from . import utc_naive

# Characters XML 1.0 cannot hold at all, even escaped.
_ILLEGAL = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: Any) -> str:
    """Text safe for an XML 1.0 document (ElementTree escapes markup, not illegal characters)."""
    return _ILLEGAL.sub("", str(text))


def junit_timestamp(generated: str | None) -> str | None:
    """The JUnit schema's timestamp: ISO 8601 without a zone, in UTC."""
    when = utc_naive(generated)
    return None if when is None else when.isoformat(timespec="seconds")


def _sub(parent: ET.Element, tag: str, **attrs: Any) -> ET.Element:
    return ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items() if v is not None})


def case_failure(case: dict[str, Any], template: Template, fail_under: float | None) -> list[str]:
    """Why a case fails, one reason a line; empty when it passes."""
    reasons: list[str] = []
    if case["critical_failures"]:
        named = "; ".join(
            f"{cid} ({template.criteria[cid].text})" if cid in template.criteria else cid
            for cid in case["critical_failures"]
        )
        reasons.append(f"critical failure: {named}")
    score = case["score"]
    if fail_under is not None and score is not None and score < fail_under:
        shown = shown_value({"value": score, "op": ">=", "threshold": fail_under})
        reasons.append(f"score {shown} is below --fail-under {fail_under:g}")
    return reasons


def junit_tree(doc: dict[str, Any], template: Template, fail_under: float | None = None) -> ET.Element:
    """The ``<testsuites>`` element for one run."""
    tid = doc["template"]["id"]
    run = doc.get("run") or {}
    root = ET.Element("testsuites", {"name": "msp-audit"})
    suite = _sub(root, "testsuite", name=run.get("label") or tid, timestamp=junit_timestamp(run.get("generated")))
    props = _sub(suite, "properties")
    for name, value in (
        ("template", f"{tid} {doc['template']['version']}"),
        ("label", run.get("label")),
        ("fail_under", None if fail_under is None else f"{fail_under:g}"),
        ("mean_score", None if doc["aggregate"]["mean_score"] is None else f"{doc['aggregate']['mean_score']:.1f}"),
    ):
        if value is not None:
            _sub(props, "property", name=name, value=value)

    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in doc["cases"]:
        counts["tests"] += 1
        tc = _sub(suite, "testcase", name=case["id"], classname=tid, time="0")
        reasons = case_failure(case, template, fail_under)
        if reasons:
            counts["failures"] += 1
            failure = _sub(tc, "failure", message="; ".join(reasons), type="msp-audit")
            failure.text = clean("\n".join(reasons))
        elif case["score"] is None:
            counts["skipped"] += 1
            _sub(tc, "skipped", message="not rated: no criterion with a weight was scored")
        errors = [i for i in case["issues"] if i["severity"] == "error"]
        if errors:
            system_err = _sub(tc, "system-err")
            system_err.text = clean("\n".join(
                f"{case['source']}: {i['location'] + ': ' if i['location'] else ''}error: {i['message']}" for i in errors
            ))
    for rec in doc["inputs"]:
        if rec["status"] != "rejected":
            continue
        counts["tests"] += 1
        counts["errors"] += 1
        tc = _sub(suite, "testcase", name=rec["path"], classname=tid, time="0")
        _sub(tc, "error", message=rec["error"] or "rejected", type="rejected")
    for gate in doc.get("gates", []):
        counts["tests"] += 1
        tc = _sub(suite, "testcase", name=f"gate: {gate['gate']}", classname=f"{tid}.gates", time="0")
        if not gate["passed"]:
            counts["failures"] += 1
            _sub(tc, "failure", message=failure_message(gate), type="gate")

    for el in (suite, root):
        for k, v in counts.items():
            el.set(k, str(v))
        el.set("time", "0")
    # Attribute order readers expect: name first, then the counts.
    suite.attrib = {k: suite.attrib[k] for k in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp")
                    if k in suite.attrib}
    return root


def write_junit(doc: dict[str, Any], template: Template, path: Path, fail_under: float | None = None) -> Path:
    """Write the JUnit report atomically: a CI server never reads half a file."""
    root = junit_tree(doc, template, fail_under)
    ET.indent(root)
    tree = ET.ElementTree(root)
    atomic_write(path, lambda tmp: tree.write(tmp, encoding="utf-8", xml_declaration=True))
    return path
