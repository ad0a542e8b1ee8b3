"""A progress bar that appears only when work takes longer than a second, on a terminal.

It shows the share done, the elapsed time and an estimate of the time left, but no rate:
the sampler reports progress in uneven jumps (a whole sweep at once), so a rate per pass
would read like "1606329 pass/s". When stderr is not a terminal (a log file, a pipe, CI),
it draws nothing."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from styletx.model.settings import Progress

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
"""tqdm's layout without the rate (see the module docstring)."""


def progress_bar(label: str, delay: float = 1.0, *, enabled: bool | None = None
                 ) -> contextlib.AbstractContextManager[Progress]:
    """A ``(done, total)`` callback drawing a bar on stderr after ``delay`` s.

    ``enabled`` defaults to whether stderr is a terminal; when off, the callback does nothing.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    return _progress_bar(label, delay, enabled)


@contextlib.contextmanager
def _progress_bar(label: str, delay: float, enabled: bool) -> Iterator[Progress]:
    from tqdm import tqdm

    bar: tqdm | None = None
    start = time.perf_counter()

    def update(done: int, total: int) -> None:
        nonlocal bar
        if not enabled:
            return
        if bar is None:
            if time.perf_counter() - start < delay:
                return
            bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False,
                       bar_format=BAR_FORMAT)
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
