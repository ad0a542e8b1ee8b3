"""Warnings about recoverable oddities, kept off the terminal until the end.

Library code logs on the ``styletx`` logger and its children. A library user sees
those records through their own logging setup, as usual. The CLI wraps a command
in :func:`collect_warnings` and prints one summary line on stderr instead of one
line per oddity; a batch wraps each file in it too, so the file's warnings go into
its report entry.

The logger is never changed per call: one handler, installed here, hands each
warning to the *innermost* collection open in the current thread or task (a
:class:`~contextvars.ContextVar`). Nested collections therefore never count a
record twice, and a file converted in this process reports exactly what it would
report in a worker process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from styletx.music.grid import QuantizationReport

LOGGER = logging.getLogger("styletx")


class WarningCollector:
    """The messages of the warning records logged while a collection was open."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def summary(self) -> str | None:
        """One line for stderr, or None when nothing was logged."""
        if not self.messages:
            return None
        if len(self.messages) == 1:
            return f"warning: {self.messages[0]}"
        return (f"{len(self.messages)} warnings (first: {self.messages[0]}); "
                "run with -v to see them all")


_OPEN: ContextVar[WarningCollector | None] = ContextVar("styletx_warnings", default=None)


class _ToOpenCollector(logging.Handler):
    """The one handler on the ``styletx`` logger: a warning goes to the innermost open collection.

    Being a handler, it also keeps Python's last-resort handler from printing
    records when nothing is collecting (what a ``NullHandler`` would do).
    """

    def emit(self, record: logging.LogRecord) -> None:
        collector = _OPEN.get()
        if collector is not None:
            collector.messages.append(" ".join(record.getMessage().split()))


LOGGER.addHandler(_ToOpenCollector(logging.WARNING))


@contextmanager
def collect_warnings(*, forward: bool = False) -> Iterator[WarningCollector]:
    """Collect the ``styletx`` warnings of this thread or task for the duration of the block.

    While the block runs, an outer collection receives none of them: the caller
    decides what to pass on (a batch logs one line per file). With ``forward``, the
    outer collection gets them all when the block ends, so a function can keep its own
    warnings (a transfer's result lists them) without hiding them from its caller's.
    """
    collector = WarningCollector()
    outer = _OPEN.get()
    token = _OPEN.set(collector)
    try:
        yield collector
    finally:
        _OPEN.reset(token)
        if forward and outer is not None:
            outer.messages.extend(collector.messages)


def quantization_note(report: QuantizationReport) -> str | None:
    """A warning text when putting the music on the grid moved or dropped notes, else None.

    Ends that move are not reported: the melody is written back from the input's
    own ticks, and rounding accompaniment ends is what the grid is for.
    """
    if report.onsets_moved or report.cut_by_later_onset or report.dropped_same_frame:
        return f"quantisation: {report.summary()}"
    return None
