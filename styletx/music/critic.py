"""The critic behind ``--candidates N``: which of N drawn accompaniments to keep.

Every candidate is drawn for the same melody and chord track; the critic scores each
on the grid, with the same facts a musician checks first:

fit
    share of accompaniment onsets on a tone of the frame's chord (frames with a chord);
clash
    share of frames where melody and accompaniment both sound with an accompaniment
    pitch class a semitone from the melody's (the evaluation's clash, on the grid);
groove
    per bar, the onset count at each step of the bar; the bar's best cosine with the
    bars within ±4 of the same length, averaged (the evaluation's groove, on the grid).

``score = fit - 2·clash + 0.5·groove`` (:data:`WEIGHTS`): a clash costs twice a
missed chord tone, since the ear hears a rub against the tune first. The style
model's NLL is not in the score: a candidate drawn by the model is already typical of it.

Seeds (:func:`candidate_seed`): candidate 0 is drawn with the transfer's own seed, so
``--candidates 1`` gives the same bytes as no critic; candidate ``k ≥ 1`` uses the
first 32-bit word of ``SeedSequence([seed, k])``. A transfer with a fixed seed is
therefore deterministic for every N, and N+1 candidates include the first N.
``--variants``: variant 0 is the plain transfer (the seeds above); candidate ``k`` of
variant ``v ≥ 1`` uses the first word of ``SeedSequence([seed, k, v])``. ``SeedSequence``
pads its entropy with zeros, so ``[seed, k]`` is ``[seed, k, 0]`` and a ``v ≥ 1`` never
meets another variant's seeds; more variants or candidates keep the first ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from styletx.music.chords import chord_tone_mask
from styletx.music.encoding import HOLD, ONSET, melody_pitches

GROOVE_BARS = 4


@dataclass(frozen=True)
class Weights:
    fit: float = 1.0
    clash: float = 2.0
    groove: float = 0.5


WEIGHTS = Weights()


def candidate_seed(seed: int | None, k: int, variant: int = 0) -> int | None:
    """The seed of candidate ``k`` of ``variant`` (see the module docstring); ``None`` stays
    ``None`` (fresh entropy)."""
    if seed is None or (k == 0 and variant == 0):
        return seed
    words = [seed, k, variant] if variant else [seed, k]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


@dataclass(frozen=True)
class Verdict:
    fit: float
    clash: float
    groove: float
    score: float


def judge(roll: np.ndarray, melody: np.ndarray, chords: np.ndarray, bar_index: np.ndarray,
          bar_step: np.ndarray, weights: Weights = WEIGHTS) -> Verdict:
    """Score one candidate ``roll [T, 128]`` (cell states) under ``melody [T]`` tokens and ``chords [T]``."""
    frames, pitches = np.nonzero(roll == ONSET)
    chorded = chords[frames] > 0
    tones = chord_tone_mask()[chords[frames], pitches % 12]
    fit = float(tones[chorded].mean()) if chorded.any() else 1.0
    sounding = (roll == ONSET) | (roll == HOLD)
    pcs = np.zeros((roll.shape[0], 12), dtype=bool)
    for pc in range(12):
        pcs[:, pc] = sounding[:, pc::12].any(1)
    mel_on = melody > 0
    mpc = melody_pitches(melody) % 12
    both = mel_on & pcs.any(1)
    rows = np.arange(roll.shape[0])
    near = pcs[rows, (mpc + 1) % 12] | pcs[rows, (mpc - 1) % 12]
    clash = float(near[both].mean()) if both.any() else 0.0
    groove = _groove(frames, bar_index, bar_step)
    return Verdict(fit, clash, groove, weights.fit * fit - weights.clash * clash + weights.groove * groove)


def _groove(frames: np.ndarray, bar_index: np.ndarray, bar_step: np.ndarray) -> float:
    n_bars = int(bar_index[-1]) + 1 if bar_index.size else 0
    lengths = np.bincount(bar_index, minlength=n_bars)
    hists = [np.zeros(int(n)) for n in lengths]
    for f in frames:
        b = int(bar_index[f])
        hists[b][min(int(bar_step[f]), len(hists[b]) - 1)] += 1
    scores = []
    for i, h in enumerate(hists):
        if not h.any():
            continue
        best = None
        for j in range(max(0, i - GROOVE_BARS), min(n_bars, i + GROOVE_BARS + 1)):
            if j == i or len(hists[j]) != len(h):
                continue
            norm = np.linalg.norm(h) * np.linalg.norm(hists[j])
            cos = float(h @ hists[j] / norm) if norm > 0 else 0.0
            best = cos if best is None else max(best, cos)
        if best is not None:
            scores.append(best)
    return float(np.mean(scores)) if scores else 0.0
