"""The real-input benchmark set: pieces a musician brings, none rendered by MMA or trained on.

:data:`PIECES` is the fixed list (committed before any fix that the bench measures):
five kinds from music21's core corpus, each with its source path and licence:

* ``chorale``: Bach chorales whose id :func:`~styletx.training.splits.split_of` puts in
  the valid or test split (the bach model and every MMA corpus train on the rest);
* ``piano``: piano solo pieces (the melody is the right hand's skyline);
* ``song``: songs and arias with a piano part (the voice, or the solo instrument, is the melody);
* ``quartet``: string quartet movements (the first violin is the melody);
* ``leadsheet``: lead sheets, their chord symbols written as a held block-chord part.

None of them is an O'Neill or Essen tune or a chorale soprano of a training split,
the melodies the MMA corpora render (:mod:`styletx.training.leadsheets`).
:func:`build_real_set` (``styletx eval --build-real``) parses each one once and
writes its first :data:`BARS` bars as a MIDI file under ``<cache>/real``, with a
``manifest.json`` that names the melody track, the kind, the meter, the source and
the licence. The bench only reads those files; nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from styletx.errors import StyleTxError
from styletx.io.files import replace_file
from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes
from styletx.music.parts import select_parts, skyline
from styletx.music.song import KeySignature, Note, Parts, Song, TempoChange, TimeSignature, Track
from styletx.paths import cache_dir
from styletx.training.splits import split_of

_log = logging.getLogger(__name__)

BARS = 16
"""Bars kept of each piece (a pickup counts as one), as the MMA-rendering bench crops its inputs."""
RESOLUTION = 480
LICENCE = ("music21 core corpus (BSD-3-Clause distribution, music21 10.x); "
           "the work itself is in the public domain")
CHORALES = 20
"""Chorales taken: the first of the valid and test splits in music21's order."""


@dataclass(frozen=True)
class RealPiece:
    """One piece of the set: a music21 corpus path and how its melody is found.

    ``melody`` is ``"part N"`` (that part is the tune), ``"skyline"`` (the top line of
    the merged parts, by :func:`styletx.music.parts.skyline`) or ``"leadsheet"`` (the
    only part; its chord symbols become the accompaniment).
    """

    piece_id: str
    kind: str
    path: str
    melody: str
    score: int = 0  # which score of an opus (an ABC collection)

    @property
    def file(self) -> str:
        return self.piece_id.replace("/", "_") + ".mid"


def _quartets() -> list[RealPiece]:
    movements = [("haydn/opus1no1", 5), ("haydn/opus74no1", 4), ("mozart/k80", 4),
                 ("mozart/k155", 3), ("mozart/k156", 4)]
    return [RealPiece(f"{work}/m{i}", "quartet", f"{work}/movement{i}.mxl", "part 0")
            for work, n in movements for i in range(1, n + 1)]


PIECES: tuple[RealPiece, ...] = (
    # piano solo
    RealPiece("joplin/maple_leaf_rag", "piano", "joplin/maple_leaf_rag.mxl", "skyline"),
    RealPiece("chopin/mazurka06-2", "piano", "chopin/mazurka06-2.krn", "skyline"),
    RealPiece("verdi/la_donna_e_mobile", "piano", "verdi/laDonnaEMobile.mxl", "skyline"),
    RealPiece("mozart/k545_m1", "piano", "mozart/k545/movement1_exposition.mxl", "skyline"),
    *(RealPiece(f"schumann_clara/polonaise_op1n{i}", "piano",
                f"schumann_clara/polonaise_op1n{i}.mxl", "skyline") for i in range(1, 5)),
    RealPiece("cpebach/h186", "piano", "cpebach/h186.mxl", "skyline"),
    RealPiece("schoenberg/op19_2", "piano", "schoenberg/opus19/movement2.mxl", "skyline"),
    RealPiece("schoenberg/op19_6", "piano", "schoenberg/opus19/movement6.mxl", "skyline"),
    # songs and arias with piano (and one solo with piano)
    RealPiece("schubert/lindenbaum", "song", "schubert/Lindenbaum.xml", "part 0"),
    RealPiece("schumann_robert/dichterliebe_2", "song", "schumann_robert/dichterliebe_no2.xml", "part 0"),
    RealPiece("handel/lascia_chio_pianga", "song", "handel/rinaldo/Lascia_chio_pianga.mxl", "part 0"),
    RealPiece("liliuokalani/aloha_oe", "song", "liliuokalani/aloha_oe.mxl", "part 4"),
    RealPiece("johnson/lift_every_voice", "song", "johnson_j_r/lift_every_voice.mxl", "part 0"),
    RealPiece("beach/prayer_of_a_tired_child", "song", "beach/prayer_of_a_tired_child.musicxml", "part 0"),
    RealPiece("webern/dormi_jesu", "song", "webern/webern_dormi_jesu_op_16_no_2.mxl", "part 0"),
    RealPiece("weber/concertino_clarinet", "song", "weber/concertino_clarinet.mxl", "part 0"),
    # lead sheets
    RealPiece("leadsheet/foster_brown_hair", "leadsheet", "leadSheet/fosterBrownHair.mxl", "leadsheet"),
    RealPiece("leadsheet/berlin_alexanders_ragtime", "leadsheet", "leadSheet/berlinAlexandersRagtime.mxl",
              "leadsheet"),
    RealPiece("nottingham/reelsa-c_1", "leadsheet", "nottingham-dataset/reelsa-c.abc", "leadsheet", 0),
    RealPiece("nottingham/reelsa-c_2", "leadsheet", "nottingham-dataset/reelsa-c.abc", "leadsheet", 1),
    *_quartets(),
)
"""Every piece but the chorales, whose ids come from :func:`chorale_pieces`."""


def chorale_pieces(limit: int = CHORALES) -> list[RealPiece]:
    """The first ``limit`` chorales (music21 order) in no training split."""
    from styletx.training.corpus import chorale_ids

    held = [c for c in dict.fromkeys(chorale_ids()) if split_of(c) != "train"]
    return [RealPiece(c, "chorale", c, "part 0") for c in held[:limit]]


# ---------------------------------------------------------------------- building


def _part_notes(part: Any, cut: float) -> list[Note]:
    """A music21 part's notes (chords spread, ties merged, grace notes dropped) before ``cut``."""
    from music21 import harmony

    notes = []
    for n in part.stripTies().flatten().notes:
        q, off = float(n.duration.quarterLength), float(n.offset)
        if isinstance(n, harmony.ChordSymbol) or q <= 0 or off >= cut:
            continue
        start = round(off * RESOLUTION)
        end = round(min(off + q, cut) * RESOLUTION)
        for p in getattr(n, "pitches", ()):
            if 0 <= p.midi < 128 and end > start:
                notes.append(Note(start, end, int(p.midi), 80))
    return _no_overlaps(notes)


def _no_overlaps(notes: Sequence[Note]) -> list[Note]:
    """Notes of one pitch that overlap (two staves or voices in unison) cut where the next starts."""
    out: list[Note] = []
    last: dict[int, int] = {}
    for n in sorted(set(notes)):
        i = last.get(n.pitch)
        if i is not None and out[i].end > n.start:
            if out[i].start == n.start:
                out[i] = Note(n.start, max(out[i].end, n.end), n.pitch, n.velocity)
                continue
            out[i] = Note(out[i].start, n.start, n.pitch, out[i].velocity)
        last[n.pitch] = len(out)
        out.append(n)
    return sorted(out)


def _chord_symbol_notes(part: Any, cut: float) -> list[Note]:
    """Chord symbols as held block chords: the root between C3 and B3, the rest above it."""
    from music21 import harmony

    symbols = sorted(((float(c.offset), c) for c in part.flatten().getElementsByClass(harmony.ChordSymbol)),
                     key=lambda x: x[0])
    out = []
    for i, (off, cs) in enumerate(symbols):
        if off >= cut or not cs.pitches:
            continue
        end = min(symbols[i + 1][0] if i + 1 < len(symbols) else cut, cut)
        root = 48 + cs.root().pitchClass
        pitches = {root} | {root + (p.pitchClass - root) % 12 for p in cs.pitches}
        out += [Note(round(off * RESOLUTION), round(end * RESOLUTION), p, 70) for p in sorted(pitches)]
    return [n for n in out if n.end > n.start]


def _cut_offset(score: Any, bars: int) -> float:
    """The offset where bar ``bars + 1`` begins (a pickup counts as a bar), or the end."""
    measures = list(score.parts[0].getElementsByClass("Measure"))
    if len(measures) > bars:
        return float(measures[bars].offset)
    return float(score.highestTime)


def _maps(score: Any, cut: float) -> tuple[list[TempoChange], list[TimeSignature], list[KeySignature]]:
    from music21 import tempo

    part = score.parts[0]
    measures = list(part.getElementsByClass("Measure"))
    sigs: list[TimeSignature] = []
    for m in measures:
        if float(m.offset) >= cut:
            break
        if m.timeSignature is not None:
            ts = m.timeSignature
            sigs.append(TimeSignature(round(float(m.offset) * RESOLUTION), ts.numerator, ts.denominator))
    if not sigs:
        sigs = [TimeSignature(0, 4, 4)]
    if measures and measures[0].paddingLeft > 0 and len(measures) > 1:
        pickup = round(float(measures[1].offset) * RESOLUTION)
        sixteenths = max(1, round(pickup * 4 / RESOLUTION))
        first = sigs[0]
        sigs = [TimeSignature(0, sixteenths, 16), TimeSignature(pickup, first.numerator, first.denominator),
                *[s for s in sigs[1:] if s.tick > pickup]]
    marks = [(float(mm.getOffsetInHierarchy(score)), mm) for mm in score.recurse()
             .getElementsByClass(tempo.MetronomeMark)]
    tempos = []
    for off, mm in sorted(marks, key=lambda x: x[0]):
        qpm = mm.getQuarterBPM() if mm.number else None
        if qpm and off < cut and (not tempos or tempos[-1].tick < round(off * RESOLUTION)):
            tempos.append(TempoChange(round(off * RESOLUTION), round(60_000_000 / qpm)))
    if not tempos or tempos[0].tick > 0:
        tempos.insert(0, TempoChange(0, 600_000))  # 100 bpm where the score gives none
    key = score.analyze("key")
    return tempos, sigs, [KeySignature(0, key.tonic.pitchClass, key.mode == "minor")]


def _program(part: Any, default: int) -> int:
    inst = part.getInstrument(returnDefault=False)
    prog = getattr(inst, "midiProgram", None) if inst is not None else None
    return int(prog) if prog is not None else default


def piece_song(piece: RealPiece) -> tuple[Song, int]:
    """Parse ``piece`` with music21: the song of its first :data:`BARS` bars and its melody track."""
    from music21 import corpus, stream

    if piece.kind == "chorale":
        from styletx.training.corpus import chorale_song

        song, parts = chorale_song(piece.path)
        from styletx.evaluation.bench import crop

        song, parts = crop(song, parts, BARS)
        return song, song.tracks.index(parts.melody)
    parsed = corpus.parse(piece.path)
    score = parsed.scores[piece.score] if isinstance(parsed, stream.Opus) else parsed
    cut = _cut_offset(score, BARS)
    tempos, sigs, keys = _maps(score, cut)
    parts = list(score.parts)
    tracks: list[Track] = []
    if piece.melody == "leadsheet":
        tracks = [Track("Melody", 0, False, _part_notes(parts[0], cut), 0),
                  Track("Chords", 0, False, _chord_symbol_notes(parts[0], cut), 1)]
        melody = 0
    elif piece.melody == "skyline":
        merged = _no_overlaps([n for p in parts for n in _part_notes(p, cut)])
        top, rest = skyline(Track("Piano", 0, False, merged, 0), RESOLUTION)
        tracks = [Track("Melody", 0, False, top.notes, 0), Track("Piano", 0, False, rest.notes, 1)]
        melody = 0
    else:
        index = int(piece.melody.split()[1])
        piano = [p for p in parts if "piano" in (p.partName or "").lower()]
        for i, p in enumerate(parts):
            if p in piano and i != index:
                continue
            name = p.partName or f"Part {i + 1}"
            tracks.append(Track(name, _program(p, 0), False, _part_notes(p, cut), len(tracks)))
        if piano:  # the piano's staves are one instrument: one track
            notes = _no_overlaps([n for p in piano for n in _part_notes(p, cut)])
            tracks.append(Track("Piano", 0, False, notes, len(tracks)))
        melody = sum(1 for i, p in enumerate(parts[:index]) if p not in piano)
    tracks = [t for i, t in enumerate(tracks) if t.notes or i == melody]
    song = Song(RESOLUTION, tracks, tempos, sigs, keys, source=piece.path)
    return song, melody


def real_dir() -> Path:
    return cache_dir() / "real"


def all_pieces() -> list[RealPiece]:
    """The whole set: the chorales, then :data:`PIECES`."""
    return [*chorale_pieces(), *PIECES]


def build_real_set(pieces: Sequence[RealPiece] | None = None, folder: Path | None = None) -> Path:
    """Parse every piece once and write its MIDI file and the manifest; return the manifest path.

    A piece music21 cannot read is logged and left out of the manifest (the bench
    reports how many it has).
    """
    from music21.exceptions21 import Music21Exception

    folder = folder or real_dir()
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for piece in pieces if pieces is not None else all_pieces():
        try:
            song, melody = piece_song(piece)
        except (Music21Exception, StyleTxError, ValueError, IndexError) as e:
            _log.warning("real set: %s left out (%s: %s)", piece.piece_id, type(e).__name__, e)
            continue
        replace_file(folder / piece.file, midi_bytes(song, song.tracks))
        sig = next((s for s in song.time_signatures if s.denominator != 16), song.time_signatures[0])
        entries.append({"id": piece.piece_id, "kind": piece.kind, "file": piece.file,
                        "melody_track": melody, "melody": piece.melody,
                        "meter": f"{sig.numerator}/{sig.denominator}",
                        "source": f"music21 corpus: {piece.path}"
                        + (f" (score {piece.score + 1})" if piece.score else ""),
                        "licence": LICENCE})
    manifest = folder / "manifest.json"
    replace_file(manifest, json.dumps({"bars": BARS, "pieces": entries}, indent=1) + "\n")
    return manifest


@dataclass(frozen=True)
class RealInput:
    """One built piece, ready to score: its entry and its song split into parts."""

    entry: dict[str, Any]
    song: Song
    parts: Parts


def real_inputs(folder: Path | None = None, kinds: Sequence[str] | None = None) -> list[RealInput]:
    """The built set, in manifest order (``kinds`` keeps only those kinds)."""
    folder = folder or real_dir()
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        raise StyleTxError("the real-input set is not built: run `styletx eval --build-real`")
    out = []
    for e in json.loads(manifest.read_text())["pieces"]:
        if kinds and e["kind"] not in kinds:
            continue
        song = read_midi(folder / e["file"])
        out.append(RealInput(e, song, select_parts(song, int(e["melody_track"]))))
    return out
