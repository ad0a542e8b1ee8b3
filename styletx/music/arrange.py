"""From a generated accompaniment to instrument tracks.

The model writes one accompaniment roll. A style's card says how to voice it
(:class:`PartSpec`): a ``"bass"`` part takes the lowest line of
what the model wrote, and the other part takes the rest. The split is read
off the model's output, not a fixed pattern: a note is bass when it is the
lowest note sounding at its onset and no higher than the style's
``bass_max_pitch``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from styletx.music.song import Note, Track


@dataclass(frozen=True)
class PartSpec:
    """One output instrument. ``role`` is ``"bass"`` (the lowest line) or ``"rest"``."""

    name: str
    program: int
    role: str = "rest"

def bass_line(notes: list[Note], bass_max_pitch: int) -> set[int]:
    """Indices of the notes that form the lowest line: no lower note sounds at their onset.

    A sweep over the onsets in time order with a heap of the notes sounding, lowest
    first, so a long piece costs ``n log n``, not one comparison per pair of notes.
    """
    order = sorted(range(len(notes)), key=lambda i: (notes[i].start, notes[i].pitch))
    sounding: list[tuple[int, int]] = []  # (pitch, end); ended notes leave when they reach the top
    chosen: set[int] = set()
    added = 0
    for i in order:
        n = notes[i]
        while added < len(order) and notes[order[added]].start <= n.start:
            m = notes[order[added]]
            heapq.heappush(sounding, (m.pitch, m.end))
            added += 1
        while sounding and sounding[0][1] <= n.start:
            heapq.heappop(sounding)
        if n.pitch <= bass_max_pitch and not (sounding and sounding[0][0] < n.pitch):
            chosen.add(i)
    return chosen


def voice_parts(notes: list[Note], parts: list[PartSpec], bass_max_pitch: int) -> list[Track]:
    """Split accompaniment notes into the style's tracks (empty tracks are dropped)."""
    bass_specs = [p for p in parts if p.role == "bass"]
    other_specs = [p for p in parts if p.role != "bass"] or bass_specs
    bass_idx = bass_line(notes, bass_max_pitch) if bass_specs and len(parts) > 1 else set()
    groups: list[tuple[PartSpec, list[Note]]] = []
    if bass_idx:
        groups.append((bass_specs[0], [notes[i] for i in sorted(bass_idx)]))
    groups.append((other_specs[0], [n for i, n in enumerate(notes) if i not in bass_idx]))
    return [
        Track(name=spec.name, program=spec.program, is_drum=False, notes=sorted(part_notes))
        for spec, part_notes in groups
        if part_notes
    ]


def fold_into_range(roll: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``[T, 128]`` → ``[T, hi - lo]``, moving out-of-range pitches by octaves into range.

    When a moved note lands on a pitch already in use, the cell already there wins.
    """
    out = roll[:, lo:hi].copy()
    for p in [*range(0, lo), *range(hi, 128)]:
        column = roll[:, p]
        if not column.any():
            continue
        q = p
        while q < lo:
            q += 12
        while q >= hi:
            q -= 12
        if not lo <= q < hi:
            continue
        target = out[:, q - lo]
        out[:, q - lo] = np.where(target == 0, column, target)
    return out


def confine(window: np.ndarray, offset: int, lo: int, hi: int) -> np.ndarray:
    """A ``[T, P]`` window (column ``p`` = MIDI ``offset + p``) with every note moved by octaves
    into MIDI ``lo..hi`` (inclusive): the starting roll of a ``--range`` transfer."""
    inside = fold_into_range(unfold(window, offset), lo, hi + 1)
    out = np.zeros_like(window)
    out[:, lo - offset : hi + 1 - offset] = inside
    return out


def unfold(window: np.ndarray, lo: int) -> np.ndarray:
    """``[T, P]`` model window → ``[T, 128]`` roll."""
    roll = np.zeros((window.shape[0], 128), dtype=np.uint8)
    roll[:, lo : lo + window.shape[1]] = window
    return roll
