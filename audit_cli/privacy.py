"""Pseudonymous case ids: results that can be shared without the case references in them.

A keyed hash (HMAC-SHA256 with the bytes of a key file) turns a case reference
into ``P-`` and 12 hex digits. The same key gives the same pseudonym in every run,
so rounds can still be compared; without the key the references cannot be
recovered or confirmed by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from .errors import UsageError

MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 64 * 1024  # a key file, not a data file (nor /dev/zero)
PREFIX = "P-"
DIGITS = 12
#: an id shorter than this is not searched for inside messages: "12" would match every date
MIN_SCRUB_LENGTH = 3


def load_key(path: Path) -> bytes:
    """The key file's bytes without the trailing newline an editor adds; a usage error (exit 2)
    when it cannot be read or is too short to be a secret."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--pseudonymise: cannot read the key file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_BYTES:
        raise UsageError(f"--pseudonymise: the key file {path} is over {MAX_KEY_BYTES // 1024} KB; "
                         "is it the right file?")
    key = data.rstrip(b"\r\n")
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"--pseudonymise: the key file {path} holds {len(key)} bytes; it needs at least {MIN_KEY_BYTES} "
            "(make one with: python -c \"import secrets; print(secrets.token_hex(32))\" > KEYFILE)"
        )
    return key


def pseudonym(case_id: str, key: bytes) -> str:
    """``P-`` and the first 12 hex digits of HMAC-SHA256(key, case id): stable for one key."""
    digest = hmac.new(key, case_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGITS]


def scrub(text: str | None, case_id: str, alias: str) -> str | None:
    """A message with the real case id replaced by its pseudonym (a message that quotes the
    file name of a form without a reference, for example)."""
    if not text or len(case_id) < MIN_SCRUB_LENGTH or case_id not in text:
        return text
    return text.replace(case_id, alias)
