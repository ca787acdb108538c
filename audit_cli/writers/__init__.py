"""Writers render a finished run (or one case) to a file or to text; they never recompute a score."""

from __future__ import annotations

import datetime as dt


def utc_naive(iso: str | None) -> dt.datetime | None:
    """A run's ISO timestamp as naive UTC, the form Office files and JUnit store; None if unreadable.

    Every writer stamps its file with the run's time, not the clock, so equal runs give equal files.
    """
    if not iso:
        return None
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when
