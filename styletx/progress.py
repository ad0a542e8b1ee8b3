"""A progress bar that appears only when work takes longer than a second."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from styletx.sampler import Progress


@contextmanager
def progress_bar(label: str, delay: float = 1.0) -> Iterator[Progress]:
    """Yield a ``(done, total)`` callback drawing a tqdm bar on stderr after ``delay`` s."""
    from tqdm import tqdm

    bar: tqdm | None = None
    start = time.perf_counter()

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if time.perf_counter() - start < delay:
                return
            bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False, unit="pass")
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
