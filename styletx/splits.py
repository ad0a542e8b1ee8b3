"""The fixed piece-level train/valid/test split.

The split of a piece is a pure function of its *source* melody id (for example
``"bach/bwv269"``), so every transposition and every groove rendering of one
melody lands in the same split, in every style, on every machine.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "valid", "test"]


def split_of(source_id: str) -> Split:
    """80/10/10 by SHA-1 of the source id: digit 8 = valid, 9 = test, else train."""
    bucket = int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % 10
    if bucket == 8:
        return "valid"
    if bucket == 9:
        return "test"
    return "train"
