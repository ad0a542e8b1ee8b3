"""A small style classifier: which style's training renderings does an accompaniment resemble?

It measures *resemblance to the training data*, not musical quality: the MMA
styles' data are rule-based renderings, so a high score means "sounds like MMA's
groove for that style", and a musically better accompaniment can score lower.

Features of a 32-beat window of a piece (:func:`window_features`), all rates or
shares so that windows of different lengths compare:

* where accompaniment onsets fall in the beat, on a 1/12-beat grid (swing and
  triplets differ from straight sixteenths);
* notes per beat and mean polyphony (log);
* the register of the onsets (octave shares) and of the lowest line;
* note durations (shares in six binary-log bins from a 32nd to a whole note);
* the share of onsets struck with a melody onset and above the melody.

The model is multinomial logistic regression in numpy (standardised features,
L2 penalty, full-batch gradient descent), trained on windows of every shipped
style's training split and checked by k-fold cross-validation with folds by
source melody, so renderings of one tune never sit on both sides. It is saved as
JSON (``checkpoints/style_classifier.json``), trained by::

    styletx eval --train-classifier -o checkpoints/style_classifier.json --seed 0
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from styletx.errors import StyleTxError
from styletx.evaluation.metrics import SAMPLES_PER_BEAT, Piece, _arrays, _melody_at, piece_metrics, sounding
from styletx.io.files import replace_file

WINDOW_BEATS = 32
CLASSIFIER_NAME = "style_classifier.json"
DURATION_EDGES = np.array([-np.inf, -2.5, -1.5, -0.5, 0.5, 1.5, np.inf])  # log2 quarter notes
OCTAVES = 8  # onset register shares: octaves 0..7 of MIDI pitch (C-1 .. B6), the rest in the last

FEATURE_NAMES: tuple[str, ...] = (
    *(f"onset_at_{k}/12" for k in range(SAMPLES_PER_BEAT)),
    "log_notes_per_beat",
    "log_polyphony",
    *(f"octave_{k}" for k in range(OCTAVES)),
    "bass_octave",
    *(f"duration_bin_{k}" for k in range(len(DURATION_EDGES) - 1)),
    "with_melody_onset",
    "above_melody",
)


def window_features(piece: Piece, start: int, stop: int) -> np.ndarray:
    """The feature vector (:data:`FEATURE_NAMES`) of the accompaniment in ticks ``[start, stop)``."""
    res = piece.resolution
    starts, ends, pitches = _arrays(piece.accomp)
    inside = (starts >= start) & (starts < stop)
    s, e, p = starts[inside], ends[inside], pitches[inside]
    beats = max((stop - start) / res, 1e-9)
    feats: list[float] = []
    pos = np.rint((s % res) * SAMPLES_PER_BEAT / res).astype(np.int64) % SAMPLES_PER_BEAT
    hist = np.bincount(pos, minlength=SAMPLES_PER_BEAT).astype(float)
    feats += list(hist / max(hist.sum(), 1.0))
    feats.append(float(np.log1p(s.size / beats)))
    a = -(-start * SAMPLES_PER_BEAT // res)
    b = -(-stop * SAMPLES_PER_BEAT // res)
    counts = (sounding(piece.accomp, res, b)[a:b] > 0).sum(1)
    active = counts[counts > 0]
    feats.append(float(np.log1p(active.mean())) if active.size else 0.0)
    octave = np.clip(p // 12, 0, OCTAVES - 1)
    reg = np.bincount(octave, minlength=OCTAVES).astype(float)
    feats += list(reg / max(reg.sum(), 1.0))
    feats.append(float(p.min()) / 12.0 if p.size else 0.0)
    dur = np.log2(np.maximum(e - s, 1) / res)
    dh = np.histogram(dur, bins=DURATION_EDGES)[0].astype(float)
    feats += list(dh / max(dh.sum(), 1.0))
    m_starts, _, _ = _arrays(piece.melody)
    feats.append(float(np.isin(s, m_starts).mean()) if s.size else 0.0)
    mel = _melody_at(piece, s)
    ok = mel >= 0
    feats.append(float((p[ok] > mel[ok]).mean()) if ok.any() else 0.0)
    return np.asarray(feats, dtype=float)


def windows(piece: Piece, beats: int = WINDOW_BEATS) -> list[tuple[int, int]]:
    """Consecutive windows of ``beats`` quarter notes; a last window shorter than half is dropped,
    but a piece shorter than one window is one window."""
    length = beats * piece.resolution
    start0, end = piece.bars[0], piece.end_tick
    out = [(a, min(a + length, end)) for a in range(start0, end, length)]
    if len(out) > 1 and out[-1][1] - out[-1][0] < length // 2:
        out.pop()
    return out


def piece_features(piece: Piece, max_windows: int | None = None) -> np.ndarray:
    """``[W, F]`` features of a piece's windows."""
    spans = windows(piece)[:max_windows]
    return np.stack([window_features(piece, a, b) for a, b in spans])


@dataclass
class StyleClassifier:
    """Multinomial logistic regression over standardised window features."""

    classes: list[str]
    mean: list[float]
    std: list[float]
    weights: list[list[float]]  # [F, C]
    bias: list[float]
    info: dict

    def proba(self, features: np.ndarray) -> np.ndarray:
        """``[W, C]`` class probabilities of feature rows."""
        z = (np.atleast_2d(features) - np.asarray(self.mean)) / np.asarray(self.std)
        return _softmax(z @ np.asarray(self.weights) + np.asarray(self.bias))

    def style_prob(self, piece: Piece, style: str) -> float:
        """Mean probability of ``style`` over the piece's 32-beat windows (NaN for an unknown style)."""
        if style not in self.classes or not piece.accomp:
            return float("nan") if style not in self.classes else 0.0
        p = self.proba(piece_features(piece))
        return float(p[:, self.classes.index(style)].mean())

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> StyleClassifier:
        return cls(**json.loads(Path(path).read_text()))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit(
    x: np.ndarray, y: np.ndarray, n_classes: int, *, l2: float = 1e-3, steps: int = 1500, lr: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit logistic regression; returns mean, std, weights ``[F, C]`` and bias ``[C]``.

    Full-batch gradient descent on the mean cross-entropy plus ``l2·|W|²/2``; with
    standardised features and this step size it converges in well under the steps given.
    """
    mean = x.mean(0)
    std = x.std(0)
    std[std < 1e-9] = 1.0
    z = (x - mean) / std
    w = np.zeros((x.shape[1], n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    for _ in range(steps):
        g = (_softmax(z @ w + b) - onehot) / len(z)
        w -= lr * (z.T @ g + l2 * w)
        b -= lr * g.sum(0)
    return mean, std, w, b


def fold_of(source_id: str, k: int) -> int:
    """Cross-validation fold of a source melody (SHA-1, so renderings of a tune share a fold)."""
    return int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % k


def cross_validate(
    x: np.ndarray, y: np.ndarray, groups: Sequence[str], n_classes: int, k: int = 5
) -> tuple[float, list[float]]:
    """k-fold accuracy over windows (folds by source) and the accuracy of each class."""
    folds = np.array([fold_of(g, k) for g in groups])
    pred = np.zeros_like(y)
    for f in range(k):
        test = folds == f
        if not test.any() or test.all():
            continue
        mean, std, w, b = fit(x[~test], y[~test], n_classes)
        pred[test] = np.argmax(((x[test] - mean) / std) @ w + b, axis=1)
    per_class = [float((pred[y == c] == c).mean()) if (y == c).any() else float("nan")
                 for c in range(n_classes)]
    return float((pred == y).mean()), per_class


PieceLoader = Callable[[], tuple[str, Piece]]  # -> (source id, piece)


def train_classifier(
    loaders: dict[str, list[PieceLoader]],
    *,
    seed: int = 0,
    pieces_per_style: int = 200,
    windows_per_piece: int = 3,
    k: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> StyleClassifier:
    """Train on up to ``pieces_per_style`` training pieces per style and cross-validate.

    ``loaders`` maps each style to callables that load one training-split piece; a
    seeded draw picks which.
    """
    classes = sorted(loaders)
    rows, labels, groups = [], [], []
    reference: dict[str, list[dict[str, float]]] = {s: [] for s in classes}
    picked = {s: random.Random(f"{seed}:{s}").sample(loaders[s], min(pieces_per_style, len(loaders[s])))
              for s in classes}
    total = sum(len(v) for v in picked.values())
    done = 0
    for c, style in enumerate(classes):
        for load in picked[style]:
            done += 1
            try:
                source, piece = load()
            except StyleTxError:  # e.g. a chorale that is not in four parts
                continue
            reference[style].append(piece_metrics(piece))
            if piece.accomp:
                feats = piece_features(piece, windows_per_piece)
                rows.append(feats)
                labels += [c] * len(feats)
                groups += [source] * len(feats)
            if progress:
                progress(done, total)
    if not rows:
        raise StyleTxError("no training windows for the style classifier")
    x, y = np.concatenate(rows), np.asarray(labels)
    accuracy, per_class = cross_validate(x, y, groups, len(classes), k)
    mean, std, w, b = fit(x, y, len(classes))
    info = {
        "cv_accuracy": accuracy,
        "cv_accuracy_per_style": dict(zip(classes, per_class, strict=True)),
        "folds": k,
        "windows": len(y),
        "windows_per_style": {s: int((y == i).sum()) for i, s in enumerate(classes)},
        "window_beats": WINDOW_BEATS,
        "pieces_per_style": pieces_per_style,
        "seed": seed,
        "features": list(FEATURE_NAMES),
        "reference": {s: _mean_rows(reference[s]) for s in classes},
        "note": "measures resemblance to each style's training renderings, not musical quality",
    }
    return StyleClassifier(classes=classes, mean=mean.tolist(), std=std.tolist(),
                           weights=w.tolist(), bias=b.tolist(), info=info)


def _mean_rows(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Per-key mean of metric rows, ignoring NaN (the style data's reference values)."""
    out = {}
    for key in dict.fromkeys(k for r in rows for k in r):
        vals = np.array([r[key] for r in rows], dtype=float)
        vals = vals[~np.isnan(vals)]
        out[key] = float(vals.mean()) if vals.size else float("nan")
    return out
