"""The grid's codes, in one place: what each cell, melody token and metadata column means.

Everything that reads or writes the model's arrays (the grid, the chord track, the
network, the sampler, training) takes these names from here, so the encoding has one
definition. This module imports nothing from styletx, so every other module of
:mod:`styletx.music` can use it.

* accompaniment cells: :data:`OFF`, :data:`ONSET`, :data:`HOLD` (a repeated note is
  onset, onset; a held one onset, hold);
* melody tokens: :data:`MELODY_REST`, ``1 + pitch`` for an onset,
  ``MELODY_HOLD + pitch`` for a held note;
* metadata columns (``[T, N_META]``): step in the beat, step in the bar (clipped to
  ``max_bar_steps - 1``), key (tonic + 12 for minor), bar length in beats (clipped to
  ``N_BAR_LENGTHS - 1``) and the chord token (:data:`NO_CHORD`, or
  ``1 + N_CHORD_QUALITIES·root + quality``; the qualities' names are
  :data:`styletx.music.chords.QUALITIES`).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

OFF, ONSET, HOLD = 0, 1, 2
N_STATES = 3
"""Accompaniment cell states."""
UNKNOWN = N_STATES
"""The state the network reads for a neighbouring cell that is being resampled too (block
updates): a value beside the three states, never a cell of the roll."""

MELODY_REST = 0
MELODY_HOLD = 129
N_MIDI_PITCHES = 128

META_BEAT_STEP, META_BAR_STEP, META_KEY, META_BAR_LEN, META_CHORD = range(5)
N_META = 5
N_KEYS = 24
"""Key codes: tonic pitch class + 12 for minor."""
N_BAR_LENGTHS = 16
"""Bar lengths the metadata tells apart: 0..15 beats (longer bars read as 15)."""
MAX_BAR_STEPS = 96
"""The default bar-step limit of the metadata (every shipped model's ``max_bar_steps``)."""
N_CHORD_QUALITIES = 8
"""Chord qualities a chord token tells apart."""
NO_CHORD = 0
"""The chord token of a frame without a chord."""
N_CHORD_TOKENS = 1 + 12 * N_CHORD_QUALITIES

Tokens = TypeVar("Tokens")  # a numpy array or a torch tensor of melody tokens


def melody_token(pitch: int, onset: bool) -> int:
    """Encode one melody cell."""
    return 1 + pitch if onset else MELODY_HOLD + pitch


def melody_pitches(tokens: Tokens) -> Tokens:
    """The pitch of every melody token (0 where it is a rest); numpy arrays and torch tensors alike."""
    return (tokens - 1) % N_MIDI_PITCHES * (tokens != MELODY_REST)  # type: ignore[operator]


def encode_melody(pitch: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """:func:`melody_token` for arrays of pitches and onset flags."""
    return np.where(onset, 1 + pitch, MELODY_HOLD + pitch)


def transpose_melody(tokens: np.ndarray, shift: int) -> np.ndarray:
    """Melody tokens moved by ``shift`` semitones; a note pushed out of MIDI range becomes a rest."""
    tokens = tokens.astype(np.int64)
    pitch = melody_pitches(tokens) + shift
    keep = (tokens != MELODY_REST) & (pitch >= 0) & (pitch < N_MIDI_PITCHES)
    return np.where(keep, encode_melody(pitch, tokens < MELODY_HOLD), MELODY_REST)


def key_code(tonic: int, minor: bool) -> int:
    """The metadata's key code: tonic pitch class, + 12 for minor."""
    return tonic % 12 + 12 * minor


def transpose_key(codes: np.ndarray, shift: int) -> np.ndarray:
    """Key codes moved by ``shift`` semitones (the mode stays)."""
    return (codes % 12 + shift) % 12 + 12 * (codes >= 12)


def chord_token(root: int, quality: int) -> int:
    """The chord token of a root pitch class and a quality index."""
    return 1 + root * N_CHORD_QUALITIES + quality


def chord_root_quality(tokens: Tokens) -> tuple[Tokens, Tokens]:
    """``(root, quality index)`` of chord tokens (meaningless where a token is :data:`NO_CHORD`);
    numpy arrays and torch tensors alike."""
    t = tokens - 1  # type: ignore[operator]
    return t // N_CHORD_QUALITIES, t % N_CHORD_QUALITIES
