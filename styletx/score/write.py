"""Writing a transfer as a MusicXML score that a notation program opens cleanly.

The score is built in music21 from the transfer's own notes (never from a MIDI
rendering, so no instrument changes or stacked tempo marks creep in):

* Title and composer: the input score's, else the input file's name (no composer then).
* One part per output track, each with exactly one instrument (its MIDI program); a piano
  or organ part with notes well on both sides of middle C is one part on a grand staff, a
  guitar is written in the treble clef an octave down.
* One metronome mark per tempo change, in the top part; the key signature and the
  meter with their changes in every part, on the bars of the input (a pickup stays a
  pickup).
* The melody: for a score input, its part copied as it came in (repeats unfolded:
  pitches, spelling, durations, ties, lyrics, articulations, dynamics, grace notes),
  without its chord symbols and tempo marks, which are written once elsewhere. For a
  MIDI input it is notated like the accompaniment.
* The accompaniment, from the grid notes (the performance of a MIDI file does not
  reach the notation): each onset's notes as one chord held to the next onset, gaps
  under :data:`STRAY_REST` beats filled by holding the chord, durations split and tied
  at bar lines and into writable values by music21. When the output swings (its
  off-beats fall on the triplet's last third), it is written in straight eighths with
  a "Swing" text, as lead sheets do.
* The chords the accompaniment followed, as ``<harmony>`` above the first
  accompaniment staff.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from styletx.io.files import StrPath, atomic_write
from styletx.music.charts import ChordChanges
from styletx.music.chords import Chord
from styletx.music.song import Song, Track
from styletx.music.timing import bar_starts, has_pickup, meter_map, tempo_map
from styletx.score.read import MUSICXML_SUFFIXES

STRAY_REST = Fraction(1)
"""Gaps shorter than this many beats between two chords are filled by holding the first; a
longer gap's rest starts on the next half beat."""

BASS_CLEF_BELOW = 55
"""A part whose mean pitch is below this (G3) is written in the bass clef."""

MIDDLE_C = 60
KEYBOARD_PROGRAMS = frozenset(range(8)) | frozenset(range(16, 24))
"""General MIDI pianos and organs: the programs written on a grand staff when they need one."""

GUITAR_PROGRAMS = frozenset(range(24, 32))
"""General MIDI guitars: written in the treble clef an octave down."""

GRAND_STAFF_SHARE = 0.2
"""A keyboard part with at least this share of its notes on each side of middle C is written
on a grand staff; on one staff they would hang from ledger lines."""

SWING_SHARE = 0.5
"""The output swings when more than this share of its off-beat onsets fall on the beat's last third."""

_CONTAINER = (b'<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
              b'<rootfile full-path="score.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>'
              b'</rootfiles></container>\n')


@dataclass(frozen=True)
class _Bar:
    offset: Fraction  # quarter notes from the start
    length: Fraction
    meter: tuple[int, int]
    number: int


def write_score(
    song: Song,
    tracks: list[Track],
    path: StrPath,
    *,
    melody: Track,
    chords: ChordChanges,
    force: bool = False,
    protect: list[StrPath] | None = None,
) -> Path:
    """Write ``tracks`` (the melody first) under ``song``'s maps as MusicXML, atomically.

    ``.mxl`` gives compressed MusicXML, ``.musicxml``/``.xml`` plain text. ``melody``
    is the input track the melody came from (its part is copied when the input was a
    score); ``chords`` are the changes the accompaniment followed, written as harmony.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in MUSICXML_SUFFIXES:
        raise ValueError(f"{path}: MusicXML needs a {', '.join(MUSICXML_SUFFIXES)} suffix")
    text = musicxml_text(song, tracks, melody=melody, chords=chords)
    if suffix == ".mxl":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("META-INF/container.xml", _CONTAINER)
            zf.writestr("score.musicxml", text)
        text = buf.getvalue()
    return atomic_write(path, text, force=force, protect=protect or [])


def musicxml_text(song: Song, tracks: list[Track], *, melody: Track, chords: ChordChanges) -> bytes:
    """The MusicXML document of :func:`write_score` (see the module docstring)."""
    from music21 import layout, metadata, stream
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    bars = _bars(song, melody, max((n.end for t in tracks for n in t.notes), default=0))
    swing = _swings(tracks[1:], song.resolution)
    score = stream.Score()
    md = metadata.Metadata()
    md.title = song.title or (Path(song.source).stem if song.source else "Untitled")
    if song.composer:
        md.composer = song.composer
    score.insert(0, md)
    harmony_part = next((i for i, t in enumerate(tracks) if i and not t.is_drum), 0)
    for i, track in enumerate(tracks):
        if i == 0 and _written(song, melody) is not None:
            staves = [_copied_part(_written(song, melody))]
        elif i and _grand_staff(track):
            staves = _grand_staff_parts(track, bars, song, swing=swing)
            score.insert(0, layout.StaffGroup(staves, name=track.name, symbol="brace"))
        else:
            staves = [_notated_part(track, bars, song, swing=swing and i > 0, legato=i > 0)]
        if i == 0:
            _add_tempos(staves[0], song)
            if swing:
                _add_text(staves[0], "Swing")
        if i == harmony_part:
            _add_chords(staves[0], chords, song.resolution)
        for staff in staves:
            score.insert(0, staff)
    exporter = GeneralObjectExporter(score)
    exporter.makeNotation = False  # the parts are notated already; music21's pass copies the score
    text = exporter.parse()
    if not song.composer:  # music21 signs a score without a composer "Music21"
        text = text.replace(b'<creator type="composer">Music21</creator>', b"")
    return text


def _written(song: Song, melody: Track) -> Any:
    """The input's own part of the melody, when the input was a score and the melody is a whole part."""
    if not song.notation or melody.origin is not None:
        return None
    for track, part in zip(song.tracks, song.notation, strict=True):
        if track is melody:
            return part
    return None


def _bars(song: Song, melody: Track, end_tick: int) -> list[_Bar]:
    """The bars every part is written on: the input score's, else the song's meter map."""
    written = _written(song, melody)
    if written is not None:
        out, meter = [], (4, 4)
        for i, m in enumerate(written.getElementsByClass("Measure")):
            if m.timeSignature is not None:
                meter = (m.timeSignature.numerator, m.timeSignature.denominator)
            out.append(_Bar(Fraction(m.offset), Fraction(m.duration.quarterLength), meter,
                            i + (0 if i == 0 and m.paddingLeft else 1)))
        return out
    res = song.resolution
    starts = bar_starts(song, end_tick)
    meters = meter_map(song)
    pickup = has_pickup(song)
    out = []
    for i, start in enumerate(starts):
        ts = [m for m in meters if m.tick <= start][-1]
        if pickup and i == 0 and len(starts) > 1:
            ts = [m for m in meters if m.tick <= starts[1]][-1]
        stop = starts[i + 1] if i + 1 < len(starts) else start + res * 4 * ts.numerator // ts.denominator
        out.append(_Bar(Fraction(start, res), Fraction(stop - start, res), (ts.numerator, ts.denominator),
                        i + (0 if pickup else 1)))
    return out


def _swings(tracks: list[Track], resolution: int) -> bool:
    """Whether the accompaniment's off-beats mostly fall on the beat's last third (swing)."""
    third = halves = 0
    for t in tracks:
        for n in t.notes:
            pos = Fraction(n.start % resolution, resolution)
            third += pos == Fraction(2, 3)
            halves += pos == Fraction(1, 2)
    return third > 0 and third > SWING_SHARE * (third + halves)


def _snap(q: Fraction, swing: bool) -> Fraction:
    """A time in quarters on the written grid: sixteenths and triplet eighths; swing written straight."""
    beat, pos = divmod(q, 1)
    if swing:  # 0 -> 0, 2/3 -> 1/2, 1 -> 1, linear between; then sixteenths
        two_thirds = Fraction(2, 3)
        pos = pos * 3 / 4 if pos <= two_thirds else Fraction(1, 2) + (pos - two_thirds) * 3 / 2
        return beat + Fraction(round(pos * 4), 4)
    sixteenth, triplet = Fraction(round(pos * 4), 4), Fraction(round(pos * 3), 3)
    return beat + (sixteenth if abs(sixteenth - pos) <= abs(triplet - pos) else triplet)


_Event = tuple[Fraction, Fraction, list[int]]


def _events(track: Track, resolution: int, *, swing: bool, legato: bool) -> list[_Event]:
    """The track as (start, end, pitches) chords in quarters, one per onset, held to the next onset."""
    by_start: dict[Fraction, list[tuple[Fraction, int]]] = defaultdict(list)
    for n in track.notes:
        start = _snap(Fraction(n.start, resolution), swing)
        end = max(_snap(Fraction(n.end, resolution), swing), start + Fraction(1, 4))
        by_start[start].append((end, n.pitch))
    starts = sorted(by_start)
    out = []
    for i, start in enumerate(starts):
        end = max(e for e, _ in by_start[start])
        if i + 1 < len(starts):
            nxt = starts[i + 1]
            end = min(end, nxt)
            if legato:
                end = nxt if nxt - end < STRAY_REST else min(nxt, _ceil(end, Fraction(1, 2)))
        out.append((start, end, sorted({p for _, p in by_start[start]})))
    return out


def _ceil(q: Fraction, step: Fraction) -> Fraction:
    return -(-q // step) * step


def _grand_staff(track: Track) -> bool:
    """Is ``track`` a keyboard part that reads best on a grand staff: a piano or organ program
    with at least :data:`GRAND_STAFF_SHARE` of its notes on each side of middle C?"""
    if track.is_drum or track.program not in KEYBOARD_PROGRAMS or not track.notes:
        return False
    low = sum(n.pitch < MIDDLE_C for n in track.notes) / len(track.notes)
    return min(low, 1 - low) >= GRAND_STAFF_SHARE


def _grand_staff_parts(track: Track, bars: list[_Bar], song: Song, *, swing: bool) -> list[Any]:
    """``track`` on two staves of one part: middle C and above in the treble clef, the rest in
    the bass clef, each staff's chords held to its own next onset."""
    from music21 import clef, instrument, stream

    staves = []
    for upper in (True, False):
        notes = [n for n in track.notes if (n.pitch >= MIDDLE_C) == upper]
        staves.append(_notated_part(replace(track, notes=notes), bars, song, swing=swing, legato=True,
                                    staff=stream.PartStaff(),
                                    staff_clef=clef.TrebleClef() if upper else clef.BassClef()))
    # one instrument for the part: the lower staff's is the upper's (else each note of it
    # would name an instrument of its own, and notation programs print "Instrument change")
    upper_inst, lower_inst = (s.getElementsByClass(instrument.Instrument).first() for s in staves)
    lower_inst.instrumentId = upper_inst.instrumentId
    return staves


def _notated_part(track: Track, bars: list[_Bar], song: Song, *, swing: bool, legato: bool,
                  staff: Any = None, staff_clef: Any = None) -> Any:
    """A part written from notes on ``bars``: chords split and tied at bar lines, gaps as rests.

    ``staff`` is the (empty) stream to write into, a new part by default; ``staff_clef`` the
    clef, else :func:`_clef`'s.
    """
    from music21 import chord, instrument, key, meter, note, stream, tie

    part = stream.Part() if staff is None else staff
    part.partName = track.name or "Part"
    inst = instrument.Percussion() if track.is_drum else instrument.instrumentFromMidiProgram(track.program)
    inst.partName = part.partName
    part.insert(0, inst)
    mean = sum(n.pitch for n in track.notes) / max(1, len(track.notes))
    events = _events(track, song.resolution, swing=swing, legato=legato)
    keys = {_bar_of(bars, Fraction(k.tick, song.resolution)): k for k in song.key_signatures}
    e = 0
    last_meter = None
    sharps = 0
    for b, bar in enumerate(bars):
        m = stream.Measure(number=bar.number)
        if b == 0:
            m.clef = staff_clef or _clef(track, mean)
        if bar.meter != last_meter:
            m.timeSignature = meter.TimeSignature(f"{bar.meter[0]}/{bar.meter[1]}")
            last_meter = bar.meter
        if b in keys:
            k = keys[b]
            m.insert(0, key.KeySignature(_sharps(k.tonic, k.minor)))
            sharps = _sharps(k.tonic, k.minor)
        full = Fraction(4 * bar.meter[0], bar.meter[1])
        if b == 0 and bar.length < full:
            m.paddingLeft = float(full - bar.length)
        lo, hi = bar.offset, bar.offset + bar.length
        pos = lo
        while e < len(events) and events[e][0] < hi:
            start, end, pitches = events[e]
            begin, stop = max(start, lo), min(end, hi)
            if begin > pos:
                m.insert(float(pos - lo), note.Rest(quarterLength=begin - pos))
            if stop > begin:
                spelled = [_pitch(p, sharps) for p in pitches]
                obj = chord.Chord(spelled) if len(spelled) > 1 else note.Note(spelled[0])
                obj.quarterLength = stop - begin
                if start < lo or end > hi:
                    kind = "continue" if start < lo and end > hi else "stop" if start < lo else "start"
                    obj.tie = tie.Tie(kind)
                m.insert(float(begin - lo), obj)
                pos = stop
            if end > hi:
                break
            e += 1
        if pos < hi:
            m.insert(float(pos - lo), note.Rest(quarterLength=hi - pos))
        part.insert(float(bar.offset), m)
    part.splitAtDurations(recurse=True)  # e.g. five sixteenths: a quarter tied to a sixteenth
    part.makeBeams(inPlace=True)
    return part


def _clef(track: Track, mean: float) -> Any:
    """A guitar's treble clef an octave down (guitar music is written an octave above its
    sound), else the bass clef for a low part and the treble clef for the rest."""
    from music21 import clef

    if track.program in GUITAR_PROGRAMS and not track.is_drum:
        return clef.Treble8vbClef()
    return clef.BassClef() if mean < BASS_CLEF_BELOW else clef.TrebleClef()


def _pitch(midi: int, sharps: int) -> Any:
    """A pitch spelled for the key (``sharps`` < 0: flats): flats in flat keys, sharps in sharp
    keys, else C# Eb F# Ab Bb (music21's own respelling of every chord took seconds a score)."""
    from music21 import pitch

    flats = sharps < 0
    names = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B") if flats else \
        ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B") if sharps else \
        ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
    return pitch.Pitch(f"{names[midi % 12]}{midi // 12 - 1}")


def _bar_of(bars: list[_Bar], q: Fraction) -> int:
    return max((i for i, b in enumerate(bars) if b.offset <= q), default=0)


def _sharps(tonic: int, minor: bool) -> int:
    """Sharps (positive) or flats (negative) of a key, as few as possible (F# over Gb)."""
    fifths = (7 * ((tonic + 3) % 12 if minor else tonic)) % 12
    return fifths - 12 if fifths > 6 else fifths


def _copied_part(part: Any) -> Any:
    """The input's part as it came in, less what is written once elsewhere (chords, tempi) and
    any instrument after the first.

    A note whose length no single note value spells (music21 reads some tuplet groups so:
    ``complex`` durations) is written as tied notes of its components, as MusicXML needs.
    """
    from music21 import harmony, instrument, tempo

    out = copy.deepcopy(part)
    for el in list(out.recurse().getElementsByClass((harmony.Harmony, tempo.MetronomeMark))):
        el.activeSite.remove(el)
    for el in list(out.recurse().getElementsByClass(instrument.Instrument))[1:]:
        el.activeSite.remove(el)
    out.splitAtDurations(recurse=True)
    return out


def _measure_at(part: Any, q: Fraction) -> tuple[Any, Fraction]:
    measures = list(part.getElementsByClass("Measure"))
    m = [m for m in measures if Fraction(m.offset) <= q][-1] if measures else part
    return m, q - Fraction(m.offset)


def _add_tempos(part: Any, song: Song) -> None:
    """One metronome mark per tempo change (a repeated tempo is not a change)."""
    from music21 import tempo

    last = None
    for t in tempo_map(song) if song.tempos else []:
        bpm = round(t.bpm, 2)
        if bpm == last:
            continue
        last = bpm
        m, at = _measure_at(part, Fraction(t.tick, song.resolution))
        m.insert(float(at), tempo.MetronomeMark(number=int(bpm) if bpm == int(bpm) else bpm))


def _add_text(part: Any, text: str) -> None:
    from music21 import expressions

    m, _ = _measure_at(part, Fraction(0))
    m.insert(0, expressions.TextExpression(text))


def _add_chords(part: Any, chords: ChordChanges, resolution: int) -> None:
    """The chord changes as harmony symbols (a repeated chord is not a change)."""
    from music21 import expressions, harmony

    made: dict[str, Any] = {}  # building a symbol is slow in music21; copying one is not
    last: Chord | str | None = "start"
    for tick, ch in sorted(chords, key=lambda c: c[0]):
        if ch == last or (ch is None and last == "start"):
            last = ch
            continue
        last = ch
        m, at = _measure_at(part, Fraction(tick, resolution))
        if ch is None:  # music21 writes N.C. with a root, which MuseScore prints as "CN.C."
            m.insert(float(at), expressions.TextExpression("N.C."))
            continue
        figure = _figure(ch)
        if figure not in made:
            made[figure] = harmony.ChordSymbol(figure)
            made[figure].writeAsChord = False
        m.insert(float(at), copy.deepcopy(made[figure]))


def _figure(ch: Chord) -> str:
    """A chord's name as music21 spells a symbol (``Bb7`` -> ``B-7``, ``F#m7b5`` -> ``F#m7b5``)."""
    name = ch.name
    if len(name) > 1 and name[1] == "b":
        name = name[0] + "-" + name[2:]
    return name
