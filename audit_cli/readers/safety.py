"""Checks on a file's bytes before any reader parses them.

A reader library trusts its input; these checks do not. They look at the first
bytes and, for Office files, at the zip's central directory, so a hostile file
(zip bomb, billion laughs, external entities, a lying header, a file that is not
what its suffix says) is refused with one line an auditor can act on. Sizes,
ratios and counts are judged from the directory before anything is inflated.
Then the first few KB of every part are inflated to read its XML prolog (a DOCTYPE
anywhere refuses the file). A part is inflated whole only when its reader asks for
it, once, and is then proved to be no bigger than it claims and to match its
checksum before the reader sees it; the rest of a part no reader needs (a Word
document's 800 KB of style definitions, say) is never inflated.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Iterator, Mapping

from ..errors import ReadError

#: zip limits: no real audit form comes near them, and they bound what a reader can inflate
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed : compressed, for a part over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
XML_HEAD = 4096  # the prolog of every real Office part ends well inside this
XML_PROLOG_LIMIT = 64 * 1024  # a prolog longer than this (comments, PIs) is refused

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_MAGIC = b"%PDF"

_OFFICE = {".xlsx": "excel", ".xlsm": "excel", ".docx": "word"}
_WHAT = {"excel": "an Excel workbook", "word": "a Word document"}
_SAVE_AS = {"excel": ".xlsx", "word": ".docx"}

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_ENCRYPTED = 0x01
_DATA_DESCRIPTOR = 0x08
_STRONG_ENCRYPTION = 0x40
_XML_NAME = re.compile(r"\.(xml|rels|vml)$", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check(data: bytes, suffix: str) -> "CheckedZip | None":
    """Refuse bytes no reader should be given; raises ``ReadError`` with one line.

    For an Office file, returns its parts (``CheckedZip``), each checked as the reader
    first asks for it."""
    if not data:
        raise ReadError("the file is empty (0 bytes)")
    suffix = suffix.lower()
    kind = _OFFICE.get(suffix)
    if kind is not None:
        return _check_office(data, suffix, kind)
    if suffix == ".json":
        _check_json_magic(data)
    return None


# --------------------------------------------------------------------------- what the bytes are


def _check_json_magic(data: bytes) -> None:
    """A workbook, document or PDF saved as .json: say what it is rather than "invalid JSON"."""
    head = data[:8]
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        raise ReadError("not a JSON file (looks like a zip archive, such as an Excel workbook or Word document)")
    if head.startswith(OLE_MAGIC):
        raise ReadError("not a JSON file (looks like an Office 97-2003 or password-protected Office file)")
    if head.startswith(PDF_MAGIC):
        raise ReadError("not a JSON file (looks like a PDF file)")


def _check_office(data: bytes, suffix: str, kind: str) -> "CheckedZip":
    if data.startswith(OLE_MAGIC):
        raise ReadError(_ole_message(data, suffix, kind))
    if not data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        raise ReadError(_not_zip_message(data, suffix, kind))
    return _check_zip(data, suffix, kind)


def _ole_streams(data: bytes) -> set[str]:
    """Which well-known streams an OLE compound file holds.

    Directory entries are 128-byte records at 128-byte boundaries with the name in
    UTF-16LE and its byte length (terminator included) at offset 64; checking both
    keeps a cell that happens to hold the same text from being taken for a stream.
    """
    found: set[str] = set()
    for stream in ("EncryptedPackage", "EncryptionInfo", "Workbook", "Book", "WordDocument", "PowerPoint Document"):
        needle = stream.encode("utf-16-le")
        start = 512
        for _ in range(1000):  # a real directory entry comes long before this; bounds a hostile file
            pos = data.find(needle, start)
            if pos < 0:
                break
            start = pos + 1
            if pos % 128 == 0 and len(data) >= pos + 66:
                (length,) = struct.unpack_from("<H", data, pos + 64)
                if length == len(needle) + 2:
                    found.add(stream)
                    break
    return found


def _ole_message(data: bytes, suffix: str, kind: str) -> str:
    streams = _ole_streams(data)
    save = _SAVE_AS[kind]
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return f"password-protected (encrypted) Office file: open it, then save it without a password as {save}"
    if "Workbook" in streams or "Book" in streams:
        if kind == "excel":
            return f"a legacy Excel 97-2003 (.xls) workbook named {suffix}: open it in Excel and save as .xlsx"
        return "this is a legacy Excel 97-2003 (.xls) workbook, not a Word document: open it in Excel and save as .xlsx"
    if "WordDocument" in streams:
        if kind == "word":
            return f"a legacy Word 97-2003 (.doc) document named {suffix}: open it in Word and save as .docx"
        return "this is a legacy Word 97-2003 (.doc) document, not an Excel workbook: open it in Word and save as .docx"
    if "PowerPoint Document" in streams:
        return f"this is a PowerPoint presentation, not {_WHAT[kind]}"
    return (f"not {_WHAT[kind]}: an OLE compound file (a password-protected Office file or a legacy "
            f".xls/.doc); open it and save it without a password as {save}")


def _not_zip_message(data: bytes, suffix: str, kind: str) -> str:
    what = _WHAT[kind]
    looks = _looks_like(data[:4096])
    if looks is None:
        return f"not a valid {suffix} file (not a zip archive)"
    fixable = ("a CSV file", "an RTF document", "an HTML page", "an Excel 2003 XML spreadsheet",
               "a Word 2003 XML document")
    fix = f": open it and save as {_SAVE_AS[kind]}" if looks in fixable else ""
    return f"not {what} (looks like {looks}){fix}"


def _looks_like(head: bytes) -> str | None:
    """A plain-words guess at what a non-zip file is, for the rejection line."""
    if head.startswith(PDF_MAGIC):
        return "a PDF file"
    if head.startswith(b"{\\rtf"):
        return "an RTF document"
    if head[:4] in (b"\x89PNG", b"GIF8") or head.startswith(b"\xff\xd8\xff"):
        return "an image"
    text = _as_text(head)
    if text is None:
        return None
    stripped = text.lstrip()
    low = stripped[:200].lower()
    if low.startswith(("<!doctype html", "<html")) or "<html" in low:
        return "an HTML page"
    if 'progid="excel.sheet"' in low:
        return "an Excel 2003 XML spreadsheet"
    if 'progid="word.document"' in low:
        return "a Word 2003 XML document"
    if low.startswith("<"):
        return "an XML file"
    if stripped.startswith(("{", "[")):
        return "a JSON file"
    lines = [ln for ln in text.splitlines()[:5] if ln.strip()]
    if lines and all(any(sep in ln for sep in (",", ";", "\t")) for ln in lines):
        return "a CSV file"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """The head as text when it is text (UTF-8, UTF-16 with a BOM, or a single-byte code page)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the 4 KB window
            text = head[: exc.start].decode("utf-8-sig")
        else:
            text = head.decode("latin-1")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return text if controls <= len(text) // 100 else None


# --------------------------------------------------------------------------- the zip


@dataclass(frozen=True)
class _Part:
    """One central-directory entry, read the way ``zipfile`` reads it."""

    name: str
    flags: int
    method: int
    csize: int
    usize: int
    crc: int
    offset: int  # of the local header, in ``data``


class CheckedZip(Mapping[str, bytes]):
    """An Office file's parts by name, for its reader (in place of ``zipfile``), once the
    directory has passed every check.

    A part's content is checked the first time the reader asks for it (``_check_part``: its
    size and checksum; every prolog was judged in ``check``), so a part no reader needs (a
    Word document's 800 KB of style definitions, a theme, a thumbnail) is never inflated at
    all. A part that fails raises ``ReadError`` then, and the file is rejected with that line
    as before. Checked content is kept, up to ``KEEP_BYTES`` in all, so no part is inflated
    twice: a reader asks once per part, but a hand-edited or hostile workbook may name one
    sheet part from many places. Names resolve as ``zipfile`` resolves them: a name ends at
    a NUL byte, and of two entries with one name the later wins.
    """

    def __init__(self, data: bytes, located: list[tuple[_Part, int]]) -> None:
        self._data = data
        self._parts = {_zip_name(p.name): (p, start) for p, start in located}
        self._kept: dict[str, bytes] = {}
        self._budget = KEEP_BYTES

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __contains__(self, name: object) -> bool:
        return name in self._parts

    def __getitem__(self, name: str) -> bytes:
        """A part's content; ``KeyError`` when there is no such part, ``ReadError`` when it
        fails its check."""
        kept = self._kept.get(name)
        if kept is not None:
            return kept
        part, start = self._parts[name]
        content = _check_part(self._data, part, start)
        if len(content) <= self._budget:
            self._budget -= len(content)
            self._kept[name] = content
        return content


#: checked content kept for the reader, in all, per file; past it a part is inflated (and checked) again when read
KEEP_BYTES = 32 * 1024 * 1024


def _zip_name(name: str) -> str:
    nul = name.find("\x00")
    return name if nul < 0 else name[:nul]


def _check_zip(data: bytes, suffix: str, kind: str) -> CheckedZip:
    broken = f"not a valid {suffix} file (zip archive is truncated or damaged)"
    parts = _central_directory(data, broken)
    _check_kind([p.name for p in parts], suffix, kind)
    total = 0
    starts: list[int] = []
    save = _SAVE_AS[kind]
    for part in parts:
        if part.flags & (_ENCRYPTED | _STRONG_ENCRYPTION):
            raise ReadError(f"part {part_name(part.name)} is encrypted: open the file and save it without a password "
                            f"as {save}")
        if part.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ReadError(f"part {part_name(part.name)} uses zip compression method {part.method}, which Office "
                            f"does not write: open the file and save it again as {save}")
        if part.usize > MAX_MEMBER_BYTES:
            raise ReadError(f"part {part_name(part.name)} would unpack to {_mb(part.usize)}, over the "
                            f"{MAX_MEMBER_BYTES // 1048576} MB limit")
        total += part.usize
        if total > MAX_TOTAL_BYTES:
            raise ReadError(f"the parts would unpack to more than {MAX_TOTAL_BYTES // 1048576} MB in total")
        if part.usize > RATIO_FLOOR and part.usize > MAX_RATIO * max(part.csize, 1):
            ratio = part.usize // max(part.csize, 1)
            raise ReadError(f"part {part_name(part.name)} is compressed {ratio:,}:1, far beyond any real form "
                            "(a zip bomb?)")
        starts.append(_check_local_header(data, part, suffix))
    located = list(zip(parts, starts))
    for part, start in located:  # a DOCTYPE anywhere refuses the file, whether a reader needs the part or not
        _check_head(data, part, start)
    return CheckedZip(data, located)


def _end_record(data: bytes, broken: str) -> tuple[int, int, int]:
    """Where the central directory starts in ``data``, its size, and the offset the archive
    itself records for it, found as ``zipfile`` finds them (the end record, then a zip64 end
    record when its locator is there)."""
    end = len(data) - 22
    if end >= 0 and data[end: end + 4] == _EOCD and data[end + 20: end + 22] == b"\x00\x00":
        loc = end
    else:
        loc = data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
        if loc < 0 or loc + 22 > len(data):
            raise ReadError(broken)
    size_cd, offset_cd = struct.unpack_from("<LL", data, loc + 12)
    start = loc - size_cd
    loc64 = loc - 20
    if loc64 >= 0 and data[loc64: loc64 + 4] == _EOCD64_LOCATOR:
        rec = loc64 - 56
        if rec >= 0 and data[rec: rec + 4] == _EOCD64:
            size_cd, offset_cd = struct.unpack_from("<QQ", data, rec + 40)
            start = rec - size_cd
    if start < 0:
        raise ReadError(broken)
    return start, size_cd, offset_cd


def _central_directory(data: bytes, broken: str) -> list[_Part]:
    """Every entry, stopping just past the member limit, so a directory of a million entries
    never becomes a million objects; sizes and offsets as ``zipfile`` will use them."""
    start, size_cd, offset_cd = _end_record(data, broken)
    concat = start - offset_cd  # bytes before the archive (a self-extractor stub); zipfile shifts by it too
    parts: list[_Part] = []
    pos, stop = start, start + size_cd
    while pos < stop:
        if pos + 46 > len(data) or data[pos: pos + 4] != _CENTRAL:
            raise ReadError(broken)
        (_made, need, flags, method, _t, _d, crc, csize, usize, n, m, k, _disk, _ia, _ea,
         offset) = struct.unpack_from("<HHHHHHLLLHHHHHLL", data, pos + 4)
        if need > 63:  # a zip feature newer than zipfile reads
            raise ReadError(broken)
        raw = data[pos + 46: pos + 46 + n]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if 0xFFFFFFFF in (csize, usize, offset):
            usize, csize, offset = _zip64_sizes(data[pos + 46 + n: pos + 46 + n + m], usize, csize, offset, broken)
        parts.append(_Part(name, flags, method, csize, usize, crc, offset + concat))
        if len(parts) > MAX_MEMBERS:
            raise ReadError(f"zip archive holds more than {MAX_MEMBERS:,} parts; no audit form has that many")
        pos += 46 + n + m + k
    return parts


def _zip64_sizes(extra: bytes, usize: int, csize: int, offset: int, broken: str) -> tuple[int, int, int]:
    """The zip64 extra field overrides the 32-bit fields that are all ones, in this order."""
    while len(extra) >= 4:
        tag, length = struct.unpack_from("<HH", extra)
        if length + 4 > len(extra):
            raise ReadError(broken)
        if tag == 0x0001:
            body = extra[4: 4 + length]
            try:
                if usize == 0xFFFFFFFF:
                    (usize,), body = struct.unpack_from("<Q", body), body[8:]
                if csize == 0xFFFFFFFF:
                    (csize,), body = struct.unpack_from("<Q", body), body[8:]
                if offset == 0xFFFFFFFF:
                    (offset,) = struct.unpack_from("<Q", body)
            except struct.error:
                raise ReadError(broken) from None
        extra = extra[4 + length:]
    return usize, csize, offset


def _check_local_header(data: bytes, part: _Part, suffix: str) -> int:
    """The local header must agree with the central directory (``zipfile`` trusts the
    directory's sizes; a tampered file makes them disagree) and the data must lie inside the
    file. Returns where the part's compressed data starts."""
    off = part.offset
    if off < 0 or off + 30 > len(data) or data[off: off + 4] != ZIP_MAGIC:
        raise ReadError(f"not a valid {suffix} file (zip archive is truncated or damaged at part "
                        f"{part_name(part.name)})")
    flags, _method, _t, _d, _crc, csize, usize, n, m = struct.unpack_from("<HHHHLLLHH", data, off + 6)
    if flags & _ENCRYPTED:
        raise ReadError(f"part {part_name(part.name)} is encrypted: open the file and save it without a password")
    if not flags & _DATA_DESCRIPTOR and 0xFFFFFFFF not in (csize, usize):
        if csize != part.csize or usize != part.usize:
            raise ReadError(f"part {part_name(part.name)}: the zip's local header and central directory disagree "
                            "about its size (a damaged or tampered file)")
    start = off + 30 + n + m
    if start + part.csize > len(data):
        raise ReadError(f"not a valid {suffix} file (zip archive is truncated at part {part_name(part.name)})")
    return start


def _check_kind(names: list[str], suffix: str, kind: str) -> None:
    """A Word document behind .xlsx (and the like) is named as what it is."""
    lower = {n.lower() for n in names}
    has_word = any(n.startswith("word/") for n in lower)
    has_excel = any(n.startswith("xl/") for n in lower)
    if kind == "excel" and has_excel or kind == "word" and has_word:
        return
    if kind == "excel" and has_word:
        raise ReadError("this is a Word document, not an Excel workbook")
    if kind == "word" and has_excel:
        raise ReadError("this is an Excel workbook, not a Word document")
    if any(n.startswith("ppt/") for n in lower):
        raise ReadError(f"this is a PowerPoint presentation, not {_WHAT[kind]}")
    if "mimetype" in lower or "content.xml" in lower:
        raise ReadError(f"this is an OpenDocument file (LibreOffice), not {_WHAT[kind]}: "
                        f"open it and save as {_SAVE_AS[kind]}")
    app = "Excel" if kind == "excel" else "Word"
    raise ReadError(f"not a valid {suffix} file (a zip archive without {app} content)")


# --------------------------------------------------------------------------- what each part holds


def _check_part(data: bytes, part: _Part, start: int) -> bytes:
    """A part's content, inflated once and proved to be what its headers state: exactly its
    size and CRC. (Its prolog, for a DOCTYPE, was judged with every other part's by
    ``_check_head`` before the file was handed to its reader.)

    The size matters because ``zipfile.read()`` inflates a whole chunk of compressed data
    before it trims to the stated size: a part that states 3 KB but inflates to 30 MB would
    cost the reader the 30 MB. Here inflating stops one byte past the stated size, which the
    directory checks have already bounded, so memory and time are bounded by them too."""
    if part.name.endswith("/") and part.usize == 0:
        return b""
    content = _head(data, part, start, part.usize + 1)
    if len(content) > part.usize:
        raise ReadError(f"part {part_name(part.name)} unpacks to more than the {part.usize:,} bytes its "
                        "headers state (a damaged or tampered file)")
    if len(content) != part.usize:
        raise ReadError(f"part {part_name(part.name)} is damaged (its data ends early)")
    if zlib.crc32(content) != part.crc:
        raise ReadError(f"part {part_name(part.name)} is damaged (its data does not match its checksum)")
    return content


def _check_head(data: bytes, part: _Part, start: int) -> None:
    """A part's XML prolog, judged from its first bytes alone (``XML_HEAD``, or up to
    ``XML_PROLOG_LIMIT`` for a prolog that runs on): cheap enough to do for every part, so
    an attack in a part no reader needs still refuses the file. The part's size and checksum
    are proved only if a reader asks for it (``_check_part``)."""
    if part.name.endswith("/") and part.usize == 0:
        return
    asked = _FIRST_LOOK
    head = _head(data, part, start, asked)
    if not _XML_NAME.search(part.name) and not _starts_like_xml(head):
        return  # an image or other binary part: never parsed as XML
    verdict = _prolog_verdict(head)
    for more in (XML_HEAD, XML_PROLOG_LIMIT):  # a prolog that runs on (comments, PIs) is read further
        if len(head) < asked or verdict is not None:
            break  # the whole part is in hand, or its prolog is settled
        asked = more
        head = _head(data, part, start, asked)
        verdict = _prolog_verdict(head)
    if verdict == "doctype":
        raise ReadError(f"part {part_name(part.name)} declares a DOCTYPE (XML entities, as in billion-laughs and "
                        "external-entity attacks); the file is not read")
    if verdict is None and len(head) >= XML_PROLOG_LIMIT:
        raise ReadError(f"part {part_name(part.name)} has an XML prolog over {XML_PROLOG_LIMIT // 1024} KB long; "
                        "the file is not read")


_FIRST_LOOK = 512  # the XML declaration and the root element's start fit in this in every real part


def _head(data: bytes, part: _Part, start: int, size: int) -> bytes:
    """Up to ``size`` bytes from the start of a part's content."""
    if part.method == zipfile.ZIP_STORED:
        return data[start: start + min(part.csize, size)]
    try:
        return zlib.decompressobj(-15).decompress(memoryview(data)[start: start + part.csize], size)
    except zlib.error:
        raise ReadError(f"part {part_name(part.name)} is damaged (its compressed data cannot be read)") from None


def _starts_like_xml(head: bytes) -> bool:
    return _decode_xml_head(head).lstrip(" \t\r\n\ufeff").startswith("<")


def _decode_xml_head(head: bytes) -> str:
    """The head as text in the encodings an XML parser detects from its first bytes."""
    if head.startswith((b"\x00\x00\xfe\xff", b"\x00\x00\x00<")):
        return head.decode("utf-32-be", errors="ignore")
    if head.startswith((b"\xff\xfe\x00\x00", b"<\x00\x00\x00")):
        return head.decode("utf-32-le", errors="ignore")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head.decode("utf-16-be", errors="ignore")
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head.decode("utf-16-le", errors="ignore")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("latin-1")  # every ASCII-compatible encoding spells markup the same


def _prolog_verdict(head: bytes) -> str | None:
    """``"doctype"``, ``"ok"`` (the root element starts with no DOCTYPE before it), or None
    when the head ends inside the prolog. Comments and processing instructions are skipped
    properly, so markup inside a comment cannot hide a DOCTYPE after it."""
    text = _decode_xml_head(head)
    i, n = 0, len(text)
    if text.startswith("\ufeff"):
        i = 1
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if n - i < 4:
            return None  # too little left to tell "<!--" from "<!DO"
        if text.startswith("<?", i):
            j = text.find("?>", i + 2)
            if j < 0:
                return None
            i = j + 2
        elif text.startswith("<!--", i):
            j = text.find("-->", i + 4)
            if j < 0:
                return None
            i = j + 3
        elif text.startswith("<!", i):
            # a DOCTYPE, or any other declaration where only a DOCTYPE may stand
            return "doctype"
        else:
            return "ok"  # the root element, or text a parser will refuse on its own


# --------------------------------------------------------------------------- helpers


def part_name(name: str, limit: int = 80) -> str:
    """A zip part's name as it may appear in a message: printable and bounded."""
    clean = _UNPRINTABLE.sub("?", name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB"
