"""Where styletx keeps derived data: never relative to the working directory."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$STYLETX_CACHE`` if set, else ``~/.cache/styletx``; created on first use."""
    root = Path(os.environ.get("STYLETX_CACHE") or Path.home() / ".cache" / "styletx")
    root.mkdir(parents=True, exist_ok=True)
    return root
