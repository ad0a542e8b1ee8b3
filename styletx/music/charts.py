"""Chord charts: the chord track of a grid written as bars of chord symbols, and read back.

``"C | Am7 | Dm7 G7 | C"`` is what ``--chords`` takes, ``--print-chords`` and
``styletx info`` print. A score's own chord symbols (read by :mod:`styletx.score.read`
and matched to the model's chords by :func:`symbol_chord`) are the other way to give the
chords. Numpy only, so ``info`` stays quick.
"""

from __future__ import annotations

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


def track_changes(grid: Grid, chords: np.ndarray | None = None) -> ChordChanges:
    """A chord track (default: the grid's) as changes in ticks: the inverse of :func:`changes_track`."""
    track = grid.chords if chords is None else chords
    frames = np.nonzero(np.r_[True, np.diff(track) != 0])[0] if len(track) else []
    return [(grid.frame_tick(int(t)), Chord.from_token(int(track[t]))) for t in frames]


def changes_track(changes: ChordChanges, grid: Grid) -> np.ndarray:
    """A chord track from changes in ticks (rounded to the grid's frames)."""
    frames = [(round(tick * grid.steps_per_beat / grid.resolution), chord) for tick, chord in changes]
    return chart_track(sorted(frames, key=lambda c: c[0]), grid.n_frames)


def symbol_chord(pitch_classes: np.ndarray, root: int) -> Chord:
    """The model's chord for a written chord symbol: its pitch classes (a 12-vector) matched
    to the eight templates with its root as the bass, so ``C9`` reads as C7 and ``Csus4`` as C."""
    return Chord.from_token(int(np.argmax(chord_scores(pitch_classes, root))))
