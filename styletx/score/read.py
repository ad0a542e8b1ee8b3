"""Reading MusicXML and MXL scores (and, through :func:`read_song`, any supported file).

A score is read in two steps: the bytes are checked and parsed here with defusedxml
(no entity expansion, no external entities, no DTD fetching), with caps on the file
size and on the size of an ``.mxl`` archive's unpacked score; only then does music21
build the score from the parsed tree. Every problem is one :class:`BadScoreError` line.

Reading rules
-------------
* Repeats (repeat bars, voltas, da capo and dal segno) are unfolded, and a note in
  :attr:`Song.read_notes` says so.
* Parts: one :class:`~styletx.music.song.Track` per score part (a piano's two staves
  are two parts), named by the part name, with the part's MIDI program. Unpitched
  percussion is left out.
* Notes: the score's own notes at sounding pitch (a transposing instrument is
  transposed), ties merged into one note, every voice of a staff in its part; chord
  symbols are not notes, and grace notes, which take no time in the notation, are
  left out of the timed notes (the written melody keeps them).
* Chord symbols (``<harmony>``) of every part, in :attr:`Song.chord_symbols`, each
  matched to the model's chords with its root as the bass (``C9`` reads as C7).
  "N.C." written as words (a direction, not a ``<harmony>``) is a no-chord symbol too.
* Maps: tempo marks, key signatures, and the meter of every bar: a bar shorter than
  its time signature (a pickup) gets a signature of its own length, as a MIDI export
  would write it.
* Times are :data:`RESOLUTION` ticks per quarter note.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import numpy as np

from styletx.errors import BadMidiError, StyleTxError
from styletx.io.files import StrPath
from styletx.io.reader import MIDI_SUFFIXES, ReadWarnings, check_song, one_line, read_capped, read_midi
from styletx.music.charts import symbol_chord
from styletx.music.song import ChordSymbol, KeySignature, Note, Song, TempoChange, TimeSignature, Track
from styletx.score.repeats import unfold

RESOLUTION = 480
"""Ticks per quarter note of a song read from a score (triplets and quintuplets are exact)."""

MUSICXML_SUFFIXES = (".musicxml", ".xml", ".mxl")
"""File endings taken as scores; ``.mxl`` is compressed MusicXML."""

SONG_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES
"""Every file ending :func:`read_song` reads, for folders (batch inputs, ``train --data``)."""

MAX_SCORE_BYTES = 16 * 1024 * 1024
"""Largest MusicXML text read, plain or unpacked from an ``.mxl`` (16 MiB; a lead sheet is
about 100 kB, a long orchestral score a few MiB). It also bounds any one text node."""

MAX_MXL_BYTES = 4 * 1024 * 1024
"""Largest ``.mxl`` archive read (4 MiB compressed)."""

MAX_DIVISIONS = 100_000
"""Largest ``<divisions>`` (ticks per quarter) accepted; exporters write 1 to 10,080."""

DEFAULT_VELOCITY = 80
"""Velocity of a score's notes that give none."""


class BadScoreError(BadMidiError):
    """The input is not a usable MusicXML score (malformed, unsafe, too large, empty, ...)."""


def read_song(src: StrPath | bytes, *, warnings: ReadWarnings | None = None) -> Song:
    """Read any supported file, MIDI or score, into a :class:`Song`: the one reader of every entry point.

    A path is read as a score when its suffix is one of :data:`MUSICXML_SUFFIXES` and as
    MIDI otherwise; bytes are told apart by their content (``MThd``, a zip, or XML).
    ``warnings`` is :func:`styletx.io.reader.read_midi`'s (scores have none to count).

    Raises
    ------
    BadMidiError
        Not a usable file (:class:`BadScoreError` for a score).
    StyleTxError
        The file cannot be read.
    """
    if isinstance(src, bytes):
        is_score = not src.startswith(b"MThd") and (src.startswith(b"PK") or src.lstrip()[:1] == b"<")
    else:
        is_score = Path(src).suffix.lower() in MUSICXML_SUFFIXES
    return read_score(src) if is_score else read_midi(src, warnings=warnings)


def read_score(src: StrPath | bytes) -> Song:
    """Read a MusicXML (``.musicxml``, ``.xml``) or MXL (``.mxl``) score into a :class:`Song`.

    See the module docstring for the rules. The song's :attr:`~Song.notation` holds each
    track's music21 part (repeats unfolded, written pitch), for writing the melody back.

    Raises
    ------
    BadScoreError
        Malformed or unsafe XML, not a partwise MusicXML score, over a size limit,
        bad ``<divisions>``, or no notes.
    StyleTxError
        The file cannot be read.
    """
    data, label = read_capped(src, MAX_SCORE_BYTES, BadScoreError, "score")
    root = _parse_xml(_unpack(data, label) if data.startswith(b"PK") else data, label)
    _check_divisions(root, label)
    score = _build(root, label)
    song = song_from_stream(score, label)
    if not isinstance(src, bytes):
        song.source = os.fspath(src)
        song.title = song.title or Path(src).stem
    return song


def song_from_stream(stream: Any, label: str = "<music21 stream>") -> Song:
    """A music21 stream (a parsed score, or one built in code) as a :class:`Song`.

    The same rules as for a file (module docstring): this is what ``styletx.transfer``
    does with a stream, instead of going through music21's MIDI rendering, which plays
    chord symbols as notes.
    """
    from music21 import stream as m21stream

    score = stream if isinstance(stream, m21stream.Score) else _as_score(stream)
    notes: list[str] = []
    try:
        unfolded = _unfold(score)
        if unfolded is not score:
            before = len(score.parts[0].getElementsByClass(m21stream.Measure))
            after = len(unfolded.parts[0].getElementsByClass(m21stream.Measure))
            notes.append(f"repeats unfolded: {before} bars become {after}")
        sounding = unfolded.toSoundingPitch(inPlace=False)
        # the maps first: the tracks then merge the sounding copy's ties in place
        tempos, meters, keys = _tempos(sounding), _meters(sounding), _keys(sounding)
        lyrics, symbols = _lyrics(sounding), _chord_symbols(sounding)
        tracks = [_track(p, i) for i, p in enumerate(sounding.parts)]
        kept = [i for i, t in enumerate(tracks) if t.notes]
        song = Song(
            resolution=RESOLUTION,
            tracks=[tracks[i] for i in kept],
            tempos=tempos,
            time_signatures=meters,
            key_signatures=keys,
            lyrics=lyrics,
            chord_symbols=symbols,
            title=_text(unfolded.metadata, "bestTitle"),
            composer=_text(unfolded.metadata, "composer"),
            notation=[unfolded.parts[i] for i in kept],
            read_notes=notes,
        )
    except StyleTxError:
        raise
    except Exception as e:  # music21 raises many types on scores it cannot interpret
        raise BadScoreError(f"{label}: music21 cannot interpret this score ({_one_line(e)})") from e
    for index, track in enumerate(song.tracks):
        track.index = index
    try:
        check_song(song, label)
    except BadMidiError as e:
        raise BadScoreError(str(e).replace("the file has", "the score has")) from e
    return song


# --------------------------------------------------------------------------- guards


def _one_line(text: object) -> str:
    return one_line(text)[:300]


def _unpack(data: bytes, label: str) -> bytes:
    """The score inside an ``.mxl`` archive, read no further than :data:`MAX_SCORE_BYTES`.

    The archive's own size claims are not trusted: the member is read in a bounded
    stream, so a zip bomb stops at the cap.
    """
    if len(data) > MAX_MXL_BYTES:
        raise BadScoreError(f"{label}: .mxl archive too large (limit {MAX_MXL_BYTES >> 20} MiB)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            name = _rootfile(zf, label)
            with zf.open(name) as member:
                text = member.read(MAX_SCORE_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError,
            NotImplementedError, RuntimeError) as e:
        raise BadScoreError(f"{label}: corrupt .mxl archive ({_one_line(e)})") from e
    if len(text) > MAX_SCORE_BYTES:
        raise BadScoreError(f"{label}: the score in the .mxl archive unpacks to more than "
                            f"{MAX_SCORE_BYTES >> 20} MiB")
    return text


def _rootfile(zf: zipfile.ZipFile, label: str) -> str:
    """The archive member holding the score: META-INF/container.xml's rootfile, else the one XML file."""
    names = zf.namelist()
    if "META-INF/container.xml" in names:
        info = zf.getinfo("META-INF/container.xml")
        with zf.open(info) as f:
            container = _parse_xml(f.read(64 * 1024 + 1)[:64 * 1024], f"{label} (container.xml)")
        for el in container.iter():
            if el.tag.rsplit("}", 1)[-1] == "rootfile" and el.get("full-path") in names:
                return str(el.get("full-path"))
    scores = [n for n in names if n.lower().endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
    if len(scores) != 1:
        raise BadScoreError(f"{label}: the .mxl archive names no score file")
    return scores[0]


def _parse_xml(data: bytes, label: str) -> Element:
    """Parse XML with defusedxml: entity declarations and external references are refused."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise BadScoreError(f"{label}: unsafe XML refused ({_one_line(e)})") from e
    except ParseError as e:
        raise BadScoreError(f"{label}: malformed or truncated XML ({_one_line(e)})") from e


def _check_divisions(root: Element, label: str) -> None:
    """Refuse what music21 would misread or choke on: not partwise, bad or missing ``<divisions>``."""
    if root.tag == "score-timewise":
        raise BadScoreError(f"{label}: timewise MusicXML is not supported; export partwise MusicXML")
    if root.tag != "score-partwise":
        raise BadScoreError(f"{label}: not a MusicXML score (root element <{_one_line(root.tag)[:40]}>, "
                            "expected <score-partwise>)")
    parts = root.findall("part")
    if not parts:
        raise BadScoreError(f"{label}: the score has no parts")
    for part in parts:
        divisions = None
        for el in part.iter():
            if el.tag == "divisions":
                try:
                    divisions = Fraction((el.text or "").strip())
                except (ValueError, ZeroDivisionError):
                    divisions = Fraction(0)
                if not 0 < divisions <= MAX_DIVISIONS:
                    raise BadScoreError(f"{label}: part {part.get('id')!r}: <divisions> must be a "
                                        f"positive number up to {MAX_DIVISIONS:,} "
                                        f"(got {_one_line(el.text)[:20]!r})")
            elif el.tag == "duration" and divisions is None:
                raise BadScoreError(f"{label}: part {part.get('id')!r} gives durations before any "
                                    "<divisions>")


def _build(root: Element, label: str) -> Any:
    """The music21 score of a checked tree."""
    from music21.musicxml.xmlToM21 import MusicXMLImporter

    try:
        importer = MusicXMLImporter()
        importer.xmlRootToScore(root, importer.stream)  # a piano's staves go into importer.stream
        return importer.stream
    except Exception as e:  # music21 raises many types on scores it cannot interpret
        raise BadScoreError(f"{label}: music21 cannot read this score ({_one_line(e)})") from e


# --------------------------------------------------------------------------- content


def _as_score(stream: Any) -> Any:
    """A bare part or stream wrapped as a one-part score, with measures."""
    from music21 import stream as m21stream

    part = stream if isinstance(stream, m21stream.Part) else m21stream.Part(stream.flatten().elements)
    if not part.hasMeasures():
        part = part.makeMeasures()
    return m21stream.Score([part])


def _unfold(score: Any) -> Any:
    """The score with its repeats unfolded (:func:`styletx.score.repeats.unfold`), or the
    score itself when it has none."""
    from music21 import bar, repeat, spanner

    flat = score.parts[0].flatten() if score.parts else score.flatten()
    marks = flat.getElementsByClass([bar.Repeat, repeat.RepeatExpression, spanner.RepeatBracket])
    if not marks and not any(isinstance(b, bar.Repeat) for m in score.parts[0].getElementsByClass("Measure")
                             for b in (m.leftBarline, m.rightBarline)):
        return score
    return unfold(score)


def _tick(offset: Any) -> int:
    return round(Fraction(offset) * RESOLUTION)


def _text(metadata: Any, name: str) -> str:
    value = getattr(metadata, name, None) if metadata is not None else None
    return _one_line(value) if value else ""


def _is_harmony(el: Any) -> bool:
    from music21 import harmony

    return isinstance(el, harmony.Harmony)


def _track(part: Any, index: int) -> Track:
    """One score part as a track of its own notes (see the module docstring).

    ``part`` is a copy made for reading (the sounding-pitch copy): its ties are merged in
    place, as a second copy of a long part costs as much again as the merge.
    """
    inst = part.getInstrument(returnDefault=True)
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    notes: list[Note] = []
    part.stripTies(inPlace=True)
    for el in part.flatten().notes:
        if _is_harmony(el) or el.duration.isGrace:
            continue
        start = _tick(el.offset)
        end = start + _tick(el.duration.quarterLength)
        velocity = el.volume.velocity if el.volume.velocity is not None else DEFAULT_VELOCITY
        for p in getattr(el, "pitches", ()):
            notes.append(Note(start, end, int(p.midi), int(min(max(velocity, 1), 127))))
    return Track(name=_one_line(part.partName or part.id or f"Part {index + 1}"),
                 program=int(program), is_drum=False, notes=sorted(notes), index=index)


def _tempos(score: Any) -> list[TempoChange]:
    """The tempo marks of every part, one per change (an unfolded repeat restates its marks)."""
    by_tick: dict[int, TempoChange] = {}
    for mm in score.flatten().getElementsByClass("MetronomeMark"):
        qpm = mm.getQuarterBPM()
        if qpm and qpm > 0:
            tick = _tick(mm.offset)
            by_tick[tick] = TempoChange(tick, round(60e6 / qpm))
    changes = [by_tick[k] for k in sorted(by_tick)]
    return [t for i, t in enumerate(changes) if i == 0 or t.us_per_quarter != changes[i - 1].us_per_quarter]


def _meters(score: Any) -> list[TimeSignature]:
    """The meter of every bar of the first part; a short bar (a pickup) gets its own length."""
    out: list[TimeSignature] = []
    ts = None
    for m in score.parts[0].getElementsByClass("Measure"):
        ts = m.timeSignature or ts
        num, den = (ts.numerator, ts.denominator) if ts is not None else (4, 4)
        groups = _additive_groups(ts)
        length = Fraction(m.duration.quarterLength)
        full = Fraction(4 * num, den)
        if m is score.parts[0].getElementsByClass("Measure").first() and 0 < length < full:
            while (length * den / 4).denominator != 1 and den < 64:
                den *= 2
            num, groups = int(length * den / 4), ()
        if not out or (out[-1].numerator, out[-1].denominator, out[-1].groups) != (num, den, groups):
            out.append(TimeSignature(_tick(m.offset), num, den, groups))
    return out


def _additive_groups(ts: Any) -> tuple[int, ...]:
    """The beat groups an additive signature writes (``3+2/4``: ``(3, 2)``), else ``()``.

    Only a signature that spells its groups counts: music21's default beaming of a plain
    5/4 is its own guess, and :func:`styletx.music.meter.rule_groups` is ours.
    """
    if ts is None or not ts.summedNumerator:
        return ()
    parts = [p.split("/") for p in ts.ratioString.split("+")]
    if any(len(p) != 2 or int(p[1]) != ts.denominator for p in parts):
        return ()
    return tuple(int(p[0]) for p in parts)


def _keys(score: Any) -> list[KeySignature]:
    out: list[KeySignature] = []
    for ks in score.parts[0].flatten().getElementsByClass("KeySignature"):
        key = ks if hasattr(ks, "tonic") else ks.asKey("major")
        entry = KeySignature(_tick(ks.offset), key.tonic.pitchClass, key.mode == "minor")
        if not out or (out[-1].tonic, out[-1].minor) != (entry.tonic, entry.minor):
            out.append(entry)
    return out


def _lyrics(score: Any) -> list[tuple[int, str]]:
    out = []
    for part in score.parts:
        for n in part.flatten().notes:
            if not _is_harmony(n) and n.lyric:
                out.append((_tick(n.offset), n.lyric))
    return sorted(out, key=lambda e: e[0])


NO_CHORD_WORDS = re.compile(r"\s*(n\.?\s*c\.?|no\s+chord)\s*", re.IGNORECASE)
"""Words that a lead sheet writes for "no chord" when it does not use a ``<harmony>`` N.C."""


def _chord_symbols(score: Any) -> list[ChordSymbol]:
    """Every part's chord symbols, in time order; "N.C." written as words counts as a no-chord."""
    from music21 import expressions, harmony

    out = []
    for part in score.parts:
        flat = part.flatten()
        out += [ChordSymbol(_tick(w.offset), "N.C.", None)
                for w in flat.getElementsByClass(expressions.TextExpression)
                if NO_CHORD_WORDS.fullmatch(w.content or "")]
        for cs in flat.getElementsByClass(harmony.ChordSymbol):
            figure = re.sub(r"(^|/)([A-G])-", r"\1\2b", _one_line(cs.figure or ""))  # music21's B- is Bb
            if isinstance(cs, harmony.NoChord) or not cs.pitches:
                out.append(ChordSymbol(_tick(cs.offset), "N.C.", None))
                continue
            profile = np.zeros(12)
            profile[[p.pitchClass for p in cs.pitches]] = 1.0
            out.append(ChordSymbol(_tick(cs.offset), figure, symbol_chord(profile, cs.root().pitchClass)))
    return sorted(out, key=lambda c: c.tick)
