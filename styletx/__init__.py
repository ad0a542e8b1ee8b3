"""styletx: rewrite the accompaniment of a MIDI file in another style, keeping the melody.

The Python API in three calls::

    import styletx
    styletx.styles()                       # installed styles, e.g. ['bach', 'jazz', ...]
    jazz = styletx.load_style("jazz")      # load weights once, reuse for many pieces
    result = styletx.transfer("song.mid", jazz, seed=1)   # -> styletx.TransferResult
    result.write("song_jazz.mid")          # exact ticks; .musicxml/.mxl/.wav also work

The names below are imported on first use, so ``import styletx`` (and the CLI's
``--help``, ``info`` and ``styles``) does not pay for torch or music21.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from styletx.errors import BadMidiError, NoMelodyError, StyleTxError
from styletx.styles import Style, load_style, styles

if TYPE_CHECKING:
    from styletx.api import TransferOptions, TransferResult, render, transfer

__version__ = "0.2.0"
"""The package's version: the one place it is spelled (pyproject.toml reads it from here)."""

_LAZY = {
    "TransferOptions": "styletx.api",
    "TransferResult": "styletx.api",
    "render": "styletx.api",
    "transfer": "styletx.api",
}

__all__ = [
    "BadMidiError",
    "NoMelodyError",
    "Style",
    "StyleTxError",
    "TransferOptions",
    "TransferResult",
    "__version__",
    "load_style",
    "render",
    "styles",
    "transfer",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'styletx' has no attribute {name!r}")
