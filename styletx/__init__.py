"""styletx: rewrite the accompaniment of a MIDI file in another style, keeping the melody.

The Python API in three calls::

    import styletx
    styletx.styles()                       # installed styles, e.g. ['bach', 'jazz', ...]
    jazz = styletx.load_style("jazz")      # load weights once, reuse for many pieces
    pm = styletx.transfer("song.mid", jazz, seed=1)   # -> pretty_midi.PrettyMIDI
"""

from styletx.api import render, transfer
from styletx.errors import BadMidiError, NoMelodyError, StyleTxError
from styletx.styles import Style, load_style, styles

__version__ = "0.1.0"

__all__ = [
    "BadMidiError",
    "NoMelodyError",
    "Style",
    "StyleTxError",
    "__version__",
    "load_style",
    "render",
    "styles",
    "transfer",
]
