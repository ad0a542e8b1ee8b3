"""A musical report card for a transfer: what a musician would check, as numbers.

Every metric here is a pure function of notes in MIDI ticks and the song's maps
(bars from the time-signature map, the key from the key map). None of them needs
the grid or the model, so they judge any transfer, including a rule-based
baseline's. The one model-dependent figure, the NLL under the style's own
network, is kept in :func:`model_nll`, which imports torch only when called.

The metrics and why each is there:

melody_exact, meta_kept
    The contract of styletx: the melody and the tempo, meter and key maps come
    out bit-identical.
chord_agreement, root_agreement
    Whether the *song* survives: one chord per half bar is estimated for input
    and output (:mod:`styletx.music.chords`: templates on a duration-weighted
    pitch-class profile of every non-drum note, melody included, the bass as a
    tiebreak), and the shares of half bars with the same root and family, and
    with the same root, are reported.
chroma
    Content preservation without any chord estimator (Lu & Su 2018): the full
    output's chroma against the full input's, summed over 2-beat windows with a
    1-beat hop, cosine averaged over windows where either sounds
    (:func:`chroma_content`).
bass_on_root, bass_on_chord_tone
    Whether the bass supports that harmony: the output's lowest accompaniment
    note at each half-bar start against the *input's* chord.
clash
    Semitone rubs between accompaniment and melody pitch classes, sampled on a
    1/12-beat grid; a wrong chord under a melody shows up here first.
groove, empty_bars
    Whether the accompaniment repeats a rhythmic pattern the way a player does:
    per bar an onset histogram on a 1/12-beat grid (so swing survives), the best
    cosine against the bars within ±4, averaged.
notes_per_beat, polyphony
    Texture, to compare with the style's training data.
in_key
    Share of accompaniment onsets in the key (minor admits the raised 6th and 7th).
parallels
    Parallel fifths and octaves between adjacent voices per 100 beats: what a
    chorale avoids and naive block chords do constantly.
above_melody
    Share of accompaniment onsets above the sounding melody note: an accompaniment
    that climbs over the tune buries it.

An independent judge, on purpose. The chords a transfer follows come from the grid
(:func:`styletx.music.chords.chord_track`: frame profiles of the quantised roll, the
lowest cell as the bass, a Viterbi path that resists changes). The evaluator builds its
own profiles and bass (:func:`segment_profiles`, :func:`segment_bass`) from the notes in
exact ticks and judges each half bar on its own, so an error in quantising, in the
grid's bass or in the smoothing shows up as lost agreement instead of being shared by
the renderer and its judge; the same code path would agree with itself by construction.
What it does share with ``music/`` is the vocabulary: the chord templates and their
scores (:func:`~styletx.music.chords.chord_scores`), the key's scale
(:func:`~styletx.music.chords.scale_mask`), key estimation and the parallels count,
so "the same chord" and "in key" mean one thing everywhere.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from styletx.io.files import StrPath, atomic_write
from styletx.music.chords import Chord, chord_scores, scale_mask
from styletx.music.grid import estimate_key
from styletx.music.metrics import CHROMA_HOP_BEATS, CHROMA_WINDOW_BEATS, windowed_chroma_similarity
from styletx.music.song import Note, Parts, Song, Track
from styletx.music.timing import bar_starts, meter_map
from styletx.music.voicing import count_parallels

if TYPE_CHECKING:  # pragma: no cover
    from styletx.styles import Style

SAMPLES_PER_BEAT = 12
"""Sample points per quarter note for clash, polyphony and the groove histograms: 1/12 of
a beat holds straight sixteenths and swung or triplet eighths alike."""

GROOVE_WINDOW_BARS = 4
"""A bar's groove is its best cosine against the bars within this many bars."""


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class Piece:
    """What the metrics see of a song: melody and accompaniment notes, bars and keys.

    Attributes
    ----------
    resolution
        Ticks per quarter note.
    melody, accomp
        The melody's notes and every accompaniment note (all non-drum parts but
        the melody, merged), sorted. Drums never count.
    bars
        Bar start ticks (from the time-signature map), then the end of the last bar.
    key_ticks, key_codes
        The key map as change ticks and key codes (tonic + 12·minor); a song without
        key signatures gets one Krumhansl-Schmuckler estimate for the whole piece.
    """

    resolution: int
    melody: tuple[Note, ...]
    accomp: tuple[Note, ...]
    bars: tuple[int, ...]
    key_ticks: tuple[int, ...]
    key_codes: tuple[int, ...]

    @property
    def end_tick(self) -> int:
        return self.bars[-1]

    @property
    def beats(self) -> float:
        """Length in quarter notes, up to the end of the last bar that holds music."""
        return (self.bars[-1] - self.bars[0]) / self.resolution

    def key_at(self, ticks: np.ndarray) -> np.ndarray:
        """Key code in force at each tick."""
        idx = np.searchsorted(np.asarray(self.key_ticks), ticks, side="right") - 1
        return np.asarray(self.key_codes)[np.clip(idx, 0, len(self.key_codes) - 1)]

    def half_bars(self) -> np.ndarray:
        """``[S, 2]`` start and end ticks of every half bar (the chord segments)."""
        b = np.asarray(self.bars, dtype=np.int64)
        mid = b[:-1] + (b[1:] - b[:-1]) // 2
        return np.stack([np.stack([b[:-1], mid], 1).ravel(), np.stack([mid, b[1:]], 1).ravel()], 1)


def piece_of(song: Song, parts: Parts, *, like: Piece | None = None) -> Piece:
    """The metrics' view of ``song`` split as ``parts``.

    ``like`` gives another piece whose bars and keys to use (an output is measured on
    its input's bars and key, so a missing key map is estimated once, from the input).
    """
    melody = tuple(sorted(parts.melody.notes))
    accomp = tuple(sorted(n for t in parts.accompaniment if not t.is_drum for n in t.notes))
    if like is not None:
        return Piece(song.resolution, melody, accomp, like.bars, like.key_ticks, like.key_codes)
    end = max((max(n.end, n.start + 1) for n in (*melody, *accomp)), default=1)
    starts = bar_starts(song, end)
    meters = meter_map(song)
    last = starts[-1]
    sig = [m for m in meters if m.tick <= last][-1]
    bar_end = last + max(1, round(song.resolution * 4 * sig.numerator / sig.denominator))
    if song.key_signatures:
        keys = sorted(song.key_signatures, key=lambda k: k.tick)
        key_ticks = tuple(k.tick for k in keys)
        key_codes = tuple(k.tonic + 12 * k.minor for k in keys)
    else:
        tonic, minor = estimate_key([*melody, *accomp])
        key_ticks, key_codes = (0,), (tonic + 12 * minor,)
    return Piece(song.resolution, melody, accomp, (*starts, bar_end), key_ticks, key_codes)


def output_parts(out: Song, melody: Track) -> Parts:
    """Find the input's melody among the output's parts, and call the rest accompaniment.

    The part with exactly the melody's notes wins, then one with its name, then
    :func:`styletx.music.parts.select_parts`' guess; drums are never accompaniment.
    """
    from styletx.music.parts import select_parts

    pitched = [t for t in out.tracks if not t.is_drum]
    drums = [t for t in out.tracks if t.is_drum]
    target = sorted(melody.notes)
    found = next((t for t in pitched if sorted(t.notes) == target), None)
    if found is None and melody.name:
        found = next((t for t in pitched if t.name == melody.name), None)
    if found is None:
        return select_parts(out)
    return Parts(found, [t for t in pitched if t is not found], drums, "matched to the input melody")


# ------------------------------------------------------------------------ helpers


def _arrays(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not notes:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    a = np.array([(n.start, n.end, n.pitch) for n in notes], dtype=np.int64)
    return a[:, 0], a[:, 1], a[:, 2]


def _sample_frames(piece: Piece) -> int:
    return -(-piece.end_tick * SAMPLES_PER_BEAT // piece.resolution)


def sounding(notes: Sequence[Note], resolution: int, n_frames: int) -> np.ndarray:
    """``int [F, 128]``: how many notes of each pitch sound at each 1/12-beat sample point.

    Sample ``k`` is at tick ``k·resolution/12``; a note sounds there when
    ``start <= tick < end`` (a zero-length note never sounds).
    """
    out = np.zeros((n_frames + 1, 128), dtype=np.int32)
    starts, ends, pitches = _arrays(notes)
    if starts.size:
        first = np.minimum(-(-starts * SAMPLES_PER_BEAT // resolution), n_frames)
        stop = np.minimum(-(-ends * SAMPLES_PER_BEAT // resolution), n_frames)
        ok = stop > first
        np.add.at(out, (first[ok], pitches[ok]), 1)
        np.add.at(out, (stop[ok], pitches[ok]), -1)
    return np.cumsum(out, axis=0)[:n_frames]


def _pitch_classes(counts: np.ndarray) -> np.ndarray:
    """``[F, 128]`` counts → ``bool [F, 12]`` sounding pitch classes."""
    padded = np.zeros((counts.shape[0], 132), dtype=counts.dtype)
    padded[:, :128] = counts
    return padded.reshape(counts.shape[0], 11, 12).sum(1) > 0


def _nan_mean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()) if arr.size else float("nan")


# ------------------------------------------------------------------------ chords


def segment_profiles(piece: Piece, segments: np.ndarray) -> np.ndarray:
    """``[S, 12]`` duration-weighted pitch-class profile of all notes (melody included)."""
    starts, ends, pitches = _arrays([*piece.melody, *piece.accomp])
    out = np.zeros((len(segments), 12))
    if starts.size == 0:
        return out
    lo = np.maximum(starts[None, :], segments[:, :1])
    hi = np.minimum(ends[None, :], segments[:, 1:])
    overlap = np.clip(hi - lo, 0, None).astype(float)  # [S, N]
    onehot = np.zeros((starts.size, 12))
    onehot[np.arange(starts.size), pitches % 12] = 1.0
    return overlap @ onehot


def segment_bass(notes: Sequence[Note], segments: np.ndarray) -> np.ndarray:
    """``[S]`` the lowest accompaniment pitch at each segment's start, ``-1`` if none.

    The lowest note sounding at the start tick; when nothing sounds there, the lowest
    note struck at the segment's first accompaniment onset (a late entry still names
    the bass). ``-1`` when the segment has no accompaniment at all.
    """
    starts, ends, pitches = _arrays(notes)
    out = np.full(len(segments), -1, dtype=np.int64)
    for i, (a, b) in enumerate(segments):
        here = (starts <= a) & (ends > a)
        if here.any():
            out[i] = pitches[here].min()
            continue
        later = (starts > a) & (starts < b)
        if later.any():
            first = starts[later].min()
            out[i] = pitches[later & (starts == first)].min()
    return out


def estimate_chords(piece: Piece, segments: np.ndarray | None = None) -> list[Chord | None]:
    """One chord per half bar (or per given segment), each judged on its own.

    The profile holds every non-drum note, melody included, weighted by the ticks it
    sounds inside the segment; the bass (:func:`segment_bass`) breaks ties between
    templates that share notes (C6 against Am7) and the key breaks the rest
    (:func:`styletx.music.chords.chord_scores`). A silent segment has no chord.
    """
    segs = piece.half_bars() if segments is None else segments
    profiles = segment_profiles(piece, segs)
    basses = segment_bass(piece.accomp, segs)
    keys = piece.key_at(segs[:, 0])
    chords: list[Chord | None] = []
    for prof, bass, key in zip(profiles, basses, keys, strict=True):
        scores = chord_scores(prof, None if bass < 0 else int(bass), int(key))
        chords.append(Chord.from_token(int(np.argmax(scores))))
    return chords


@dataclass(frozen=True)
class ChordAgreement:
    """How many half bars keep the input's chord, over the half bars where it has one."""

    chord: float  # same root and family
    root: float  # same root
    segments: int  # half bars where the input has a chord


def chord_agreement(reference: Sequence[Chord | None], other: Sequence[Chord | None]) -> ChordAgreement:
    """Share of the reference's chords matched by ``other`` (root and family; root only).

    A half bar where the reference has a chord and ``other`` has none counts as a
    miss; one where the reference has none is left out.
    """
    same = root = n = 0
    for a, b in zip(reference, other, strict=True):
        if a is None:
            continue
        n += 1
        if b is not None and b.root == a.root:
            root += 1
            same += b.family == a.family
    if n == 0:
        return ChordAgreement(float("nan"), float("nan"), 0)
    return ChordAgreement(same / n, root / n, n)


@dataclass(frozen=True)
class BassOnChord:
    root: float  # share of half bars whose bass is the chord's root
    tone: float  # ... any tone of the chord


def bass_on_chord(chords: Sequence[Chord | None], basses: np.ndarray) -> BassOnChord:
    """Share of chorded half bars whose bass pitch class is the chord's root / a chord tone.

    A half bar with a chord but no accompaniment note counts as a miss.
    """
    hits_root = hits_tone = n = 0
    for chord, bass in zip(chords, basses, strict=True):
        if chord is None:
            continue
        n += 1
        if bass < 0:
            continue
        hits_root += int(bass) % 12 == chord.root
        hits_tone += int(bass) % 12 in chord.pitch_classes
    if n == 0:
        return BassOnChord(float("nan"), float("nan"))
    return BassOnChord(hits_root / n, hits_tone / n)


def piece_chroma(piece: Piece) -> np.ndarray:
    """``[F, 12]`` sounding notes per pitch class at each 1/12-beat sample (melody included)."""
    counts = sounding([*piece.melody, *piece.accomp], piece.resolution, _sample_frames(piece))
    padded = np.zeros((counts.shape[0], 132))
    padded[:, :128] = counts
    return padded.reshape(counts.shape[0], 11, 12).sum(1)


def chroma_content(reference: Piece, other: Piece) -> float:
    """Chroma content similarity of ``other`` to ``reference``, full pieces, estimator-free.

    :func:`styletx.music.metrics.windowed_chroma_similarity` on :func:`piece_chroma`:
    2-beat windows every beat; a window where only one side sounds scores 0.
    """
    return windowed_chroma_similarity(piece_chroma(reference), piece_chroma(other),
                                      CHROMA_WINDOW_BEATS * SAMPLES_PER_BEAT,
                                      CHROMA_HOP_BEATS * SAMPLES_PER_BEAT)


# --------------------------------------------------------------- one-piece metrics


def clash(piece: Piece) -> float:
    """Share of sample points with a semitone between an accompaniment and a melody pitch class.

    Counted over the 1/12-beat sample points where both the melody and the
    accompaniment sound (elsewhere nothing can clash); NaN if there are none.
    """
    n = _sample_frames(piece)
    mel = _pitch_classes(sounding(piece.melody, piece.resolution, n))
    acc = _pitch_classes(sounding(piece.accomp, piece.resolution, n))
    both = mel.any(1) & acc.any(1)
    if not both.any():
        return float("nan")
    near = np.roll(mel, 1, axis=1) | np.roll(mel, -1, axis=1)
    return float((acc & near).any(1)[both].mean())


@dataclass(frozen=True)
class Groove:
    consistency: float  # mean best cosine of a bar's onset histogram to its neighbours'
    empty_bars: float  # share of bars without an accompaniment onset


def bar_onset_histograms(piece: Piece) -> list[np.ndarray]:
    """Per bar, accompaniment onsets counted at each 1/12-beat position of the bar."""
    starts, _, _ = _arrays(piece.accomp)
    bars = np.asarray(piece.bars, dtype=np.int64)
    out = []
    for a, b in pairwise(bars):
        length = max(1, round((b - a) * SAMPLES_PER_BEAT / piece.resolution))
        inside = starts[(starts >= a) & (starts < b)]
        pos = np.clip(np.rint((inside - a) * SAMPLES_PER_BEAT / piece.resolution).astype(np.int64),
                      0, length - 1)
        out.append(np.bincount(pos, minlength=length).astype(float))
    return out


def groove(piece: Piece, window: int = GROOVE_WINDOW_BARS) -> Groove:
    """Groove consistency: each non-empty bar's best cosine against the bars within ±``window``.

    Only bars of the same length compare (a pickup bar has no partner); an empty
    neighbour scores 0. A bar with no same-length neighbour is left out. A steady
    pattern scores 1; onsets scattered at random score low.
    """
    hists = bar_onset_histograms(piece)
    if not hists:
        return Groove(float("nan"), float("nan"))
    empty = [h.sum() == 0 for h in hists]
    scores = []
    for i, h in enumerate(hists):
        if empty[i]:
            continue
        best = None
        for j in range(max(0, i - window), min(len(hists), i + window + 1)):
            if j == i or len(hists[j]) != len(h):
                continue
            other = hists[j]
            norm = np.linalg.norm(h) * np.linalg.norm(other)
            cos = float(h @ other / norm) if norm > 0 else 0.0
            best = cos if best is None else max(best, cos)
        if best is not None:
            scores.append(best)
    return Groove(_nan_mean(scores), float(np.mean(empty)))


@dataclass(frozen=True)
class Texture:
    notes_per_beat: float  # accompaniment notes per quarter note
    polyphony: float  # mean sounding accompaniment notes where any sounds


def texture(piece: Piece) -> Texture:
    """Accompaniment density: notes per quarter note and mean polyphony where it sounds.

    Polyphony counts distinct sounding pitches: a pitch struck again while it still
    rings (MMA's strummed guitars let strings ring over their re-strikes) is one voice,
    as it is on the grid, where the later onset cuts the earlier note.
    """
    n = _sample_frames(piece)
    counts = (sounding(piece.accomp, piece.resolution, n) > 0).sum(1)
    active = counts[counts > 0]
    return Texture(len(piece.accomp) / max(piece.beats, 1e-9),
                   float(active.mean()) if active.size else 0.0)


def in_key(piece: Piece) -> float:
    """Share of accompaniment onsets whose pitch class is in the key at that tick."""
    starts, _, pitches = _arrays(piece.accomp)
    if starts.size == 0:
        return float("nan")
    masks = np.stack([scale_mask(k) for k in range(24)])
    return float(masks[piece.key_at(starts), pitches % 12].mean())


def _melody_at(piece: Piece, ticks: np.ndarray) -> np.ndarray:
    """The highest melody pitch sounding at each tick, ``-1`` where the melody rests."""
    starts, ends, pitches = _arrays(piece.melody)
    out = np.full(ticks.shape, -1, dtype=np.int64)
    if starts.size == 0 or ticks.size == 0:
        return out
    on = (starts[None, :] <= ticks[:, None]) & (ends[None, :] > ticks[:, None])
    return np.where(on.any(1), np.where(on, pitches[None, :], -1).max(1), -1)


def above_melody(piece: Piece) -> float:
    """Share of accompaniment onsets higher than the melody note sounding at that tick.

    Onsets where the melody rests are left out; NaN if none remain.
    """
    starts, _, pitches = _arrays(piece.accomp)
    mel = _melody_at(piece, starts)
    ok = mel >= 0
    if not ok.any():
        return float("nan")
    return float((pitches[ok] > mel[ok]).mean())


def voice_slices(piece: Piece) -> list[list[int]]:
    """Voices at each onset: the distinct sounding accompaniment pitches upwards, melody on top.

    One slice per distinct onset tick of melody or accompaniment; the melody's
    pitch (the highest melody note sounding, if any) is appended last whatever
    its height, so it is always the top voice.
    """
    a_starts, a_ends, a_pitches = _arrays(piece.accomp)
    m_starts, _, _ = _arrays(piece.melody)
    ticks = np.unique(np.concatenate([a_starts, m_starts]))
    mel = _melody_at(piece, ticks)
    slices = []
    for t, m in zip(ticks, mel, strict=True):
        voices = sorted(set(a_pitches[(a_starts <= t) & (a_ends > t)].tolist()))
        if m >= 0:
            voices.append(int(m))
        slices.append(voices)
    return slices


def parallels_per_100_beats(piece: Piece) -> float:
    """Parallel fifths and octaves (:func:`count_parallels`) per 100 quarter notes."""
    return 100.0 * count_parallels(voice_slices(piece)) / max(piece.beats, 1e-9)


BASS_REGISTER = 52
"""E3: a beat with an accompaniment note at or below it has a bass in the bass register."""
HELD_BEATS = 2.0


def bass_register(piece: Piece, top: int = BASS_REGISTER) -> float:
    """Share of beats (quarter notes) with an accompaniment note at or below ``top`` sounding.

    A chorale's bass sits there nearly always; a bass that climbs into the tenor for
    bars on end does not. NaN for a piece without beats.
    """
    n = _sample_frames(piece)
    low = sounding([x for x in piece.accomp if x.pitch <= top], piece.resolution, n).sum(1) > 0
    beats = n // SAMPLES_PER_BEAT
    if beats == 0:
        return float("nan")
    return float(low[: beats * SAMPLES_PER_BEAT].reshape(beats, SAMPLES_PER_BEAT).any(1).mean())


def held_long(piece: Piece, beats: float = HELD_BEATS) -> float:
    """Share of accompaniment notes held longer than ``beats`` quarter notes (pedals, ties)."""
    if not piece.accomp:
        return float("nan")
    limit = beats * piece.resolution
    return float(np.mean([n.end - n.start > limit for n in piece.accomp]))


def piece_metrics(piece: Piece) -> dict[str, float]:
    """The metrics that judge one piece on its own (input, output or training data)."""
    g = groove(piece)
    tex = texture(piece)
    return {
        "clash": clash(piece),
        "groove": g.consistency,
        "empty_bars": g.empty_bars,
        "notes_per_beat": tex.notes_per_beat,
        "polyphony": tex.polyphony,
        "in_key": in_key(piece),
        "parallels": parallels_per_100_beats(piece),
        "above_melody": above_melody(piece),
        "bass_register": bass_register(piece),
        "held_long": held_long(piece),
    }


# -------------------------------------------------------------------- transfers


def melody_exact(before: Track, after: Track) -> bool:
    """Whether the melody's notes are identical: pitches, ticks and velocities."""
    return sorted(before.notes) == sorted(after.notes)


def meta_kept(before: Song, after: Song) -> bool:
    """Whether the resolution and the tempo, meter and key maps are identical."""
    return (before.resolution == after.resolution and before.tempos == after.tempos
            and before.time_signatures == after.time_signatures
            and before.key_signatures == after.key_signatures)


def transfer_metrics(
    song_in: Song, parts_in: Parts, song_out: Song, parts_out: Parts | None = None
) -> dict[str, dict[str, Any]]:
    """Every model-free metric of one transfer, for the output and for the input itself.

    Returns ``{"output": {...}, "input": {...}}``. The output is measured on the
    input's bars and key, and its chords and bass against the input's chords; the
    input's own bass figures (bass on its own chords) say what the original did.
    """
    parts_out = parts_out or output_parts(song_out, parts_in.melody)
    p_in = piece_of(song_in, parts_in)
    p_out = piece_of(song_out, parts_out, like=p_in)
    segs = p_in.half_bars()
    c_in, c_out = estimate_chords(p_in, segs), estimate_chords(p_out, segs)
    agree = chord_agreement(c_in, c_out)
    bass_out = bass_on_chord(c_in, segment_bass(p_out.accomp, segs))
    bass_in = bass_on_chord(c_in, segment_bass(p_in.accomp, segs))
    out = {
        "melody_exact": float(melody_exact(parts_in.melody, parts_out.melody)),
        "meta_kept": float(meta_kept(song_in, song_out)),
        "chord_agreement": agree.chord,
        "root_agreement": agree.root,
        "chroma": chroma_content(p_in, p_out),
        "bass_on_root": bass_out.root,
        "bass_on_chord_tone": bass_out.tone,
        **piece_metrics(p_out),
    }
    inp = {
        "chord_agreement": 1.0 if agree.segments else float("nan"),
        "root_agreement": 1.0 if agree.segments else float("nan"),
        "chroma": 1.0,
        "bass_on_root": bass_in.root,
        "bass_on_chord_tone": bass_in.tone,
        "half_bars_with_chord": float(agree.segments),
        **piece_metrics(p_in),
    }
    return {"output": out, "input": inp}


# ------------------------------------------------------------------- the report


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is shown: its label, what stands beside it, and what good looks like."""

    key: str
    label: str
    beside: str  # "input", "data" or "" (nothing meaningful to compare with)
    good: str


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("melody_exact", "melody exact", "", "1: the melody is bit-identical"),
    MetricInfo("meta_kept", "maps kept", "", "1: tempo, meter, key maps and resolution unchanged"),
    MetricInfo("chord_agreement", "chord agreement", "",
               "near 1: each half bar keeps the input's chord (root and family)"),
    MetricInfo("root_agreement", "root agreement", "", "near 1: each half bar keeps the chord's root"),
    MetricInfo("chroma", "chroma similarity", "",
               "high: the full output's chroma follows the input's (2-beat windows, 1-beat hop)"),
    MetricInfo("bass_on_root", "bass on root", "input",
               "high: the bass plays the input chord's root at most half-bar starts"),
    MetricInfo("bass_on_chord_tone", "bass on chord tone", "input",
               "near 1: the bass is at least a tone of the input chord"),
    MetricInfo("clash", "clash", "input", "no higher than the input's: few semitone rubs with the melody"),
    MetricInfo("groove", "groove consistency", "data",
               "near the style data's: bars repeat a rhythmic pattern"),
    MetricInfo("empty_bars", "empty bars", "data", "near 0: the accompaniment does not drop out"),
    MetricInfo("notes_per_beat", "notes per beat", "data", "near the style data's density"),
    MetricInfo("polyphony", "polyphony", "data", "near the style data's: as many notes at once"),
    MetricInfo("in_key", "onsets in key", "input", "high, near the input's"),
    MetricInfo("parallels", "parallels /100 beats", "input",
               "low (real chorales about 0.16; naive block chords about 3)"),
    MetricInfo("above_melody", "above melody", "data",
               "near the style data's: the accompaniment stays under the tune"),
    MetricInfo("bass_register", "bass register", "data",
               "near the data's: share of beats with an accompaniment note at or below E3"),
    MetricInfo("held_long", "held > 2 beats", "data",
               "near the data's: share of accompaniment notes held longer than two beats"),
    MetricInfo("style_prob", "style probability", "",
               "high: the texture resembles the style's training renderings (not quality)"),
    MetricInfo("nll", "NLL (nats/frame)", "data", "near the data's: the model finds the output typical"),
)


def format_report(
    output: dict[str, float], beside: dict[str, dict[str, float]], title: str = ""
) -> str:
    """The report card as text: one line per metric, the comparison beside it, what good is.

    ``beside`` maps ``"input"`` and ``"data"`` to their values (either may be empty).
    """
    lines = [title] if title else []
    lines.append(f"{'metric':<22} {'output':>8} {'beside':>14}  good")
    for m in METRICS:
        if m.key not in output:
            continue
        value = _fmt(output[m.key])
        ref = ""
        if m.beside:
            # The preferred comparison, else the other one when only it is known.
            for kind in (m.beside, "data" if m.beside == "input" else "input"):
                if m.key in beside.get(kind, {}):
                    ref = f"{kind} {_fmt(beside[kind][m.key])}"
                    break
        lines.append(f"{m.label:<22} {value:>8} {ref:>14}  {m.good}")
    return "\n".join(lines)


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.1f}"


def plot_report(
    output: dict[str, float], beside: dict[str, dict[str, float]], path: StrPath, title: str = "",
    *, force: bool = False, protect: Iterable[StrPath] = (),
) -> Path:
    """Draw the report card as grouped horizontal bars (output, input, data) into a PNG.

    Written atomically (:func:`~styletx.io.files.atomic_write`), never over ``protect``.
    """
    # a bare Figure draws with Agg by itself: no pyplot, so a notebook's backend is left alone
    from matplotlib.figure import Figure

    shown = [m for m in METRICS if m.key in output and m.key not in ("nll",)]
    kinds = [("output", output, "tab:blue"), ("input", beside.get("input", {}), "tab:gray"),
             ("data", beside.get("data", {}), "tab:orange")]
    fig = Figure(figsize=(8, 0.45 * len(shown) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(shown))
    for i, (name, values, colour) in enumerate(kinds):
        vals = [values.get(m.key, float("nan")) for m in shown]
        ax.barh(y + (i - 1) * 0.27, vals, height=0.25, color=colour, label=name)
    ax.set_yticks(y, [m.label for m in shown])
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return atomic_write(path, buf.getvalue(), force=force, protect=protect)


# ---------------------------------------------------------------- the model's NLL


def model_nll(style: Style, song: Song, parts: Parts) -> float:
    """The accompaniment's NLL under ``style``'s network, in nats per frame.

    The song is gridded as a transfer grids it (:meth:`Style.grid <styletx.styles.Style.grid>`:
    the style's harmonic rhythm included) and scored by
    :func:`styletx.training.train.frame_nll`, every other bar hidden and scored.
    """
    from styletx.training.corpus import piece_from_grid
    from styletx.training.train import frame_nll

    piece = piece_from_grid("eval", "eval", style.grid(song, parts), style.model.cfg.max_bar_steps,
                            split="test")
    return frame_nll(style.model, [piece])
