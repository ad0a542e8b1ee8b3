"""Which part of a song carries the melody: every candidate scored on documented features.

Candidates
----------
Every pitched (non-drum) part with notes. A monophonic part is its own
candidate. A polyphonic part (more than :data:`MONOPHONIC_MAX_OVERLAP` of its
sounding time has two or more notes, legato overlaps aside) is offered as its
*skyline*, the highest note at each onset (:func:`styletx.music.parts.skyline`): the
top line of a chordal right hand or of a two-staff piano part is a melody, the
top line of a block-chord pad usually is not, and the features below tell them
apart.

Features and their weights (the score is their sum)
---------------------------------------------------
============  =================================================================  ==========
feature       what it measures                                                   points
============  =================================================================  ==========
name          a word for melody in the part's name (:data:`MELODY_WORDS`:         +3
              melody, lead, vocal, voice, solo, tune, theme, soprano, aria,
              canto, ...); an upper staff (right hand, RH, treble)               +1.5
              a word for accompaniment (:data:`ACCOMPANIMENT_WORDS`: bass,       -3
              drum, chord, pad, walk, arpeggio, left hand, comp, strings,
              harmony, backing, counter, ...); inner voices (alto, tenor)        -1.5
program       GM bass programs 32-39                                              -2.5
              pads and synth effects 88-103, string/choir ensembles 48-54        -1.5 / -0.5
              percussive 112-119 and sound effects 120-127                       -2 / -3
register      the top line's mean pitch against the median of all candidates     -1..+1
              (per octave), +1 for the highest candidate; below MIDI 48          +1 / -2
monophony     the part itself is monophonic (no skyline needed)                  +1
motion        share of steps (1-2 semitones) between successive notes            0..+1.5
              share of repeated pitches (over a fifth of them)                   0..-3
              share of leaps (3+ semitones) over 55 %: broken chords             0..-2
rhythm        entropy of its inter-onset intervals (rhythmic variety), 0..2 bits -0.5..+0.5
density       onsets per quarter where it plays: under 0.25 or over 4            -1 / -1.5
lyrics        lyric events on its onsets (recall) and its onsets with a lyric    0..+4
              (precision), when the file has lyrics; -1 when they are not here   -1
pattern       share of notes repeating the pitch 2-6 notes before (arpeggio,     0..-4
              ostinato, riff) above one half; such a figure gets no bonus for
              being the highest line
coverage      share of the song's bars in which it has an onset                  -0.75..+0.75
              (under a quarter of the bars)                                      -2 more
============  =================================================================  ==========

A name or a program that every candidate shares scores nothing: it says nothing about
which part is the tune (a string ensemble whose parts are all "String Ensemble 1").

The best candidate is the melody when its score is at least :data:`MIN_SCORE`;
otherwise no part clearly carries a melody and :func:`~styletx.music.parts.select_parts` raises
:class:`~styletx.errors.NoMelodyError` (the CLI then asks for ``--melody-track`` or
``--melody skyline``). The weights were set by hand on musical grounds and checked
on the labelled benchmark in ``benchmarks/melody_bench.py`` (see ``docs/melody.md``).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from styletx.music.song import Note, Song, Track

MONOPHONIC_MAX_OVERLAP = 0.2
"""A part is monophonic when at most this fraction of its sounding time has 2+ notes."""

MIN_SCORE = 1.0
"""The least score of a melody; below it, no part clearly carries one."""

MELODY_WORDS = re.compile(
    r"(?<![a-z])(melod(y|ie|ies|ia)|lead|vocals?|voices?|vox|sing(er|ing)?|solo|tune|theme|"
    r"sopran[oi]?|canto|cantus|aria|lyric|lyrics|chant)(?![a-z])",
    re.IGNORECASE,
)
"""Words in a part's name that say "this is the melody" (matched as whole words)."""

UPPER_STAFF_WORDS = re.compile(r"(?<![a-z])(right[\s_-]*hand|rh|treble|upper)(?![a-z])",
                               re.IGNORECASE)
"""Words for a keyboard's upper staff: usually, not always, where the tune is (+1.5)."""

ACCOMPANIMENT_WORDS = re.compile(
    r"(?<![a-z])(bass|basses|basso|contrabass|drums?|kit|perc(ussion)?|chords?|pads?|walk(ing)?|"
    r"arp(eggio|eggios|s)?|left[\s_-]*hand|lh|comp(ing)?|accomp(animent)?|strings?|harmony|"
    r"backing|backup|rhythm|counter|fill|fills|bell|bells|glissando|guitar[\s_-]*chords?)"
    r"(?![a-z])",
    re.IGNORECASE,
)
"""Words in a part's name that say "this is accompaniment"."""

INNER_VOICE_WORDS = re.compile(r"(?<![a-z])(alto|altus|tenor|tenore)(?![a-z])", re.IGNORECASE)
"""Inner voices of a choral texture: rarely the tune."""


@dataclass
class Candidate:
    """One possible melody: a part, or the skyline of a polyphonic part, with its score."""

    track: Track  # what would be the melody (the part itself, or its skyline)
    part: Track  # the input part it comes from
    skyline: bool
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)

    def label(self) -> str:
        """e.g. ``part 2 'Lead'`` or ``the skyline of part 0 'Piano'``."""
        base = describe_part(self.part)
        return f"the skyline of {base}" if self.skyline else base

    def why(self, top: int = 3) -> str:
        """The features that weighed most, e.g. ``name +3.0, register +2.1, lyrics +3.8``."""
        ranked = sorted(self.features.items(), key=lambda kv: -abs(kv[1]))[:top]
        return ", ".join(f"{k} {v:+.1f}" for k, v in ranked if v)


def describe_part(track: Track) -> str:
    """Name a part in messages, e.g. "part 2 'Lead'"."""
    return f"part {track.index} {track.name!r}" if track.name else f"part {track.index} (unnamed)"


def overlap_fraction(notes: Sequence[Note], resolution: int) -> float:
    """Fraction of sounding time with 2+ notes, ignoring each note's last 32nd (legato)."""
    legato = resolution // 8
    events = []
    for n in notes:
        events.append((n.start, 1))
        events.append((max(n.end - legato, n.start + 1), -1))
    events.sort()
    sounding = multi = count = 0
    prev = 0
    for tick, step in events:
        if count >= 1:
            sounding += tick - prev
        if count >= 2:
            multi += tick - prev
        count += step
        prev = tick
    return multi / sounding if sounding else 0.0


def _name_points(name: str) -> float:
    points = 0.0
    if MELODY_WORDS.search(name):
        points += 3.0
    elif UPPER_STAFF_WORDS.search(name):
        points += 1.5
    if ACCOMPANIMENT_WORDS.search(name):
        points -= 3.0
    if INNER_VOICE_WORDS.search(name):
        points -= 1.5
    return points


def _program_points(program: int) -> float:
    if 32 <= program <= 39:
        return -2.5
    if 88 <= program <= 103:
        return -1.5
    if 48 <= program <= 54:
        return -0.5
    if 112 <= program <= 119:
        return -2.0
    if program >= 120:
        return -3.0
    return 0.0


def _onsets(notes: Sequence[Note]) -> list[int]:
    return sorted({n.start for n in notes})


def _motion_points(notes: Sequence[Note]) -> tuple[float, float, float]:
    """(steps, repeats, leaps) points from successive pitches of a line."""
    pitches = [n.pitch for n in sorted(notes)]
    if len(pitches) < 2:
        return 0.0, 0.0, 0.0
    intervals = [abs(b - a) for a, b in pairwise(pitches)]
    steps = sum(1 <= i <= 2 for i in intervals) / len(intervals)
    repeats = sum(i == 0 for i in intervals) / len(intervals)
    leaps = sum(i >= 3 for i in intervals) / len(intervals)
    return (1.5 * steps, -3.0 * max(0.0, repeats - 0.2) / 0.8,
            -2.0 * max(0.0, leaps - 0.55) / 0.45)


def _rhythm_points(onsets: Sequence[int], resolution: int) -> float:
    """Entropy (bits, at most 2 counted) of the inter-onset intervals in 48ths of a quarter."""
    if len(onsets) < 3:
        return -0.5
    unit = max(1, resolution // 12)
    counts = Counter(round((b - a) / unit) for a, b in pairwise(onsets))
    total = sum(counts.values())
    entropy = -sum(c / total * math.log2(c / total) for c in counts.values())
    return min(entropy, 2.0) / 2.0 - 0.5


def _density_points(onsets: Sequence[int], resolution: int, bar_starts: Sequence[int]) -> float:
    """Onsets per quarter over the bars in which the line plays."""
    if not onsets:
        return -1.0
    played = {bisect_left(bar_starts, t + 1) for t in onsets}
    bar_ticks = (bar_starts[-1] - bar_starts[0]) / max(1, len(bar_starts) - 1) if len(
        bar_starts) > 1 else 4 * resolution
    quarters = max(1.0, len(played) * bar_ticks / resolution)
    per_quarter = len(onsets) / quarters
    if per_quarter > 4:
        return -1.5
    if per_quarter < 0.25:
        return -1.0
    return 0.0


def _near(ticks: Sequence[int], sorted_ticks: Sequence[int], tolerance: int) -> int:
    """How many of ``ticks`` lie within ``tolerance`` of one of ``sorted_ticks``."""
    hits = 0
    for t in ticks:
        i = bisect_left(sorted_ticks, t - tolerance)
        if i < len(sorted_ticks) and sorted_ticks[i] <= t + tolerance:
            hits += 1
    return hits


def _lyrics_points(onsets: Sequence[int], lyrics: Sequence[int], resolution: int) -> float:
    """Lyrics sung on this line: up to +4, or -1 when the file has lyrics and they are not here.

    Recall is the share of lyric events within a 32nd of one of the line's onsets; precision
    the share of its onsets with a lyric. A melody has both high (melismas lower the second a
    little); a busy accompaniment line catches every lyric but most of its onsets have none.
    """
    if len(lyrics) < 8 or not onsets:
        return 0.0
    tolerance = max(1, resolution // 8)
    recall = _near(lyrics, onsets, tolerance) / len(lyrics)
    precision = _near(onsets, lyrics, tolerance) / len(onsets)
    points = 4.0 * min(1.0, max(0.0, recall - 0.25) / 0.65) * min(1.0, max(0.0, precision - 0.5) / 0.4)
    return points if points > 0.5 else -1.0


def _pattern_points(notes: Sequence[Note]) -> float:
    """0 to -2 for a line that repeats a short pitch pattern (an arpeggio, an ostinato, a riff).

    The share of notes whose pitch equals the pitch 2, 3, 4 or 6 notes earlier (the best of
    these periods); melodies stay under about a half.
    """
    pitches = [n.pitch for n in sorted(notes)]
    if len(pitches) < 12:
        return 0.0
    best = max(sum(a == b for a, b in zip(pitches, pitches[k:], strict=False)) / (len(pitches) - k)
               for k in (2, 3, 4, 6))
    return -4.0 * max(0.0, best - 0.5) / 0.5


def candidates(song: Song, pitched: Sequence[Track],
               skyline: Callable[[Track, int], tuple[Track, Track]]) -> list[Candidate]:
    """Score every pitched part (or its skyline) and return them best first (ties: file order)."""
    from styletx.music.timing import bar_starts

    res = song.resolution
    # Bars up to the last onset: a stuck note (a lost note-off) must not stretch the piece.
    end = max((n.start + 1 for t in pitched for n in t.notes), default=1)
    starts = bar_starts(song, end)
    lyric_ticks = sorted(t for t, text in song.lyrics if text.strip())
    out: list[Candidate] = []
    for part in pitched:
        if not part.notes:
            continue
        mono = overlap_fraction(part.notes, res) <= MONOPHONIC_MAX_OVERLAP
        line = part if mono else skyline(part, res)[0]
        out.append(Candidate(track=line, part=part, skyline=not mono))
    if not out:
        return out
    means = [sum(n.pitch for n in c.track.notes) / len(c.track.notes) for c in out]
    median = sorted(means)[len(means) // 2]
    highest = max(means)
    n_bars = max(1, len(starts))
    # A name or program every part shares (five parts all "String Ensemble 1") says nothing
    # about which one is the melody: it scores no part.
    shared_name = len(out) > 1 and len({c.part.name.strip().casefold() for c in out}) == 1
    shared_program = len(out) > 1 and len({c.part.program for c in out}) == 1
    for c, mean in zip(out, means, strict=True):
        onsets = _onsets(c.track.notes)
        f = c.features
        f["name"] = 0.0 if shared_name else _name_points(c.part.name)
        f["program"] = 0.0 if shared_program else _program_points(c.part.program)
        f["pattern"] = _pattern_points(c.track.notes)
        register = 0.0
        if len(out) > 1:
            register = 1.0 * max(-1.0, min(1.0, (mean - median) / 12))
            register += 1.0 if mean == highest and f["pattern"] > -1.0 else 0.0
        if mean < 48:
            register -= 2.0
        f["register"] = register
        f["monophony"] = 0.0 if c.skyline else 1.0
        f["steps"], f["repeats"], f["leaps"] = _motion_points(c.track.notes)
        f["rhythm"] = _rhythm_points(onsets, res)
        f["density"] = _density_points(onsets, res, starts)
        f["lyrics"] = _lyrics_points(onsets, lyric_ticks, res)
        covered = len({bisect_left(starts, t + 1) for t in onsets}) / n_bars
        f["coverage"] = 1.5 * (min(covered, 1.0) - 0.5) - (2.0 if covered < 0.25 else 0.0)
        c.score = round(sum(f.values()), 3)
    order = {id(c): i for i, c in enumerate(out)}
    return sorted(out, key=lambda c: (-c.score, order[id(c)]))
