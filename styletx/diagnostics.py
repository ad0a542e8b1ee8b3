"""Warnings about recoverable oddities, kept off the terminal until the end.

Library code logs on the ``styletx`` logger (which has a ``NullHandler``, so a
library user sees nothing unless they configure logging). The CLI wraps a
command in :func:`collect_warnings` and prints one summary line on stderr
instead of one line per oddity.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from styletx.music.grid import QuantizationReport

LOGGER = logging.getLogger("styletx")
LOGGER.addHandler(logging.NullHandler())


class WarningCollector(logging.Handler):
    """Keep the messages of warning records instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))

    def summary(self) -> str | None:
        """One line for stderr, or None when nothing was logged."""
        if not self.messages:
            return None
        if len(self.messages) == 1:
            return f"warning: {self.messages[0]}"
        return (f"{len(self.messages)} warnings (first: {self.messages[0]}); "
                "run with -v to see them all")


@contextmanager
def collect_warnings() -> Iterator[WarningCollector]:
    """Collect ``styletx`` warnings for the duration of the block (not passed upward)."""
    collector = WarningCollector()
    LOGGER.addHandler(collector)
    propagate, LOGGER.propagate = LOGGER.propagate, False
    try:
        yield collector
    finally:
        LOGGER.removeHandler(collector)
        LOGGER.propagate = propagate


def quantization_note(report: QuantizationReport) -> str | None:
    """A warning text when putting the music on the grid moved or dropped notes, else None.

    Ends that move are not reported: the melody is written back from the input's
    own ticks, and rounding accompaniment ends is what the grid is for.
    """
    if report.onsets_moved or report.cut_by_later_onset or report.dropped_same_frame:
        return f"quantisation: {report.summary()}"
    return None
