"""Chords: the harmony a transfer must keep, as symbols, templates and a per-frame track.

A chord is a root pitch class and one of eight qualities (the templates of the
evaluation: major, minor, 7, maj7, m7, 6, dim, m7b5). On the grid it is a token
per frame: ``0`` = no chord, ``1 + 8·root + quality``. The model reads that
track as an input and the sampler never writes it.

Estimation is template matching on a duration-weighted pitch-class profile
(melody included): the cosine to each template, a small bonus when the lowest
note is the root (the bass breaks ties such as C6 against Am7) and a smaller
one when the chord is diatonic to the key. :func:`estimate_segments` scores
each segment on its own (the evaluation's rule, one chord per half bar);
:func:`chord_track` decodes a whole piece beat by beat with a Viterbi pass that
charges for every change, more inside a bar than at a bar line, so a passing
note does not become a chord and a half-bar harmony is not split in two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from styletx.music.encoding import (
    META_BAR_LEN,
    META_BAR_STEP,
    META_CHORD,
    META_KEY,
    N_CHORD_QUALITIES,
    N_CHORD_TOKENS,
    NO_CHORD,
    ONSET,
    chord_root_quality,
    chord_token,
    melody_pitches,
)

QUALITIES: tuple[str, ...] = ("", "m", "7", "maj7", "m7", "6", "dim", "m7b5")
INTERVALS: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "6": (0, 4, 7, 9),
    "dim": (0, 3, 6),
    "m7b5": (0, 3, 6, 10),
}
FAMILY: dict[str, str] = {
    "": "major", "7": "major", "maj7": "major", "6": "major",
    "m": "minor", "m7": "minor",
    "dim": "dim", "m7b5": "dim",
}
assert len(QUALITIES) == N_CHORD_QUALITIES
NOTE_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""The one table of pitch-class names in styletx; chord, key and MMA names derive from it."""
_LETTERS = {name: pc for pc, name in enumerate(NOTE_NAMES) if len(name) == 1}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}
# Symbol suffixes users and MMA write, mapped onto the eight qualities.
_ALIASES = {
    "": "", "maj": "", "M": "", "5": "",
    "m": "m", "min": "m", "-": "m",
    "7": "7", "9": "7", "13": "7", "11": "7", "7sus": "7", "7sus4": "7", "sus": "", "sus4": "",
    "sus2": "",
    "maj7": "maj7", "M7": "maj7", "Δ": "maj7", "maj9": "maj7", "Δ7": "maj7",
    "m7": "m7", "min7": "m7", "-7": "m7", "m9": "m7", "m11": "m7",
    "6": "6", "69": "6", "m6": "m",
    "dim": "dim", "o": "dim", "dim7": "dim", "o7": "dim", "°": "dim", "°7": "dim",
    "m7b5": "m7b5", "ø": "m7b5", "ø7": "m7b5", "m7-5": "m7b5",
    "aug": "", "+": "", "7#5": "7", "7b9": "7", "7#9": "7", "aug7": "7", "mM7": "m", "m(maj7)": "m",
}
_SYMBOL = re.compile(r"^([A-Ga-g])([#b♯♭]?)(.*?)(?:/([A-Ga-g][#b♯♭]?))?$")

ROOT_BONUS = 0.06
KEY_BONUS = 0.02
MIN_WEIGHT = 1e-9


@dataclass(frozen=True)
class Chord:
    """A root pitch class and a quality (one of :data:`QUALITIES`)."""

    root: int
    quality: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.root < 12 or self.quality not in INTERVALS:
            raise ValueError(f"bad chord {self.root}, {self.quality!r}")

    @property
    def token(self) -> int:
        """The grid token ``1 + 8·root + quality index``."""
        return chord_token(self.root, QUALITIES.index(self.quality))

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root + i) % 12 for i in INTERVALS[self.quality])

    @property
    def family(self) -> str:
        """``major``, ``minor`` or ``dim``: what the evaluation compares besides the root."""
        return FAMILY[self.quality]

    @property
    def name(self) -> str:
        return NOTE_NAMES[self.root] + self.quality

    @classmethod
    def from_token(cls, token: int) -> Chord | None:
        """Inverse of :attr:`token`; ``None`` for :data:`NO_CHORD`."""
        if token == NO_CHORD:
            return None
        root, q = chord_root_quality(int(token))
        return cls(root, QUALITIES[q])

    @classmethod
    def parse(cls, symbol: str) -> Chord | None:
        """``"Dm7"``, ``"Bb7"``, ``"F#m7b5"``, ``"C/E"`` → a chord; ``"N.C."`` / ``"N"`` → ``None``.

        Extensions fold onto the nearest of the eight qualities (``C9`` → ``C7``,
        ``Csus4`` → ``C``); a slash bass is ignored. Unknown suffixes raise ``ValueError``.
        """
        s = symbol.strip()
        if s.upper() in ("N", "NC", "N.C.", "N.C", "-"):
            return None
        m = _SYMBOL.match(s)
        if not m:
            raise ValueError(f"cannot read chord symbol {symbol!r}")
        letter, accidental, suffix = m.group(1).upper(), m.group(2), m.group(3)
        root = (_LETTERS[letter] + _ACCIDENTALS[accidental]) % 12
        suffix = suffix.strip("()")
        if suffix not in _ALIASES:
            raise ValueError(f"unknown chord quality {suffix!r} in {symbol!r}")
        return cls(root, _ALIASES[suffix])


def parse_root(symbol: str) -> tuple[int, str]:
    """The root pitch class of a chord symbol and the rest: ``"F#m7b5"`` → ``(6, "m7b5")``.

    A ``b`` after the letter is a flat unless it starts ``b5`` (a flat fifth on a natural root).
    """
    letter, accidental = symbol[:1].upper(), symbol[1:2]
    if letter not in _LETTERS:
        raise ValueError(f"cannot read the root of {symbol!r}")
    if accidental and accidental in _ACCIDENTALS and not symbol[1:].startswith("b5"):
        return (_LETTERS[letter] + _ACCIDENTALS[accidental]) % 12, symbol[2:]
    return _LETTERS[letter], symbol[1:]


def _spell(pc: int, sharps: bool) -> str:
    """A pitch class's name with a sharp or a flat (naturals stay as they are)."""
    name = NOTE_NAMES[pc % 12]
    if len(name) == 1 or (name[1] == "#") == sharps:
        return name
    return NOTE_NAMES[(pc - 1) % 12] + "#" if sharps else NOTE_NAMES[(pc + 1) % 12] + "b"


def key_symbol(tonic: int, minor: bool) -> str:
    """A key as MIDI files (mido) and MMA name it: ``"Eb"``, ``"F#"``, ``"C#m"``, ``"Ebm"``.

    The tonic takes the spelling whose key signature has fewer accidentals (C♯ minor has
    four sharps, D♭ minor would have eight flats); at six either way the names are F♯
    major and E♭ minor, the usual spellings, which set the signature a file gets.
    """
    relative_major = (tonic + 3) % 12 if minor else tonic % 12
    sharps = 7 * relative_major % 12  # sharps of the sharp spelling; 12 - sharps flats otherwise
    return _spell(tonic, sharps < 6 or (sharps == 6 and not minor)) + ("m" if minor else "")


def _templates() -> np.ndarray:
    """``[96, 12]`` unit-norm binary templates, row ``token - 1``."""
    rows = []
    for root in range(12):
        for q in QUALITIES:
            row = np.zeros(12)
            for i in INTERVALS[q]:
                row[(root + i) % 12] = 1.0
            rows.append(row / np.linalg.norm(row))
    return np.array(rows)


TEMPLATES = _templates()
ROOTS = chord_root_quality(np.arange(1, N_CHORD_TOKENS))[0]  # the root of each template (token order)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
# Minor counts both the natural and the raised (harmonic/melodic) 6th and 7th:
# chorales and jazz use the leading tone constantly, and it is "in the key".
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 9, 10, 11)


def scale_mask(key_code: int) -> np.ndarray:
    """``bool [12]``: the pitch classes of a key code (tonic + 12·minor)."""
    tonic, minor = key_code % 12, key_code >= 12
    mask = np.zeros(12, dtype=bool)
    for step in MINOR_SCALE if minor else MAJOR_SCALE:
        mask[(tonic + step) % 12] = True
    return mask


def chord_scores(profile: np.ndarray, bass: int | None = None, key: int | None = None) -> np.ndarray:
    """Score of every chord token (``[97]``, token 0 = no chord) for one pitch-class profile.

    The cosine to each template, plus :data:`ROOT_BONUS` where the bass pitch class is
    the root and :data:`KEY_BONUS` where every chord tone is in ``key`` (tonic + 12·minor).
    An empty profile scores 1 for "no chord" and 0 for every chord.
    """
    out = np.zeros(N_CHORD_TOKENS)
    norm = float(np.linalg.norm(profile))
    if norm <= MIN_WEIGHT:
        out[NO_CHORD] = 1.0
        return out
    s = TEMPLATES @ (profile / norm)
    if bass is not None:
        s = s + ROOT_BONUS * (ROOTS == bass % 12)
    if key is not None:
        s = s + KEY_BONUS * _diatonic(key)
    out[1:] = s
    out[NO_CHORD] = -1.0
    return out


def _diatonic_table() -> np.ndarray:
    """``bool [24, 96]``: is every tone of chord ``token - 1`` in key code ``k``?"""
    tones = (TEMPLATES > 0).astype(int)
    return np.stack([tones @ scale_mask(k) == tones.sum(1) for k in range(24)])


def _diatonic(key: int) -> np.ndarray:
    return _DIATONIC[key]


_DIATONIC = _diatonic_table()


def estimate_segments(
    profiles: np.ndarray, basses: Sequence[int | None], key: int | None = None
) -> list[Chord | None]:
    """One chord per segment, each on its own (the evaluation's rule)."""
    return [
        Chord.from_token(int(np.argmax(chord_scores(p, b, key))))
        for p, b in zip(profiles, basses, strict=True)
    ]


def viterbi(scores: np.ndarray, change_cost: np.ndarray) -> np.ndarray:
    """Best token path through ``scores [S, 97]`` paying ``change_cost[s]`` to change at ``s``.

    Staying on a chord costs nothing; the path maximises the summed scores minus costs.
    """
    n = scores.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    back = np.zeros(scores.shape, dtype=np.int64)
    total = scores[0].copy()
    for s in range(1, n):
        best = int(np.argmax(total))
        switch = total[best] - change_cost[s]
        stay = total >= switch
        back[s] = np.where(stay, np.arange(scores.shape[1]), best)
        total = np.where(stay, total, switch) + scores[s]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(total))
    for s in range(n - 1, 0, -1):
        path[s - 1] = back[s, path[s]]
    return path


def frame_profiles(melody: np.ndarray, accomp: np.ndarray, pitch_offset: int = 0) -> np.ndarray:
    """``[T, 12]`` sounding pitch classes per frame: melody tokens plus accompaniment cells."""
    out = np.zeros((melody.shape[0], 12))
    sounding = accomp > 0
    for p in np.nonzero(sounding.any(axis=0))[0]:
        out[:, (p + pitch_offset) % 12] += sounding[:, p]
    mel = melody > 0
    pcs = melody_pitches(melody.astype(np.int64)) % 12
    out[np.nonzero(mel)[0], pcs[mel]] += 1.0
    return out


def lowest_sounding(accomp: np.ndarray, pitch_offset: int = 0) -> np.ndarray:
    """``[T]`` lowest sounding accompaniment MIDI pitch per frame, ``-1`` where none sounds."""
    sounding = accomp > 0
    low = np.argmax(sounding, axis=1) + pitch_offset
    return np.where(sounding.any(axis=1), low, -1)


HARMONIC_RHYTHMS = ("beat", "half_bar")


def segment_starts(meta: np.ndarray, steps_per_beat: int, per: str = "beat") -> np.ndarray:
    """Frames that start a chord segment: every beat, or every half bar.

    A half bar is half the bar's length in frames, rounded down (3/4: after a beat
    and a half), the evaluation's rule.
    """
    if per == "beat":
        return beat_starts(meta, steps_per_beat)
    if per != "half_bar":
        raise ValueError(f"unknown harmonic rhythm {per!r}; use one of {HARMONIC_RHYTHMS}")
    bar_frames = np.maximum(meta[:, META_BAR_LEN], 1) * steps_per_beat
    half = bar_frames // 2
    starts = np.nonzero((meta[:, META_BAR_STEP] == 0) | (meta[:, META_BAR_STEP] == half))[0]
    if starts.size == 0 or starts[0] != 0:
        starts = np.concatenate([[0], starts])
    return starts


def chord_track(
    melody: np.ndarray,
    accomp: np.ndarray,
    meta: np.ndarray,
    steps_per_beat: int,
    *,
    per: str = "beat",
    pitch_offset: int = 0,
    bar_change_cost: float = 0.05,
    beat_change_cost: float = 0.15,
) -> np.ndarray:
    """The chord token of every frame, estimated segment by segment from the full texture.

    Segments are beats or half bars (``per``, the style's harmonic rhythm).
    ``meta`` is the grid's metadata (column 1 = step in bar, column 2 = key). Each
    segment's profile weighs what sounds by its duration; its bass is the lowest
    accompaniment note sounding at its first frame, else the lowest struck at its
    first onset. Beats are decoded together by a Viterbi pass that charges for every
    change (so a passing note does not become a chord); half bars are judged each on
    its own, as the evaluation does. Segments with nothing sounding get no chord
    unless the previous one carries over (which costs nothing), so a rest inside a
    phrase keeps its harmony.
    """
    n = melody.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    starts = segment_starts(meta, steps_per_beat, per)
    bounds = np.append(starts, n)
    frame_pc = frame_profiles(melody, accomp, pitch_offset)
    low = lowest_sounding(accomp, pitch_offset)
    scores = np.zeros((len(starts), N_CHORD_TOKENS))
    onset_low = lowest_sounding(np.where(accomp == ONSET, accomp, 0), pitch_offset)
    for i, (a, b) in enumerate(pairwise(bounds)):
        prof = frame_pc[a:b].sum(axis=0)
        struck = np.nonzero(onset_low[a:b] >= 0)[0]
        bass = int(low[a]) if low[a] >= 0 else int(onset_low[a + struck[0]]) if struck.size else None
        scores[i] = chord_scores(prof, bass, int(meta[a, META_KEY]))
        if prof.sum() <= MIN_WEIGHT:
            scores[i, :] = 0.0  # silence: any chord may carry over for free
            scores[i, NO_CHORD] = 0.01
    at_bar = meta[starts, META_BAR_STEP] == 0
    cost = np.where(at_bar, bar_change_cost, beat_change_cost) if per == "beat" else np.zeros(len(starts))
    path = viterbi(scores, cost)
    return np.repeat(path, np.diff(bounds)).astype(np.int16)


def chart_track(
    chords: Sequence[tuple[int, Chord | None]], n_frames: int
) -> np.ndarray:
    """A chord track from ``(start frame, chord)`` changes (a chart), each held to the next."""
    track = np.zeros(n_frames, dtype=np.int16)
    for (start, chord), nxt in zip(chords, [*[c[0] for c in chords[1:]], n_frames], strict=True):
        track[max(start, 0) : min(nxt, n_frames)] = NO_CHORD if chord is None else chord.token
    return track


def transpose_track(track: np.ndarray, shift: int) -> np.ndarray:
    """Move every chord of a track by ``shift`` semitones (no-chord stays)."""
    return _shift_tokens(track, shift).astype(track.dtype)


def chord_tone_mask() -> np.ndarray:
    """``bool [97, 12]``: the pitch classes of each token (row 0, no chord, is empty)."""
    mask = np.zeros((N_CHORD_TOKENS, 12), dtype=bool)
    mask[1:] = TEMPLATES > 0
    return mask


# ----------------------------------------------------------------------- chord model
SMOOTHING = 0.05
"""Pseudo-count of every chord bigram: unseen progressions stay possible, but rare."""


def _shift_tokens(tokens: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    t = np.asarray(tokens, dtype=np.int64)
    root, q = chord_root_quality(t)
    return np.where(t > 0, chord_token((root + shifts) % 12, q), NO_CHORD)


def beat_starts(meta: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """Frames that start a beat (from the bar-step column), frame 0 always included."""
    starts = np.nonzero(meta[:, META_BAR_STEP] % steps_per_beat == 0)[0]
    if starts.size == 0 or starts[0] != 0:
        starts = np.concatenate([[0], starts])
    return starts


@dataclass
class ChordModel:
    """A style's harmonic habits, for harmonising a bare melody.

    Counted beat by beat on the training split, relative to the key (major and
    minor apart): how often the chord changes at a bar line and inside a bar,
    and which chord follows which when it does. Saved in the style folder beside
    the weights; it is a bigram model, small enough to read.
    """

    change_at_bar: float
    change_in_bar: float
    transitions: np.ndarray  # [2, 97, 97] counts of key-relative prev -> next at changes
    first: np.ndarray  # [2, 97] counts of the first chord

    @classmethod
    def fit(cls, metas: Sequence[np.ndarray], steps_per_beat: int) -> ChordModel:
        """Count a corpus's chord tracks (each ``meta`` column 4, keys in column 2)."""
        trans = np.zeros((2, N_CHORD_TOKENS, N_CHORD_TOKENS))
        first = np.zeros((2, N_CHORD_TOKENS))
        changes = np.zeros((2, 2))  # [at bar?, changed?]
        for meta in metas:
            starts = beat_starts(meta, steps_per_beat)
            keys = meta[starts, META_KEY]
            rel = _shift_tokens(meta[starts, META_CHORD], -(keys % 12))
            mode = (keys >= 12).astype(int)
            has = rel > 0
            if not has.any():
                continue
            i0 = int(np.argmax(has))
            first[mode[i0], rel[i0]] += 1
            for i in range(i0 + 1, len(rel)):
                if not has[i]:
                    continue
                at_bar = int(meta[starts[i], META_BAR_STEP] == 0)
                changed = int(rel[i] != rel[i - 1])
                changes[at_bar, changed] += 1
                if changed and has[i - 1]:
                    trans[mode[i], rel[i - 1], rel[i]] += 1
        rate = (changes[:, 1] + 1) / (changes.sum(1) + 2)
        return cls(float(rate[1]), float(rate[0]), trans, first)

    def to_json(self) -> str:
        """The saved form (sparse counts, JSON text); the training side writes it atomically."""
        d = {
            "change_at_bar": self.change_at_bar,
            "change_in_bar": self.change_in_bar,
            "transitions": [[int(m), int(a), int(b), float(self.transitions[m, a, b])]
                            for m, a, b in zip(*np.nonzero(self.transitions), strict=True)],
            "first": [[int(m), int(a), float(self.first[m, a])]
                      for m, a in zip(*np.nonzero(self.first), strict=True)],
        }
        return json.dumps(d) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ChordModel:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        trans = np.zeros((2, N_CHORD_TOKENS, N_CHORD_TOKENS))
        for m, a, b, c in d["transitions"]:
            trans[m, a, b] = c
        first = np.zeros((2, N_CHORD_TOKENS))
        for m, a, c in d["first"]:
            first[m, a] = c
        return cls(d["change_at_bar"], d["change_in_bar"], trans, first)

    @classmethod
    def uniform(cls) -> ChordModel:
        """No habits: every change equally likely, chords change half the bars."""
        return cls(0.5, 0.2, np.zeros((2, N_CHORD_TOKENS, N_CHORD_TOKENS)),
                   np.zeros((2, N_CHORD_TOKENS)))

    def log_transitions(self, minor: bool) -> np.ndarray:
        """``[97, 97]`` key-relative log P(next | prev, change), smoothed by :data:`SMOOTHING`."""
        counts = self.transitions[int(minor)] + SMOOTHING
        counts[:, NO_CHORD] = 0.0
        counts[np.arange(N_CHORD_TOKENS), np.arange(N_CHORD_TOKENS)] = 0.0
        with np.errstate(divide="ignore"):
            return np.log(counts / counts.sum(1, keepdims=True))


def harmonize(
    melody: np.ndarray, meta: np.ndarray, steps_per_beat: int, model: ChordModel,
    *, melody_weight: float = 6.0,
) -> np.ndarray:
    """A chord track for a bare melody: the Viterbi path of the style's chord model.

    Each beat's evidence is the cosine of the melody's pitch classes (weighted by
    duration, the next beat's at half weight so that an upbeat leans forward) to
    each chord, times ``melody_weight``; the chord model prices staying and
    changing (more at bar lines in most styles) and which chord follows which,
    relative to the key.
    """
    n = melody.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    starts = beat_starts(meta, steps_per_beat)
    bounds = np.append(starts, n)
    frame_pc = frame_profiles(melody, np.zeros((n, 0), dtype=np.uint8))
    prof = np.stack([frame_pc[a:b].sum(0) for a, b in pairwise(bounds)])
    look = prof + 0.5 * np.vstack([prof[1:], np.zeros((1, 12))])
    keys = meta[starts, META_KEY]
    S = len(starts)
    emit = np.zeros((S, N_CHORD_TOKENS))
    for i in range(S):
        sc = chord_scores(look[i], None, int(keys[i]))
        emit[i] = melody_weight * sc
        emit[i, NO_CHORD] = -np.inf
    rel_trans = {m: model.log_transitions(m) for m in (False, True)}
    rel_first = {m: np.log((model.first[int(m)] + SMOOTHING) / (model.first[int(m)] + SMOOTHING).sum())
                 for m in (False, True)}
    idx = np.arange(1, N_CHORD_TOKENS)
    total = np.full(N_CHORD_TOKENS, -np.inf)
    k0 = int(keys[0])
    total[idx] = emit[0, idx] + rel_first[k0 >= 12][_shift_tokens(idx, -(k0 % 12))]
    back = np.zeros((S, N_CHORD_TOKENS), dtype=np.int64)
    for i in range(1, S):
        key = int(keys[i])
        at_bar = meta[starts[i], META_BAR_STEP] == 0
        p_change = model.change_at_bar if at_bar else model.change_in_bar
        rel = _shift_tokens(np.arange(N_CHORD_TOKENS), -(key % 12))
        trans = rel_trans[key >= 12][np.ix_(rel, rel)] + np.log(p_change)
        np.fill_diagonal(trans, np.log(1 - p_change))
        cand = total[:, None] + trans
        back[i] = np.argmax(cand, axis=0)
        total = cand[back[i], np.arange(N_CHORD_TOKENS)] + emit[i]
    path = np.zeros(S, dtype=np.int64)
    path[-1] = int(np.argmax(total))
    for i in range(S - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return np.repeat(path, np.diff(bounds)).astype(np.int16)
