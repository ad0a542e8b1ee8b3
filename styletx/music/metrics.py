"""Musical metrics on grids, used by training reports, benchmarks and model cards.

All functions take plain numpy arrays in the grid's encodings
(:mod:`styletx.music.grid`), so they work on corpus pieces and rendered outputs alike.
"""

from __future__ import annotations

import numpy as np

from styletx.music.chords import scale_mask
from styletx.music.encoding import HOLD, ONSET


def in_key_share(accomp: np.ndarray, key: np.ndarray, pitch_offset: int = 0) -> float:
    """Share of accompaniment onsets whose pitch class is in the frame's key.

    Parameters
    ----------
    accomp
        ``[T, P]`` cell states; column ``p`` is MIDI pitch ``pitch_offset + p``.
    key
        ``[T]`` key codes.
    """
    frames, cols = np.nonzero(accomp == ONSET)
    if frames.size == 0:
        return float("nan")
    masks = np.stack([scale_mask(k) for k in range(24)])
    return float(masks[key[frames], (cols + pitch_offset) % 12].mean())


def onset_beat_histogram(accomp: np.ndarray, beat_step: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """Share of accompaniment onsets at each step of the beat (sums to 1)."""
    frames, _ = np.nonzero(accomp == ONSET)
    hist = np.bincount(beat_step[frames], minlength=steps_per_beat).astype(float)
    return hist / max(hist.sum(), 1.0)


def notes_per_beat(accomp: np.ndarray, steps_per_beat: int) -> float:
    """Accompaniment onsets per quarter beat: a texture-density measure."""
    beats = accomp.shape[0] / steps_per_beat
    return float((accomp == ONSET).sum() / max(beats, 1e-9))


def polyphony(accomp: np.ndarray) -> float:
    """Mean number of sounding accompaniment notes over frames where any sounds."""
    sounding = ((accomp == ONSET) | (accomp == HOLD)).sum(axis=1)
    active = sounding[sounding > 0]
    return float(active.mean()) if active.size else 0.0


def chroma(accomp: np.ndarray, pitch_offset: int = 0) -> np.ndarray:
    """``[T, 12]`` sounding pitch classes per frame."""
    sounding = (accomp == ONSET) | (accomp == HOLD)
    out = np.zeros((accomp.shape[0], 12))
    for p in range(accomp.shape[1]):
        out[:, (p + pitch_offset) % 12] += sounding[:, p]
    return out


CHROMA_WINDOW_BEATS = 2
CHROMA_HOP_BEATS = 1


def windowed_chroma_similarity(ca: np.ndarray, cb: np.ndarray, window: int, hop: int) -> float:
    """Content preservation (Lu & Su 2018) on two ``[F, 12]`` chroma sequences of one time grid.

    Each sequence is time-smoothed by summing it over windows of ``window`` frames
    every ``hop`` frames; the cosine of the two window vectors is averaged over the
    windows where *either* side sounds, and a window where only one side sounds scores
    0 (an output that drops out, or plays where the input rests, loses content). The
    shorter sequence is padded with silence. NaN when neither ever sounds.
    """
    n = max(len(ca), len(cb))
    pa, pb = np.zeros((n, 12)), np.zeros((n, 12))
    pa[: len(ca)], pb[: len(cb)] = ca, cb
    starts = np.arange(0, max(n - window, 0) + 1, hop)
    csa, csb = np.vstack([np.zeros(12), pa.cumsum(0)]), np.vstack([np.zeros(12), pb.cumsum(0)])
    ends = np.minimum(starts + window, n)
    wa, wb = csa[ends] - csa[starts], csb[ends] - csb[starts]
    na, nb = np.linalg.norm(wa, axis=1), np.linalg.norm(wb, axis=1)
    either = (na > 0) | (nb > 0)
    if not either.any():
        return float("nan")
    both = (na > 0) & (nb > 0)
    cos = np.zeros(len(starts))
    cos[both] = (wa[both] * wb[both]).sum(1) / (na[both] * nb[both])
    return float(cos[either].mean())


def chroma_similarity(a: np.ndarray, b: np.ndarray, steps_per_beat: int, pitch_offset: int = 0) -> float:
    """Chroma content similarity of two cell rolls: 2-beat windows, 1-beat hop.

    See :func:`windowed_chroma_similarity`; the evaluation's tick-based version
    (:func:`styletx.evaluation.metrics.chroma_content`) uses the same windows.
    """
    return windowed_chroma_similarity(chroma(a, pitch_offset), chroma(b, pitch_offset),
                                      CHROMA_WINDOW_BEATS * steps_per_beat, CHROMA_HOP_BEATS * steps_per_beat)
