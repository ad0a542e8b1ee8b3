"""The fixed train/valid/test split, shared by every style (Bach included).

The split is a pure function of the *source* melody id, so every transposition,
groove and tempo of one melody lands in the same split, and a chorale is in the
same split for the Bach model and for the MMA-rendered styles.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "valid", "test"]


def split_of(source_id: str) -> Split:
    """Return the split of a source id such as ``"bach/bwv269"`` (80/10/10 by SHA-1).

    ``int(sha1(source_id)) % 10``: 8 is valid, 9 is test, anything else is train.
    """
    r = int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % 10
    if r == 8:
        return "valid"
    if r == 9:
        return "test"
    return "train"
