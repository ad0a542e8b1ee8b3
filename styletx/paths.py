"""Where styletx keeps generated data.

Built corpora and parsed lead sheets are large and reproducible, so they live in a
per-user cache rather than in the repository or the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return the cache root: ``$STYLETX_CACHE`` if set, else ``~/.cache/styletx``.

    The directory is created if missing, so callers can write into it directly.
    """
    env = os.environ.get("STYLETX_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "styletx"
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()
