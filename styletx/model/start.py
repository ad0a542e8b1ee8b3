"""The sampler's starting state, built from the grid: the roll it starts from and the melody it reads.

Lu & Su start from the input piece itself, and so does styletx: :func:`starting_roll`
folds the input's accompaniment into the model's pitch window, or, for a melody-only
input, writes the chord track as plain block chords for the sampler to rewrite.
:func:`guide_melody` gives the model the melody tokens it reads, with the
accompaniment's top line standing in during long melody rests. Both work on a
:class:`~styletx.music.grid.Grid`; nothing here reads or writes MIDI.
"""

from __future__ import annotations

import numpy as np

from styletx.model.settings import StartVoicing
from styletx.music.arrange import fold_into_range
from styletx.music.chords import NO_CHORD, Chord, scale_mask
from styletx.music.encoding import HOLD, MELODY_REST, OFF, ONSET, encode_melody
from styletx.music.grid import Grid

DEFAULT_VOICING = StartVoicing()
"""A style card's default registers (:class:`styletx.model.settings.StartVoicing`)."""


def starting_roll(grid: Grid, lo: int, hi: int, rng: np.random.Generator,
                  voicing: StartVoicing = DEFAULT_VOICING) -> np.ndarray:
    """The ``[T, hi - lo]`` roll the sampler starts from: the input's accompaniment, else block chords.

    ``rng`` picks the tones of the block chords' chordless beats (:func:`block_chords`,
    in the style's ``voicing``); an input with an accompaniment draws nothing from it.
    """
    window = fold_into_range(grid.accomp, lo, hi)
    if window.any():
        return window
    return block_chords(grid, lo, hi, rng, voicing)


def block_chords(grid: Grid, lo: int, hi: int, rng: np.random.Generator,
                 voicing: StartVoicing = DEFAULT_VOICING) -> np.ndarray:
    """The chord track played as plain block chords: the start of a melody-only input.

    The root below, the chord's tones above, struck at each change and each bar; the
    sampler then rewrites it all, which is what turns styletx into a harmoniser.
    Beats without a chord start from three random in-key tones (drawn from ``rng``).
    The registers are ``voicing``'s.
    """
    v = voicing
    window = np.zeros_like(grid.accomp[:, lo:hi])
    pitches = np.arange(lo, hi)
    strike = np.zeros(grid.n_frames, dtype=bool)
    strike[np.flatnonzero(grid.bar_step == 0)] = True
    strike[0] = True
    strike[1:] |= np.diff(grid.chords) != 0
    beat = grid.bar_step % grid.steps_per_beat == 0
    for start in np.flatnonzero(strike | (beat & (grid.chords == NO_CHORD))):
        chord = Chord.from_token(int(grid.chords[start]))
        if chord is not None:
            tones = pitches[np.isin(pitches % 12, list(chord.pitch_classes)) & (pitches >= v.tones_lo)]
            tones = tones[tones < v.tones_hi]
            roots = pitches[(pitches % 12 == chord.root) & (pitches < v.bass_below)]
            chosen = np.concatenate([roots[-1:], tones[:3]])
        else:
            in_key = pitches[scale_mask(int(grid.key[start]))[pitches % 12]]
            middle = in_key[(in_key >= v.free_lo) & (in_key < v.free_hi)]
            pool = middle if middle.size >= 3 else in_key
            chosen = rng.choice(pool, size=min(3, pool.size), replace=False)
        later = np.flatnonzero(strike[start + 1 :] | beat[start + 1 :])
        stop = start + 1 + int(later[0]) if later.size else grid.n_frames
        window[start, chosen - lo] = ONSET
        window[start + 1 : stop, chosen - lo] = HOLD
    return window


def guide_melody(grid: Grid, min_frames: int) -> np.ndarray:
    """Melody tokens for the model: the melody, with the input accompaniment's top line in long rests.

    Where the melody rests for ``min_frames`` or more while the accompaniment plays
    (an intro, an instrumental break), the model reads that top line instead, so it
    keeps accompanying rather than falling silent. Only the model's input changes:
    the written melody is always the original.
    """
    tokens = grid.melody.astype(np.int64).copy()
    rest = tokens == MELODY_REST
    sounding = grid.accomp != OFF
    has = sounding.any(axis=1)
    top = 127 - np.argmax(sounding[:, ::-1], axis=1)
    onset = grid.accomp[np.arange(grid.n_frames), top] == ONSET
    edges = np.flatnonzero(np.diff(np.r_[0, rest.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a < min_frames:
            continue
        span = np.arange(a, b)[has[a:b]]
        tokens[span] = encode_melody(top[span], onset[span])
    return tokens
