"""A corpus of broken and hostile case files, generated in code (nothing binary is committed).

Each entry is a file name, its bytes and the exact one-line reason msp-audit must
reject it with (or None for a file that must be read). The Office files start from
forms made the way a council makes them by hand (merged title rows, extra columns,
section rows inside the answer table, checkbox answers) and are then broken.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

MB = 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    reason: str | None  # the exact rejection reason; None: read (perhaps with warnings)
    about: str


# --------------------------------------------------------------------------- honest bases


def council_xlsx() -> bytes:
    """An Excel audit form as a council builds it: title rows, merged cells, a field block,
    an answer table with an extra column and a section row inside it."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "Northshire Safeguarding Adults Board — MSP case file audit"
    ws.merge_cells("A1:F1")
    ws["A2"] = "OFFICIAL-SENSITIVE"
    ws.merge_cells("A2:F2")
    for row, (label, value) in enumerate([("Case reference:", "NS-0042"), ("Team", "North"),
                                          ("Adult's name", "Ada Example"), ("Date of concern", "03/02/2026")], 4):
        ws.cell(row, 1, label)
        ws.cell(row, 3, value)
    ws.append([])
    ws.append(["Ref", "Question", "Answer", "Evidence", "Comments", "Reviewer initials"])
    ws.append(["Voice, wishes and outcomes"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
    ws.append(["A1", "Was the adult asked what outcomes they wanted?", "Yes", "Recorded at first visit", "", "JB"])
    ws.append(["A2", "Was the adult seen and spoken with directly?", "Partly", "", "Seen with carer", "JB"])
    wb.properties.creator = "Northshire Council"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def council_docx() -> bytes:
    """A Word audit form: a heading, a label | value table and an answer table with checkboxes."""
    from docx import Document

    doc = Document()
    doc.add_heading("MSP case file audit", level=1)
    fields = doc.add_table(rows=3, cols=2)
    for row, (label, value) in zip(fields.rows, [("Case reference", "NS-0043"), ("Team", "South"),
                                                  ("Adult's name", "Bea Example")]):
        row.cells[0].text, row.cells[1].text = label, value
    answers = doc.add_table(rows=3, cols=4)
    for row, values in zip(answers.rows, [("ID", "Question", "Answer", "Evidence"),
                                          ("A1", "Was the adult asked what outcomes they wanted?",
                                           "☒ Yes ☐ Partly ☐ No", "Outcomes recorded"),
                                          ("A2", "Was the adult seen?", "☐ Yes ☒ Partly ☐ No", "")]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    doc.add_heading("Case notes", level=2)
    doc.add_paragraph("Seen at home on 4 February.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def good_json_case(ref: str, **answers: str) -> dict[str, Any]:
    return {
        "template": "msp-core",
        "case": {"case_ref": ref, "team": "North", "adult_name": "Secret Person", "concern_date": "2026-01-05"},
        "answers": {"A1": "yes", "A2": "partly", "B1": "no", **answers},
    }


# --------------------------------------------------------------------------- zip surgery


def members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: list[tuple[str, bytes]] | None = None,
          method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The same package with some parts replaced and others added."""
    replace = replace or {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as out:
        for info, content in members(data):
            out.writestr(info.filename, replace.get(info.filename, content))
        for name, content in add or []:
            out.writestr(name, content)
    return buf.getvalue()


def central_entries(data: bytes) -> dict[str, int]:
    """Offsets of each central-directory entry, by part name."""
    out: dict[str, int] = {}
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        out[data[pos + 46: pos + 46 + n].decode("utf-8")] = pos
        pos = data.find(b"PK\x01\x02", pos + 46 + n + m + k)
    return out


def local_offset(data: bytes, name: str) -> int:
    (offset,) = struct.unpack_from("<L", data, central_entries(data)[name] + 42)
    return offset


def patch(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


def lie_about_size(data: bytes, name: str, size: int) -> bytes:
    """The central directory claims another uncompressed size than the local header."""
    return patch(data, central_entries(data)[name] + 24, "<L", size)


def set_encrypted_flag(data: bytes, name: str) -> bytes:
    cd = central_entries(data)[name]
    (flags,) = struct.unpack_from("<H", data, cd + 8)
    data = patch(data, cd + 8, "<H", flags | 1)
    lo = local_offset(data, name)
    return patch(data, lo + 6, "<H", flags | 1)


def garble(data: bytes, name: str) -> bytes:
    """Overwrite a part's compressed bytes with a reserved deflate block type."""
    lo = local_offset(data, name)
    n, m = struct.unpack_from("<HH", data, lo + 26)
    (csize,) = struct.unpack_from("<L", data, central_entries(data)[name] + 20)
    start = lo + 30 + n + m
    return data[:start] + b"\xff" * csize + data[start + csize:]


def smash_local_header(data: bytes, name: str) -> bytes:
    lo = local_offset(data, name)
    return data[:lo] + b"\x00" * 30 + data[lo + 30:]


def ratio_of(data: bytes, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    return info.file_size // info.compress_size


def patch_crc(data: bytes, name: str) -> bytes:
    """A wrong CRC in the central directory: the data inflates fine, the check at its end fails."""
    cd = central_entries(data)[name]
    (crc,) = struct.unpack_from("<L", data, cd + 16)
    return patch(data, cd + 16, "<L", crc ^ 0xFFFFFFFF)


def consistent_liar() -> bytes:
    """Both headers agree that the worksheet is 3,000 bytes, but its data inflates to 30 MB:
    the size checks cannot see it, so the reader must stop at the declared size (zipfile does,
    then fails the CRC check) rather than inflate it all."""
    body = sheet_with("", "x").replace(b"</worksheet>", b" " * (30 * MB) + b"</worksheet>")
    data = rezip(council_xlsx(), {SHEET: body})
    data = patch(data, central_entries(data)[SHEET] + 24, "<L", 3000)
    return patch(data, local_offset(data, SHEET) + 22, "<L", 3000)


# --------------------------------------------------------------------------- OLE compound files


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A compound file (CFB v3, 512-byte sectors) holding the given streams, each padded to
    4 KB so it lives in regular sectors: what Excel writes for an encrypted workbook
    (EncryptionInfo + EncryptedPackage) and what a legacy .xls/.doc is."""
    endchain, freesect, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    bodies = [streams[n].ljust(4096, b"\x00") for n in names]
    fat = [fatsect, endchain]  # sector 0: the FAT; sector 1: the directory
    starts = []
    for body in bodies:
        count = len(body) // 512
        first = len(fat)
        starts.append(first)
        fat.extend(first + i + 1 for i in range(count - 1))
        fat.append(endchain)
    fat.extend([freesect] * (128 - len(fat)))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<LLLLLLLLL", header, 40, 0, 1, 1, 0, 0x1000, endchain, 0, endchain, 0)
    struct.pack_into("<109L", header, 76, 0, *([freesect] * 108))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        e = bytearray(128)
        raw = name.encode("utf-16-le")
        e[0:len(raw)] = raw
        struct.pack_into("<HBBLLL", e, 64, len(raw) + 2, kind, 1, freesect, right, child)
        struct.pack_into("<LQ", e, 116, start, size)
        return bytes(e)

    directory = entry("Root Entry", 5, 1, freesect, endchain, 0)
    for i, (name, body) in enumerate(zip(names, bodies)):
        right = i + 2 if i + 1 < len(names) else freesect
        directory += entry(name, 2, freesect, right, starts[i], len(streams[name]))
    directory = directory.ljust(512, b"\x00")
    return bytes(header) + struct.pack("<128L", *fat) + directory + b"".join(bodies)


# --------------------------------------------------------------------------- XML payloads

BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_with(prolog: str, text: str, encoding: str = "utf-8") -> bytes:
    decl = f'<?xml version="1.0" encoding="{encoding.upper()}" standalone="yes"?>'
    body = (f'<worksheet xmlns="{SHEET_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{text}</t></is>'
            "</c></row></sheetData></worksheet>")
    return (decl + prolog + body).encode(encoding)


def shared_strings_with(prolog: str, text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
            f'<sst xmlns="{SHEET_NS}" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>').encode()


def with_shared_strings(xlsx: bytes, sst: bytes) -> bytes:
    """The package with a sharedStrings part wired in, as Excel itself writes (openpyxl
    writes inline strings): the content type, the workbook relationship and the part."""
    parts = dict((i.filename, c) for i, c in members(xlsx))
    types = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return rezip(xlsx, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels}, add=[(SST, sst)])


def document_with(docx: bytes, prolog: str, text: str) -> bytes:
    xml = dict((i.filename, c) for i, c in members(docx))["word/document.xml"]
    xml = xml.replace(b"?>", b"?>" + prolog.encode(), 1)
    return xml.replace(b"<w:t>Seen at home on 4 February.</w:t>", f"<w:t>{text}</w:t>".encode(), 1)


# --------------------------------------------------------------------------- the corpus

SHEET = "xl/worksheets/sheet1.xml"
SST = "xl/sharedStrings.xml"
DOC = "word/document.xml"
BOMB = "xl/embeddings/oleObject1.bin"
BROKEN_XLSX = "not a valid .xlsx file (zip archive is truncated or damaged)"
BROKEN_DOCX = "not a valid .docx file (zip archive is truncated or damaged)"


def doctype_reason(part: str) -> str:
    return (f"part {part} declares a DOCTYPE (XML entities, as in billion-laughs and external-entity attacks); "
            "the file is not read")


@lru_cache(maxsize=1)
def build() -> tuple[Hostile, ...]:
    """Every hostile file, with the exact reason it must be rejected for (built once per process)."""
    xlsx, docx = council_xlsx(), council_docx()
    bomb = rezip(xlsx, add=[(BOMB, b"\x00" * (4 * MB))])
    crowd = rezip(xlsx, add=[(f"xl/media/pad{i}.bin", b"x") for i in range(2000)], method=zipfile.ZIP_STORED)
    long_comment = "<!--" + "padding " * 800 + "-->"
    return (
        Hostile("truncated.xlsx", xlsx[: len(xlsx) // 2], BROKEN_XLSX, "an Excel form cut in half"),
        Hostile("truncated.docx", docx[: len(docx) // 2], BROKEN_DOCX, "a Word form cut in half"),
        Hostile("empty.json", b"", "the file is empty (0 bytes)", "empty JSON"),
        Hostile("empty.xlsx", b"", "the file is empty (0 bytes)", "empty workbook"),
        Hostile("empty.docx", b"", "the file is empty (0 bytes)", "empty document"),
        Hostile("register.xlsx", b"Case reference,Team,A1\r\nNS-1,North,Yes\r\nNS-2,South,No\r\n",
                "not an Excel workbook (looks like a CSV file): open it and save as .xlsx", "a CSV saved as .xlsx"),
        Hostile("scan.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
                "not an Excel workbook (looks like a PDF file)", "a PDF saved as .xlsx"),
        Hostile("notes.xlsx", "Audit notes for NS-3\nSeen at home.\n".encode(),
                "not an Excel workbook (looks like a text file)", "plain text as .xlsx"),
        Hostile("report.docx", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Arial;}} Audit}",
                "not a Word document (looks like an RTF document): open it and save as .docx", "RTF as .docx"),
        Hostile("word-form.xlsx", docx, "this is a Word document, not an Excel workbook", "a .docx named .xlsx"),
        Hostile("excel-form.docx", xlsx, "this is an Excel workbook, not a Word document", "an .xlsx named .docx"),
        Hostile("locked.xlsx", ole_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64}),
                "password-protected (encrypted) Office file: open it, then save it without a password as .xlsx",
                "a password-protected workbook"),
        Hostile("locked.docx", ole_file({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\x00" * 64}),
                "password-protected (encrypted) Office file: open it, then save it without a password as .docx",
                "a password-protected document"),
        Hostile("old.xlsx", ole_file({"Workbook": b"\x09\x08\x10\x00"}),
                "a legacy Excel 97-2003 (.xls) workbook named .xlsx: open it in Excel and save as .xlsx",
                "a legacy .xls renamed .xlsx"),
        Hostile("old.docx", ole_file({"WordDocument": b"\xec\xa5\xc1\x00"}),
                "a legacy Word 97-2003 (.doc) document named .docx: open it in Word and save as .docx",
                "a legacy .doc renamed .docx"),
        Hostile("bomb.xlsx", bomb,
                f"part {BOMB} is compressed {ratio_of(bomb, BOMB):,}:1, "
                "far beyond any real form (a zip bomb?)", "4 MB of zeros compressed about 1000:1"),
        Hostile("lying.xlsx", lie_about_size(xlsx, SHEET, 100),
                f"part {SHEET}: the zip's local header and central directory disagree about its size "
                "(a damaged or tampered file)", "central directory lies about a part's size"),
        Hostile("crowded.xlsx", crowd, "zip archive holds more than 2,000 parts; no audit form has that many",
                "2,000 extra parts"),
        Hostile("encrypted-part.xlsx", set_encrypted_flag(xlsx, SHEET),
                f"part {SHEET} is encrypted: open the file and save it without a password as .xlsx",
                "zip encryption flag on the worksheet"),
        Hostile("garbled.xlsx", garble(xlsx, SHEET),
                f"part {SHEET} is damaged (its compressed data cannot be read)", "worksheet data overwritten"),
        Hostile("hollow.xlsx", smash_local_header(xlsx, SHEET),
                f"not a valid .xlsx file (zip archive is truncated or damaged at part {SHEET})",
                "a local header zeroed"),
        Hostile("laughs-sheet.xlsx", rezip(xlsx, {SHEET: sheet_with(BILLION_LAUGHS, "&lol9;")}),
                doctype_reason(SHEET), "billion laughs in a worksheet"),
        Hostile("xxe-sheet.xlsx", rezip(xlsx, {SHEET: sheet_with(XXE, "&xxe;")}),
                doctype_reason(SHEET), "external entity in a worksheet"),
        Hostile("laughs-strings.xlsx", with_shared_strings(xlsx, shared_strings_with(BILLION_LAUGHS, "&lol9;")),
                doctype_reason(SST), "billion laughs in sharedStrings"),
        Hostile("xxe-strings.xlsx", with_shared_strings(xlsx, shared_strings_with(XXE, "&xxe;")),
                doctype_reason(SST), "external entity in sharedStrings"),
        Hostile("laughs-doc.docx", rezip(docx, {DOC: document_with(docx, BILLION_LAUGHS, "&lol9;")}),
                doctype_reason(DOC), "billion laughs in word/document.xml"),
        Hostile("xxe-doc.docx", rezip(docx, {DOC: document_with(docx, XXE, "&xxe;")}),
                doctype_reason(DOC), "external entity in word/document.xml"),
        Hostile("hidden-doctype.xlsx", rezip(xlsx, {SHEET: sheet_with(long_comment + XXE, "&xxe;")}),
                doctype_reason(SHEET), "a DOCTYPE after a 6 KB comment, past the first 4 KB"),
        Hostile("utf16-doctype.xlsx", rezip(xlsx, {SHEET: sheet_with(XXE, "&xxe;", "utf-16")}),
                doctype_reason(SHEET), "a DOCTYPE in a UTF-16 worksheet"),
        Hostile("bad-crc.xlsx", patch_crc(xlsx, SHEET),
                f"part {SHEET} is damaged (its data does not match its checksum)", "a worksheet whose CRC is wrong"),
        Hostile("bad-crc.docx", patch_crc(docx, DOC),
                f"part {DOC} is damaged (its data does not match its checksum)", "a document whose CRC is wrong"),
        Hostile("liar.xlsx", consistent_liar(),
                f"part {SHEET} unpacks to more than the 3,000 bytes its headers state (a damaged or tampered file)",
                "both headers say 3 KB; the data inflates to 30 MB"),
        Hostile("zip.json", xlsx,
                "not a JSON file (looks like a zip archive, such as an Excel workbook or Word document)",
                "a workbook named .json"),
        Hostile("deep.json", b"[" * 200_000, "JSON is nested 200,000 levels deep; the limit is 64", "200,000 ["),
        Hostile("deep-valid.json", b'{"cases": ' + b"[" * 100 + b"]" * 100 + b"}",
                "JSON is nested 101 levels deep; the limit is 64", "valid JSON nested 101 deep"),
        Hostile("many-objects.json", b"[" + b",".join([b"{}"] * 1_000_001) + b"]",
                "JSON holds 1,000,002 objects and arrays, more than the 1,000,000 a case file may have",
                "a million empty objects (each ~200 bytes once parsed)"),
        Hostile("huge-string.json",
                json.dumps({"case": {"case_ref": "H-1"}, "answers": {"A1": {"answer": "yes",
                                                                            "evidence": "x" * 1_000_001}}}).encode(),
                "answers.A1.evidence: text of 1,000,001 characters, over the 1,000,000 a value may hold",
                "a 1 MB evidence string"),
        Hostile("latin1.json", json.dumps(good_json_case("L-1", A3="café"), ensure_ascii=False).encode("latin-1"),
                "not UTF-8 text: byte 0xE9 at line 1, column "
                f"{json.dumps(good_json_case('L-1', A3='café'), ensure_ascii=False).index('é') + 1} "
                "(saved as Latin-1 or Windows-1252?); save it as UTF-8", "Latin-1 JSON"),
        Hostile("utf16.json", json.dumps(good_json_case("U-1")).encode("utf-16"),
                "JSON file is encoded as UTF-16 (little-endian); save it as UTF-8", "UTF-16 with a BOM"),
        Hostile("nan.json", b'{"case": {"case_ref": "N-1", "concern_date": NaN}, "answers": {"A1": "yes"}}',
                "NaN is not a JSON value; write a number or leave it empty (null)", "a NaN literal"),
        Hostile("giant-int.json", b'{"case": {"case_ref": "G-1"}, "answers": {"A1": ' + b"7" * 5000 + b"}}",
                "a number with 5,000 digits is too large (the limit is 4,300 digits)", "a 5,000-digit integer"),
        Hostile("overflow.json", b'{"case": {"case_ref": "O-1"}, "answers": {"A1": 1e400}}',
                "a number too large to hold (1e400) overflows", "a float that overflows to inf"),
        Hostile("array.json", json.dumps([good_json_case("T-1")]).encode(),
                'the top level is a list, not an object with "case"/"answers" or "cases"', "a top-level array"),
        Hostile("escaped-quotes.json", b'"' + b'\\"' * 1_000_000,
                "not valid JSON at line 1, column 1: Unterminated string starting at",
                "a million escaped quotes in an unterminated string (quadratic for a naive scan)"),
        Hostile("broken.json", b'{"case": {"case_ref": "B-1"}, "answers": {"A1": "yes",}}',
                "not valid JSON at line 1, column 55: Expecting property name enclosed in double quotes",
                "a trailing comma"),
        # read, not rejected
        Hostile("bom.json", b"\xef\xbb\xbf" + json.dumps(good_json_case("BOM-1")).encode(), None, "UTF-8 with a BOM"),
        Hostile("dup-keys.json",
                b'{"case": {"case_ref": "D-1", "team": "North", "team": "South"}, '
                b'"answers": {"A1": "no", "A1": "yes"}}', None, "duplicate keys"),
        Hostile("odd-ids.json", json.dumps({"cases": [
            good_json_case("../../etc/passwd"), good_json_case("CON"), good_json_case("/abs"),
            good_json_case("C:\\x"), good_json_case("x" * 600), good_json_case("nul.xlsx"),
        ]}).encode(), None, "traversal and reserved-name case ids"),
        Hostile("control-chars.json", json.dumps({
            "case": {"case_ref": "CC-1\u0000\u0007", "team": "North\ud800\u000b", "agency": "Police\udfff\u001b[31m",
                     "\ud800odd\u0001": "value"},
            "answers": {"A1": {"answer": "yes", "evidence": "lone \ud800 surrogate\u0000", "comment": "ok\u001f"}},
            "notes": "bell \u0007 and \ud83d",
        }).encode(), None, "control characters and lone surrogates in every text position"),
    )


GOOD: dict[str, dict[str, Any]] = {
    "good-1.json": good_json_case("GOOD-1"),
    "good-2.json": good_json_case("GOOD-2", A3="no"),
    "good-3.json": good_json_case("GOOD-3", A3="Not applicable"),
}


def write(folder: Any) -> dict[str, Hostile]:
    """Write the corpus and the good files into ``folder`` (a Path); returns the corpus by name."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = {h.name: h for h in build()}
    for h in corpus.values():
        (folder / h.name).write_bytes(h.data)
    for name, doc in GOOD.items():
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
    return corpus


# --------------------------------------------------------------------------- past the checks: the readers

def council_xlsx_with(edit: Callable[[Any], None]) -> bytes:
    """The council form with an edit to its worksheet."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(council_xlsx()))
    edit(wb.active)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def mark_form_xlsx() -> bytes:
    """A one-column-per-option form (the row is marked under Yes/Partly/No/N/A), with two marks in row A2."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "Case file audit"
    ws.merge_cells("A1:G1")
    ws.append(["Case reference", "NS-0050"])
    ws.append([])
    ws.append(["No.", "Question", "Yes", "Partly", "No", "N/A", "Evidence"])
    ws.append(["Voice, wishes and outcomes"])
    ws.append(["A1", "Asked about outcomes?", "x", None, None, None, "seen"])
    ws.append(["A2", "Seen and spoken with?", "✓", None, "✓", None, None])
    ws.append(["A3", "Views recorded?", None, "X", None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def nested_tables_docx(depth: int) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Case reference: NS-0060")
    cell = doc.add_table(rows=1, cols=1).cell(0, 0)
    for level in range(depth):
        cell.paragraphs[0].text = f"level {level}"
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def reader_level() -> list[Hostile]:
    """Files that pass the pre-checks and test the Excel and Word readers themselves; ``reason``
    is None for a file whose case must still be read, else the start of its rejection."""
    return [
        Hostile("far-cell.xlsx", council_xlsx_with(lambda ws: ws.cell(1048576, 16384, "end")), None,
                "a cell at XFD1048576: a sheet whose size is the whole grid"),
        Hostile("sst-count.xlsx", with_shared_strings(council_xlsx(), shared_strings_with("", "plain").replace(
            b'count="1" uniqueCount="1"', b'count="2000000000" uniqueCount="2000000000"')), None,
                "sharedStrings claiming two billion strings"),
        Hostile("nested.docx", nested_tables_docx(60), None, "tables nested 60 deep"),
        Hostile("marks.xlsx", mark_form_xlsx(), None, "two marks in one row"),
    ]
