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


def chroma_similarity(a: np.ndarray, b: np.ndarray, window: int = 16, pitch_offset: int = 0) -> float:
    """Content preservation: cosine similarity of time-smoothed chroma (Lu & Su 2018).

    Both rolls are summed over non-overlapping windows of ``window`` frames; the
    cosine is averaged over windows where both sound.
    """
    ca, cb = chroma(a, pitch_offset), chroma(b, pitch_offset)
    n = min(len(ca), len(cb)) // window
    if n == 0:
        return float("nan")
    wa = ca[: n * window].reshape(n, window, 12).sum(1)
    wb = cb[: n * window].reshape(n, window, 12).sum(1)
    na, nb = np.linalg.norm(wa, axis=1), np.linalg.norm(wb, axis=1)
    ok = (na > 0) & (nb > 0)
    if not ok.any():
        return float("nan")
    return float(((wa[ok] * wb[ok]).sum(1) / (na[ok] * nb[ok])).mean())
