"""Torch's CPU thread count for one block of work, restored afterwards.

Sampling runs on one thread (:data:`styletx.api.DEFAULT_THREADS`), training gains from
a second: each entry point sets what its work wants, and the caller's setting comes back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch on ``n`` CPU threads, then restore the caller's setting."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
