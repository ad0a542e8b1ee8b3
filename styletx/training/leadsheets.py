"""Lead sheets (melody + key + chord chart) drawn from music21's public-domain corpus.

They are the raw material for the MMA-rendered style corpora (see ``styletx.training.mma``):
real melodies with real (chorales) or fitted (folk tunes) harmony. Parsing the corpus
is slow, so each corpus file's lead sheets are cached as JSON under
``cache_dir()/leadsheets``. Only clean parses are cached: a tune music21 raises on is
skipped with a warning, and its file is parsed (and reported) again on the next run.

Times are in quarter-note beats from the start of bar 0. A tune with an anacrusis
keeps it at the *end* of bar 0 (``pickup`` beats long), so every bar starts at
``bar * bar_beats`` and the chart maps onto MMA's bars one to one.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from styletx.io.files import atomic_write
from styletx.music.chords import INTERVALS, NOTE_NAMES, parse_root
from styletx.paths import cache_dir

_log = logging.getLogger(__name__)

# Bump when the parsing or the chord fitter changes, so stale caches are ignored.
CACHE_VERSION = 1
MAX_BARS = 32

# MMA chord suffix -> intervals above the root (all spelled as MMA's chord table does): the
# model's qualities without the sixth chord, plus the diminished seventh of minor keys. The
# order is the fitter's order of candidates, which breaks ties between equal scores.
QUALITIES: dict[str, tuple[int, ...]] = {
    **{q: INTERVALS[q] for q in ("", "m", "dim", "7", "maj7", "m7", "m7b5")},
    "dim7": (0, 3, 6, 9),
}
# Diatonic chords per mode: (degree in semitones above the tonic, suffix, prior bonus).
# The priors are the "mild bias toward I/IV/V" of the fitter.
_DIATONIC = {
    False: [
        (0, "", 0.12), (2, "m", 0.03), (4, "m", 0.0), (5, "", 0.08), (7, "", 0.10),
        (9, "m", 0.04), (11, "dim", -0.10),
        (0, "maj7", 0.0), (2, "m7", 0.03), (4, "m7", -0.02), (5, "maj7", 0.0),
        (7, "7", 0.10), (9, "m7", 0.02), (11, "m7b5", -0.08),
    ],
    True: [
        (0, "m", 0.12), (2, "dim", -0.05), (3, "", 0.03), (5, "m", 0.08), (7, "", 0.10),
        (8, "", 0.04), (10, "", 0.02), (11, "dim", -0.10),
        (0, "m7", 0.0), (2, "m7b5", 0.0), (3, "maj7", 0.0), (5, "m7", 0.03),
        (7, "7", 0.10), (8, "maj7", 0.0), (10, "7", 0.0), (11, "dim7", -0.05),
    ],
}


@dataclass(frozen=True)
class MelodyNote:
    """One melody note; times in quarter-note beats from the start of bar 0."""

    start: float
    end: float
    pitch: int
    velocity: int = 90


@dataclass(frozen=True)
class ChordChange:
    """A chord that starts at ``beat`` (quarter beats) into bar ``bar``; ``name`` is MMA syntax."""

    bar: int
    beat: float
    name: str


@dataclass
class LeadSheet:
    """A melody with its meter, key and chord chart, ready to be rendered by MMA."""

    source_id: str  # the melody's id, e.g. "bach/bwv269"; the split is derived from it
    notes: list[MelodyNote]
    numerator: int  # 4 (4/4), 3 (3/4) or 6 (6/8)
    denominator: int
    pickup: float  # anacrusis length in beats, placed at the end of bar 0 (0 if none)
    tonic: int  # pitch class 0..11
    minor: bool
    chords: list[ChordChange]
    n_bars: int
    section: int = 0  # index of the <= 32-bar section of a longer tune
    title: str = ""

    @property
    def bar_beats(self) -> float:
        """Length of a bar in quarter-note beats."""
        return self.numerator * 4 / self.denominator

    @property
    def piece_id(self) -> str:
        """File-name-safe id of this section."""
        return f"{self.source_id.replace('/', '_')}-s{self.section}"

    def transposed(self, semitones: int) -> LeadSheet:
        """Return a copy moved by ``semitones`` (melody, key and chord roots)."""
        notes = [MelodyNote(n.start, n.end, n.pitch + semitones, n.velocity) for n in self.notes]
        chords = [ChordChange(c.bar, c.beat, transpose_chord(c.name, semitones))
                  for c in self.chords]
        return replace(self, notes=notes, chords=chords, tonic=(self.tonic + semitones) % 12)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> LeadSheet:
        d = dict(d)
        d["notes"] = [MelodyNote(**n) for n in d["notes"]]
        d["chords"] = [ChordChange(**c) for c in d["chords"]]
        return LeadSheet(**d)


def chord_name(root: int, suffix: str) -> str:
    return NOTE_NAMES[root % 12] + suffix


def transpose_chord(name: str, semitones: int) -> str:
    root, suffix = parse_root(name)
    return chord_name(root + semitones, suffix)


# ----------------------------------------------------------------------------- chord fitter


@dataclass
class _Candidate:
    root: int
    suffix: str
    prior: float
    pcs: frozenset[int] = field(default_factory=frozenset)


def _candidates(tonic: int, minor: bool, chromatic: bool) -> list[_Candidate]:
    """Diatonic chords of the key; with ``chromatic`` also every root/quality at a penalty.

    Chromatic chords are for the chorales, whose inner voices carry secondary dominants
    and borrowed chords; a bare folk melody gives too little evidence for them.
    """
    out = [
        _Candidate((tonic + deg) % 12, suf, prior,
                   frozenset((tonic + deg + i) % 12 for i in QUALITIES[suf]))
        for deg, suf, prior in _DIATONIC[minor]
    ]
    if chromatic:
        seen = {(c.root, c.suffix) for c in out}
        for root in range(12):
            for suf, ivs in QUALITIES.items():
                if (root, suf) not in seen:
                    # Secondary dominants are the commonest chromatic chords in chorales.
                    prior = -0.06 if suf in ("", "7") else -0.15
                    pcs = frozenset((root + i) % 12 for i in ivs)
                    out.append(_Candidate(root, suf, prior, pcs))
    return out


def fit_chord(
    weights: np.ndarray,
    tonic: int,
    minor: bool,
    *,
    bass: int | None = None,
    chromatic: bool = False,
    prev: str | None = None,
    cadence: str | None = None,
) -> tuple[str, float]:
    """Choose the chord that best explains a segment's weighted pitch classes.

    Score = (weight inside the chord - 0.5 * weight outside) / total weight + the chord's
    prior (I, V, IV favoured) + 0.05 for keeping the previous chord (steadier harmonic
    rhythm) + 0.15 when ``bass`` is the root. A seventh chord is only allowed when its
    seventh carries >= 15 % of the weight, so sevenths appear where the notes support them.
    ``cadence="final"`` forces the tonic triad; ``"penultimate"`` favours V/V7.

    Returns (MMA chord name, score).
    """
    total = float(weights.sum())
    if total <= 0:
        return (prev or chord_name(tonic, "m" if minor else "")), 0.0
    if cadence == "final":
        return chord_name(tonic, "m" if minor else ""), 1.0
    best, best_score = "", -math.inf
    for c in _candidates(tonic, minor, chromatic):
        ivs = QUALITIES[c.suffix]
        if len(ivs) == 4 and weights[(c.root + ivs[3]) % 12] < 0.15 * total:
            continue
        inside = sum(weights[p] for p in c.pcs)
        score = (inside - 0.5 * (total - inside)) / total + c.prior
        name = chord_name(c.root, c.suffix)
        if name == prev:
            score += 0.05
        if bass is not None:
            score += 0.15 if bass == c.root else (0.03 if bass in c.pcs else -0.1)
        if cadence == "penultimate" and c.root == (tonic + 7) % 12 and c.suffix in ("", "7"):
            score += 0.1
        if score > best_score:
            best, best_score = name, score
    return best, best_score


def _segment_weights(
    voices: Sequence[Sequence[MelodyNote]], lo: float, hi: float, beat_unit: float
) -> tuple[np.ndarray, int | None]:
    """Pitch-class weights of the notes sounding in [lo, hi), and the bass pitch class.

    Weight = sounding duration x metric weight (1.5 for an onset on the segment's start,
    1.0 on a beat, 0.6 off the beat), so long, strong-beat notes decide the chord.
    The bass is the lowest note sounding at ``lo`` in the last voice (None if one voice).
    """
    w = np.zeros(12)
    for notes in voices:
        for n in notes:
            dur = min(n.end, hi) - max(n.start, lo)
            if dur <= 0:
                continue
            if abs(n.start - lo) < 1e-6:
                metric = 1.5
            elif abs(n.start / beat_unit - round(n.start / beat_unit)) < 1e-6:
                metric = 1.0
            else:
                metric = 0.6
            w[n.pitch % 12] += dur * metric
    bass = None
    if len(voices) > 1:
        sounding = [n for n in voices[-1] if n.start <= lo + 1e-6 < n.end]
        if sounding:
            bass = min(sounding, key=lambda n: n.pitch).pitch % 12
    return w, bass


def harmonise(
    voices: Sequence[Sequence[MelodyNote]],
    n_bars: int,
    numerator: int,
    bar_beats: float,
    tonic: int,
    minor: bool,
    *,
    chromatic: bool = False,
) -> list[ChordChange]:
    """Fit a chord chart of one or two chords per bar to ``voices`` (melody alone, or SATB).

    Each bar gets one chord, or two (split at the half bar in 4/4 and 6/8, after beat 2
    in 3/4) when the halves fit clearly better (score gain > 0.25 summed over both).
    The last bar is forced to the tonic and the bar before leans to V: a cadence on I.
    """
    beat_unit = 1.5 if numerator == 6 else 1.0
    split_at = 2.0 if numerator == 3 else bar_beats / 2
    chords: list[ChordChange] = []
    prev: str | None = None
    for bar in range(n_bars):
        lo, hi = bar * bar_beats, (bar + 1) * bar_beats
        cadence = "final" if bar == n_bars - 1 else ("penultimate" if bar == n_bars - 2 else None)
        w, bass = _segment_weights(voices, lo, hi, beat_unit)
        whole, s_whole = fit_chord(w, tonic, minor, bass=bass, chromatic=chromatic, prev=prev,
                                   cadence=cadence)
        mid = lo + split_at
        w1, b1 = _segment_weights(voices, lo, mid, beat_unit)
        w2, b2 = _segment_weights(voices, mid, hi, beat_unit)
        first, s1 = fit_chord(w1, tonic, minor, bass=b1, chromatic=chromatic, prev=prev)
        second, s2 = fit_chord(w2, tonic, minor, bass=b2, chromatic=chromatic, prev=first,
                               cadence=cadence)
        if cadence != "final" and first != second and s1 + s2 > 2 * s_whole + 0.25 and w2.sum() > 0:
            chords.append(ChordChange(bar, 0.0, first))
            chords.append(ChordChange(bar, split_at, second))
            prev = second
        else:
            chords.append(ChordChange(bar, 0.0, whole))
            prev = whole
    return chords


# ----------------------------------------------------------------------------- corpus parsing

# Essen files chosen for 3/4 and 4/4 song material at a parse cost of a couple of minutes.
ESSEN_FILES = ("altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "kinder0", "erk20")


def corpus_files(collection: str) -> list[str]:
    """Corpus-relative paths of one collection: "bach", "oneill" or "essen"."""
    from music21 import corpus

    if collection == "bach":
        return list(corpus.chorales.Iterator(returnType="filename"))
    if collection == "oneill":
        paths = corpus.corpora.CoreCorpus().getPaths()
        return sorted(f"oneills1850/{Path(p).name}" for p in paths if "/oneills1850/" in str(p))
    if collection == "essen":
        return [f"essenFolksong/{name}.abc" for name in ESSEN_FILES]
    raise ValueError(f"unknown collection {collection!r}")


def _target_meter(num: int, den: int) -> tuple[int, int, float] | None:
    """Map a source meter onto one MMA can play: (numerator, denominator, bar beats).

    2/4 and 2/2 become 4/4 (two bars or one), 3/8 and 12/8 become 6/8, 6/4 becomes 3/4;
    anything else (9/8, 5/4, free meter) is skipped.
    """
    bar = num * 4 / den
    if den == 8 and num % 3 == 0 and num in (3, 6, 12):
        return 6, 8, 3.0
    if bar in (2.0, 4.0):
        return 4, 4, 4.0
    if bar in (3.0, 6.0) and den in (4, 2):
        return 3, 4, 3.0
    return None


def _notes_of(part, shift: float) -> list[MelodyNote]:
    """Monophonic notes of a music21 part (ties merged, grace notes dropped, top of chords)."""
    out = []
    flat = part.stripTies().flatten()
    for el in flat.notes:
        ql = float(el.duration.quarterLength)
        if ql <= 0:
            continue
        pitch = max(p.midi for p in el.pitches)
        start = round(float(flat.elementOffset(el)) + shift, 6)
        out.append(MelodyNote(start, round(start + ql, 6), pitch, 90))
    return out


def _regular_bars(part, bar_len: float) -> tuple[float, float] | None:
    """Return (pickup, total length) if the tune keeps a steady bar phase, else None.

    Repeat signs split bars into partial measures (2.5 + 0.5 in 6/8); that is fine as long
    as every full measure still starts on the bar grid set by the pickup. Anything else
    (odd partial bars, missing beats) would shift all later chords off the melody.
    """
    measures = list(part.getElementsByClass("Measure"))
    if len(measures) < 2:
        return None
    first = float(measures[0].duration.quarterLength)
    pickup = first if first < bar_len - 1e-6 else 0.0
    for m in measures[1:]:
        dur = float(m.duration.quarterLength)
        if dur > bar_len + 1e-6:
            return None
        phase = (float(m.offset) - pickup) / bar_len
        if abs(dur - bar_len) < 1e-6 and abs(phase - round(phase)) > 1e-6:
            return None
    return pickup, float(part.highestTime)


def _sections(sheet: LeadSheet, voices: list[list[MelodyNote]], chromatic: bool) -> list[LeadSheet]:
    """Harmonise a whole tune, then cut it at bar lines into <= 32-bar sections."""
    sheet.chords = harmonise(voices, sheet.n_bars, sheet.numerator, sheet.bar_beats,
                             sheet.tonic, sheet.minor, chromatic=chromatic)
    if sheet.n_bars <= MAX_BARS:
        return [sheet]
    n_sec = math.ceil(sheet.n_bars / MAX_BARS)
    size = math.ceil(sheet.n_bars / n_sec)
    out = []
    for k in range(n_sec):
        b0, b1 = k * size, min(sheet.n_bars, (k + 1) * size)
        lo, hi = b0 * sheet.bar_beats, b1 * sheet.bar_beats
        notes = [
            MelodyNote(round(n.start - lo, 6), round(min(n.end, hi) - lo, 6), n.pitch, n.velocity)
            for n in sheet.notes if lo - 1e-6 <= n.start < hi - 1e-6
        ]
        chords = [ChordChange(c.bar - b0, c.beat, c.name) for c in sheet.chords if b0 <= c.bar < b1]
        if notes:
            out.append(LeadSheet(sheet.source_id, notes, sheet.numerator, sheet.denominator,
                                 sheet.pickup if k == 0 else 0.0, sheet.tonic, sheet.minor,
                                 chords, b1 - b0, k, sheet.title))
    return out


def _score_to_sheets(score, source_id: str, is_chorale: bool) -> list[LeadSheet]:
    """Turn one parsed music21 score into lead sheets, or [] if it can't be used cleanly."""
    ts_list = list(score.recurse().getElementsByClass("TimeSignature"))
    if not ts_list or len({(t.numerator, t.denominator) for t in ts_list}) != 1:
        return []  # no meter, or a meter change MMA's single groove can't follow
    ts = ts_list[0]
    target = _target_meter(ts.numerator, ts.denominator)
    if target is None:
        return []
    num, den, bar_beats = target
    parts = list(score.parts)
    if not parts or (is_chorale and len(parts) != 4):
        return []
    reg = _regular_bars(parts[0], float(ts.barDuration.quarterLength))
    if reg is None:
        return []
    pickup, length = reg
    pickup = pickup % bar_beats
    shift = (bar_beats - pickup) % bar_beats
    voices = [_notes_of(p, shift) for p in (parts if is_chorale else parts[:1])]
    melody = voices[0]
    if len(melody) < 8 or any(b.start < a.end - 1e-6 for a, b in pairwise(melody)):
        return []
    n_bars = math.ceil((length + shift) / bar_beats - 1e-6)
    key = score.analyze("key")
    sheet = LeadSheet(source_id, melody, num, den, pickup, key.tonic.pitchClass,
                      key.mode == "minor", [], n_bars, 0, str(score.metadata.title or ""))
    return _sections(sheet, voices, chromatic=is_chorale)


def parse_corpus_file(path: str) -> tuple[list[LeadSheet], list[str]]:
    """Parse one corpus file (a chorale or an ABC collection) into lead sheets, uncached.

    Returns the lead sheets and, for each tune of a collection that music21 raised on
    (a malformed ABC tune, say), ``"<source id>: <error>"``; the other tunes still count.
    A file music21 cannot read at all raises its ``Music21Exception``.
    """
    from music21 import corpus, stream
    from music21.exceptions21 import Music21Exception

    parsed = corpus.parse(path)
    if path.startswith("bach/"):
        return _score_to_sheets(parsed, path, is_chorale=True), []
    prefix = "oneill" if path.startswith("oneills1850/") else f"essen/{Path(path).stem}"
    scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
    out: list[LeadSheet] = []
    failures: list[str] = []
    seen: set[str] = set()
    for i, s in enumerate(scores):
        number = s.metadata.number if s.metadata and s.metadata.number else str(i)
        source_id = f"{prefix}/{number}"
        if source_id in seen:
            continue
        seen.add(source_id)
        try:
            out.extend(_score_to_sheets(s, source_id, is_chorale=False))
        except Music21Exception as e:
            failures.append(f"{source_id}: {type(e).__name__}: {e}")
    return out, failures


def _cache_file(path: str) -> Path:
    return cache_dir() / "leadsheets" / f"v{CACHE_VERSION}" / (path.replace("/", "__") + ".json")


def load_corpus_file(path: str) -> list[LeadSheet]:
    """Lead sheets of one corpus file, from the JSON cache or parsed now.

    A parse is cached only when music21 read every tune, so a failure (perhaps of one
    music21 version) is warned about on every run instead of leaving a silent gap for good.
    """
    f = _cache_file(path)
    if f.exists():
        return [LeadSheet.from_dict(d) for d in json.loads(f.read_text())]
    from music21.exceptions21 import Music21Exception

    try:
        sheets, failures = parse_corpus_file(path)
    except Music21Exception as e:
        _log.warning("lead sheets: music21 cannot read %s (%s: %s); skipped", path, type(e).__name__, e)
        return []
    if failures:
        _log.warning("lead sheets: music21 cannot read %d tune(s) of %s, skipped: %s",
                     len(failures), path, "; ".join(failures))
        return sheets
    f.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(f, json.dumps([s.to_dict() for s in sheets]).encode(), force=True)
    return sheets


def load_leadsheets(
    collections: Iterable[str] = ("bach", "oneill", "essen"),
    *,
    paths: Sequence[str] | None = None,
    limit: int | None = None,
    jobs: int = 2,
    progress: bool = False,
) -> list[LeadSheet]:
    """Load lead sheets from whole collections, or from explicit corpus ``paths``.

    ``limit`` caps the number of lead sheets returned (files are read in order until
    it is reached), so tests can stay fast. Uncached files are parsed in ``jobs`` processes.
    """
    files = list(paths) if paths is not None else [p for c in collections for p in corpus_files(c)]
    files = list(dict.fromkeys(files))  # the chorale iterator lists some files twice
    out: list[LeadSheet] = []
    if jobs <= 1 or limit is not None:
        for p in files:
            out.extend(load_corpus_file(p))
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out
    with ProcessPoolExecutor(jobs) as pool:
        for i, sheets in enumerate(pool.map(load_corpus_file, files)):
            out.extend(sheets)
            if progress and (i + 1) % 50 == 0:
                print(f"lead sheets: {i + 1}/{len(files)} files, {len(out)} sheets", flush=True)
    return out
