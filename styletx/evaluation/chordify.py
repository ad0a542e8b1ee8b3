"""An independent chord reader: music21's ``chordify`` and chord-symbol naming, per half bar.

The project's own reader (:func:`styletx.evaluation.metrics.estimate_chords`) matches
templates against a pitch-class profile, and the MMA baseline plays exactly the chords
it hears, so on that reader the baseline agrees with itself. This reader shares no
estimator with the render path or the baseline:

1. every note of the piece (melody and accompaniment, drums never) goes into a music21
   score, one part each, which music21 ``chordify``-s into vertical slices;
2. each slice is named by :func:`music21.harmony.chordSymbolFromChord` (its lowest
   note as the bass), and the name's kind is folded onto a family: ``major`` (major,
   dominant, augmented, suspended kinds), ``minor`` or ``dim`` (diminished and
   half-diminished); a slice music21 calls a pedal, a power chord or cannot identify
   has no vote;
3. a half bar's chord is the (root, family) with the most sounding time among its
   slices; when no slice votes (a texture of single notes and dyads, an arpeggio),
   the union of the half bar's pitch classes over its lowest note is named instead,
   and a half bar that still has no name has no chord.

The comparison is the project's (:func:`~styletx.evaluation.metrics.chord_agreement`):
same root and same family.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from styletx.evaluation.metrics import Piece
from styletx.music.chords import Chord
from styletx.music.song import Note

FAMILY_QUALITY = {"major": "", "minor": "m", "dim": "dim"}
"""The family a name folds onto, as the project's quality that stands for it."""


def kind_family(kind: str) -> str | None:
    """The family of a music21 chord kind (``"dominant-seventh"`` → ``"major"``), or None."""
    if kind.startswith(("diminished", "half-diminished")):
        return "dim"
    if kind.startswith("minor"):
        return "minor"
    if kind.startswith(("major", "dominant", "augmented", "suspended")):
        return "major"
    return None


@lru_cache(maxsize=65536)
def name_slice(pitch_classes: frozenset[int], bass: int) -> Chord | None:
    """music21's name for a set of pitch classes over ``bass``, as root and family.

    The bass is voiced in octave 3, the other pitch classes in octave 4, so the name
    depends on the pitch classes and the bass only (and can be cached).
    """
    from music21 import chord, harmony, pitch
    from music21.exceptions21 import Music21Exception

    if len(pitch_classes) < 3:
        return None  # one or two pitch classes: music21 calls them pedal, power or an interval
    pitches = [pitch.Pitch(midi=48 + bass)]
    pitches += [pitch.Pitch(midi=60 + pc) for pc in sorted(pitch_classes) if pc != bass]
    try:
        symbol = harmony.chordSymbolFromChord(chord.Chord(pitches))
    except (Music21Exception, ValueError):  # a figure music21 writes but cannot parse back
        return None
    family = kind_family(symbol.chordKind or "")
    if family is None or symbol.root() is None:
        return None
    return Chord(symbol.root().pitchClass, FAMILY_QUALITY[family])


def slices(notes: Sequence[Note], resolution: int) -> list[tuple[int, int, frozenset[int], int]]:
    """music21's chordify of ``notes``: ``(start, end, pitch classes, bass pitch)`` per slice, in ticks."""
    from music21 import chord, note, stream

    score = stream.Score()
    part = stream.Part()
    for n in notes:
        if n.end <= n.start:
            continue
        m = note.Note(n.pitch)
        m.quarterLength = (n.end - n.start) / resolution
        part.insert(n.start / resolution, m)
    score.insert(0, part)
    out = []
    for c in score.chordify().flatten().getElementsByClass(chord.Chord):
        start = round(float(c.offset) * resolution)
        end = start + round(float(c.quarterLength) * resolution)
        if end > start and c.pitches:
            midi = [p.midi for p in c.pitches]
            out.append((start, end, frozenset(p % 12 for p in midi), min(midi)))
    return out


def read_chords(piece: Piece, segments: np.ndarray | None = None) -> list[Chord | None]:
    """One chord per half bar (or per given ``[S, 2]`` tick segment), by slice vote."""
    segs = piece.half_bars() if segments is None else segments
    cut = slices([*piece.melody, *piece.accomp], piece.resolution)
    out: list[Chord | None] = []
    for a, b in segs:
        votes: dict[Chord, int] = {}
        inside = [s for s in cut if min(s[1], b) > max(s[0], a)]
        for start, end, pcs, bass in inside:
            name = name_slice(pcs, bass % 12)
            if name is not None:
                votes[name] = votes.get(name, 0) + min(end, b) - max(start, a)
        if not votes and inside:
            union = frozenset().union(*(s[2] for s in inside))
            name = name_slice(union, min(s[3] for s in inside) % 12)
            if name is not None:
                votes[name] = 1
        # the most time; ties go to the lower root, then the family order, so the result is fixed
        out.append(max(votes, key=lambda c: (votes[c], -c.root, c.quality)) if votes else None)
    return out
