"""Voice leading on the grid: voices at each onset and their parallel fifths and octaves.

Shared by the evaluation (which counts parallels in any transfer) and the sampler
(which redraws the beats that make them, for styles that ask for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from styletx.music.encoding import MELODY_HOLD, MELODY_REST, ONSET, melody_pitches


def count_parallels(slices: Sequence[Sequence[int]]) -> int:
    """Parallel fifths and octaves (unisons included) between adjacent voices of consecutive slices.

    Voices are matched by position, so only consecutive slices with the same number
    of voices are compared. A parallel is two adjacent voices that both move, in the
    same direction, from a perfect fifth (or twelfth...) to a perfect fifth, or from
    an octave (or unison) to an octave.
    """
    found = 0
    for before, after in pairwise(slices):
        if len(before) != len(after) or len(before) < 2:
            continue
        for i in range(len(before) - 1):
            lo0, hi0, lo1, hi1 = before[i], before[i + 1], after[i], after[i + 1]
            move_lo, move_hi = lo1 - lo0, hi1 - hi0
            if move_lo == 0 or move_hi == 0 or (move_lo > 0) != (move_hi > 0):
                continue
            i0, i1 = (hi0 - lo0) % 12, (hi1 - lo1) % 12
            if i0 == i1 and i0 in (0, 7):
                found += 1
    return found


def roll_slices(
    roll: np.ndarray, melody: np.ndarray, pitch_offset: int, start: int = 0, stop: int | None = None
) -> list[list[int]]:
    """Voices at each onset frame in ``[start, stop)``: sounding accompaniment pitches upwards, melody on top.

    ``roll [T, P]`` is the accompaniment (column ``p`` = MIDI ``pitch_offset + p``),
    ``melody [T]`` the melody tokens; a frame is a slice when anything starts there.
    """
    stop = roll.shape[0] if stop is None else stop
    mel_pitch = melody_pitches(melody)
    slices = []
    for t in range(max(start, 0), min(stop, roll.shape[0])):
        if not ((roll[t] == ONSET).any() or (melody[t] != MELODY_REST and melody[t] < MELODY_HOLD)):
            continue
        voices = (np.nonzero(roll[t])[0] + pitch_offset).tolist()
        if melody[t] != MELODY_REST:
            voices.append(int(mel_pitch[t]))
        slices.append(voices)
    return slices
