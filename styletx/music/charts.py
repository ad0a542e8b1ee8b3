"""Chord charts: the chord track of a grid written as bars of chord symbols, and read back.

``"C | Am7 | Dm7 G7 | C"`` is what ``--chords`` takes, ``--print-chords`` and
``styletx info`` print. A score's own chord symbols (music21's ``ChordSymbol``, as read
from MusicXML) are the other way to give the chords. Numpy only (music21 is imported
only to read a stream's symbols), so ``info`` stays quick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from styletx.errors import StyleTxError
from styletx.music.chords import NO_CHORD, Chord, chart_track, chord_scores
from styletx.music.grid import Grid


def parse_chart(chart: str, grid: Grid) -> np.ndarray:
    """A chord track from a chart such as ``"C | Am7 | Dm7 G7 | C"``.

    Bars are separated by ``|`` and map onto the piece's bars in order, from its
    first bar (a pickup bar included: write ``N.C.`` for it). The chords of a bar
    share it equally (``Dm7 G7`` in 4/4: two beats each); ``/`` repeats the previous
    chord for its share. Bars after the chart keep the chords estimated from the input.
    """
    track = grid.chords.copy()
    bars = [b.split() for b in chart.split("|")]
    if not any(bars):
        raise StyleTxError("empty chord chart: write chords per bar, e.g. 'C | Am7 | Dm7 G7 | C'")
    prev: Chord | None = None
    for bar, symbols in enumerate(bars):
        frames = np.nonzero(grid.bar_index == bar)[0]
        if frames.size == 0:
            raise StyleTxError(f"the chord chart has {len(bars)} bars; the piece has {grid.n_bars}")
        if not symbols:
            continue
        for i, part in enumerate(np.array_split(frames, len(symbols))):
            if symbols[i] != "/":
                try:
                    prev = Chord.parse(symbols[i])
                except ValueError as e:
                    raise StyleTxError(f"bar {bar + 1} of the chord chart: {e}") from None
            track[part] = NO_CHORD if prev is None else prev.token
    return track


def chord_chart(grid: Grid, chords: np.ndarray | None = None) -> str:
    """A chord track as a chart, one ``|``-separated bar each (the format :func:`parse_chart` reads)."""
    track = grid.chords if chords is None else chords
    bars = []
    for bar in range(grid.n_bars):
        frames = np.nonzero(grid.bar_index == bar)[0]
        names = []
        for t in frames[np.r_[True, np.diff(track[frames]) != 0]]:
            chord = Chord.from_token(int(track[t]))
            names.append(chord.name if chord else "N.C.")
        bars.append(" ".join(names))
    return " | ".join(bars)


ChordChanges = list[tuple[int, "Chord | None"]]
"""Chord changes in MIDI ticks: ``(tick, chord)``, each chord held to the next change."""


def changes_track(changes: ChordChanges, grid: Grid) -> np.ndarray:
    """A chord track from changes in ticks (rounded to the grid's frames)."""
    frames = [(round(tick * grid.steps_per_beat / grid.resolution), chord) for tick, chord in changes]
    return chart_track(sorted(frames, key=lambda c: c[0]), grid.n_frames)


def stream_chord_changes(stream: Any, resolution: int) -> ChordChanges:
    """The chord symbols of a music21 stream (e.g. parsed MusicXML) as changes in ticks.

    Each symbol's pitches are matched to the eight templates with its root as the bass
    (so ``C9`` reads as C7 and ``Csus4`` as C); ``N.C.`` is no chord. Offsets are
    quarter notes from the start, as the stream's MIDI export places its notes.
    """
    from music21 import harmony

    changes: ChordChanges = []
    for cs in stream.flatten().getElementsByClass(harmony.ChordSymbol):
        tick = round(float(cs.offset) * resolution)
        if isinstance(cs, harmony.NoChord) or not cs.pitches:
            changes.append((tick, None))
            continue
        profile = np.zeros(12)
        for p in cs.pitches:
            profile[p.pitchClass] = 1.0
        root = cs.root().pitchClass
        changes.append((tick, Chord.from_token(int(np.argmax(chord_scores(profile, root))))))
    return changes
