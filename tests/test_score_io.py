"""Scores in and out: MusicXML round trips over the fixture folder, one edge case per score.

The reference melody is always the input score's own notes, read here straight from
music21's parse of the file (repeats unfolded, ties merged, at sounding pitch, chord
symbols and grace notes left out), never music21's MIDI rendering of the score, which
plays chord symbols as notes. The MuseScore checks run the real ``mscore3``; without
it they skip, except under ``CI=true``, where a missing MuseScore fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from styletx.api import TransferResult, transfer
from styletx.cli import main
from styletx.io.reader import read_midi
from styletx.score.read import RESOLUTION, read_song
from styletx.styles import Style, load_style

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scores"
CASES = sorted(p.stem for p in FIXTURES.glob("*.musicxml"))
MSCORE = shutil.which("mscore3")


def _unfolded(path: Path) -> Any:
    from music21 import converter

    score = converter.parse(str(path))
    return score.expandRepeats() if "repeat" in path.read_text() else score


def reference(path: Path) -> list[tuple[int, int, int]]:
    """The score's own melody (part 0) as (start, end, pitch) in ticks."""
    from music21 import harmony

    part = _unfolded(path).toSoundingPitch().parts[0].stripTies()
    notes = []
    for n in part.flatten().notes:
        if isinstance(n, harmony.Harmony) or n.duration.isGrace:
            continue
        start = round(Fraction(n.offset) * RESOLUTION)
        end = start + round(Fraction(n.quarterLength) * RESOLUTION)
        notes += [(start, end, p.midi) for p in n.pitches]
    return sorted(notes)


def notation(part: Any) -> list[tuple]:
    """A melody part as notation: every note and rest with its spelling, time, tie, lyrics, grace."""
    from music21 import harmony

    out = []
    for n in part.flatten().notesAndRests:
        if isinstance(n, harmony.Harmony):
            continue
        out.append((float(n.offset), float(n.quarterLength), tuple(p.nameWithOctave for p in n.pitches),
                    n.tie.type if n.tie else None, tuple(ly.text for ly in n.lyrics), n.duration.isGrace))
    return out


def triples(notes: list) -> list[tuple[int, int, int]]:
    return sorted((n.start, n.end, n.pitch) for n in notes)


@pytest.fixture(scope="module")
def style(_tiny_models: Path) -> Style:
    return load_style(_tiny_models / "tiny")


@pytest.fixture(scope="module")
def rendered(style: Style,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[TransferResult, Path]]:
    """Every fixture transferred once (melody: part 0), written as MusicXML and as MIDI."""
    out = tmp_path_factory.mktemp("scores")
    results = {}
    for case in CASES:
        result = transfer(FIXTURES / f"{case}.musicxml", style, seed=0, sweeps=1, melody_track=0)
        result.write(out / f"{case}.musicxml")
        result.write(out / f"{case}.mid")
        results[case] = (result, out)
    return results


def test_the_fixtures_are_what_the_generator_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(FIXTURES / "make_scores.py"), str(tmp_path)], check=True)
    assert CASES == sorted(p.stem for p in tmp_path.glob("*.musicxml"))
    for case in CASES:
        made, committed = tmp_path / f"{case}.musicxml", FIXTURES / f"{case}.musicxml"
        assert made.read_text() == committed.read_text(), case


@pytest.mark.parametrize("case", CASES)
def test_the_reader_takes_the_scores_own_notes(case: str) -> None:
    song = read_song(FIXTURES / f"{case}.musicxml")
    assert triples(song.tracks[0].notes) == reference(FIXTURES / f"{case}.musicxml")
    assert song.title and song.composer == "Test Fixture"


def test_what_the_reader_keeps_from_each_edge_case() -> None:
    def song(case: str) -> Any:
        return read_song(FIXTURES / f"{case}.musicxml")

    symbols = song("chord_symbols").chord_symbols
    assert [c.figure for c in symbols] == ["Cmaj7", "Am7", "Dm7", "G7", "C", "Bø7", "E7 add b9", "Am"]
    assert [c.chord.name for c in symbols if c.chord][5:7] == ["Bm7b5", "E7"]  # folded onto the model's
    assert [(ts.numerator, ts.denominator) for ts in song("pickup").time_signatures] == [(1, 4), (4, 4)]
    assert [(ts.numerator, ts.denominator) for ts in song("meter_change").time_signatures] == \
        [(4, 4), (3, 4), (4, 4)]
    assert [k.name for k in song("key_change").key_signatures] == ["C", "D"]
    repeats = song("repeats")
    assert repeats.read_notes == ["repeats unfolded: 4 bars become 6"] and len(repeats.tempos) == 1
    lyrics = song("lyrics_melisma")
    assert [t for _, t in lyrics.lyrics] == ["Sing", "a", "long", "me", "lo", "dy", "oh", "yes"]
    # A Bb clarinet sounds a major second below what is written (written C5 sounds Bb4).
    assert song("transposing_instrument").tracks[0].notes[0].pitch == 70
    # Two voices on one staff are one part; grace notes take no time.
    assert [len(t.notes) for t in song("two_voices").tracks] == [16, 15]
    assert len(song("grace_notes").tracks[0].notes) == 16


def test_no_chord_written_as_words_is_a_no_chord_symbol() -> None:
    """Foster's lead sheet in music21's corpus writes its four N.C. as words, not as <harmony>."""
    from music21 import expressions, harmony, meter, note, stream

    from styletx.score.read import song_from_stream

    part = stream.Part([meter.TimeSignature("4/4")])
    for k in range(8):
        part.append(note.Note(60 + k, quarterLength=2))
    for offset, obj in ((0, harmony.ChordSymbol("C")), (4, expressions.TextExpression("N.C.")),
                        (6, expressions.TextExpression("cresc.")), (8, harmony.ChordSymbol("G7")),
                        (12, expressions.TextExpression("n. c."))):
        part.insert(offset, obj)
    symbols = song_from_stream(stream.Score([part.makeMeasures()])).chord_symbols
    assert [(c.tick // RESOLUTION, c.figure, c.chord is None) for c in symbols] == \
        [(0, "C", False), (4, "N.C.", True), (8, "G7", False), (12, "N.C.", True)]


@pytest.mark.parametrize("case", CASES)
def test_musicxml_round_trip_keeps_the_melody_as_notation(case: str, rendered: dict) -> None:
    from music21 import converter

    _, out = rendered[case]
    written = converter.parse(str(out / f"{case}.musicxml"))
    assert notation(written.parts[0]) == notation(_unfolded(FIXTURES / f"{case}.musicxml").parts[0])
    again = read_song(out / f"{case}.musicxml")
    assert triples(again.tracks[0].notes) == reference(FIXTURES / f"{case}.musicxml")


@pytest.mark.parametrize("case", CASES)
def test_musicxml_to_midi_keeps_the_melody(case: str, rendered: dict) -> None:
    _, out = rendered[case]
    midi = read_midi(out / f"{case}.mid")
    assert midi.resolution == RESOLUTION
    assert triples(midi.tracks[0].notes) == reference(FIXTURES / f"{case}.musicxml")


@pytest.mark.parametrize("case", CASES)
def test_a_music21_score_given_to_transfer_keeps_the_melody(case: str, style: Style) -> None:
    from music21 import converter

    result = transfer(converter.parse(str(FIXTURES / f"{case}.musicxml")), style, seed=0, sweeps=1,
                      melody_track=0)
    assert triples(result.tracks[0].notes) == reference(FIXTURES / f"{case}.musicxml")


def test_the_scores_chord_symbols_are_the_chart(style: Style) -> None:
    src = FIXTURES / "chord_symbols.musicxml"
    assert transfer(src, style, seed=0, sweeps=1).chart == "Cmaj7 | Am7 | Dm7 G7 | C | Bm7b5 E7 | Am"
    given = transfer(src, style, seed=0, sweeps=1, chords="F | F | F | F | F | F")
    assert given.chart == "F | F | F | F | F | F"
    assert set(transfer(src, style, seed=0, sweeps=1, reharmonize=True).chart.split()) <= {"N.C.", "|"}


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


@pytest.mark.parametrize("case", CASES)
def test_the_written_score_is_clean(case: str, rendered: dict) -> None:
    result, out = rendered[case]
    root = _xml(out / f"{case}.musicxml")
    parts = root.findall("part-list/score-part")
    assert len(parts) == len(result.tracks)
    assert all(len(p.findall("score-instrument")) <= 1 for p in parts)
    assert len(list(root.iter("metronome"))) == len(result.song.tempos) == 1
    assert list(root.iter("harmony")), "the chords followed are written"
    assert root.findtext("work/work-title") == result.song.title
    assert [c.text for c in root.iter("creator")] == ["Test Fixture"]
    # The harmony sits on the accompaniment staff, not on the melody's.
    assert not root.findall("part")[0].findall("measure/harmony")


def test_a_midi_input_gets_its_file_name_as_title_and_no_composer(style: Style, tmp_path: Path) -> None:
    src = Path(__file__).resolve().parent / "fixtures" / "meter_3_4.mid"
    transfer(src, style, seed=0, sweeps=1).write(tmp_path / "out.musicxml")
    root = _xml(tmp_path / "out.musicxml")
    assert root.findtext("work/work-title") == "meter_3_4"
    assert not list(root.iter("creator"))



def test_a_note_no_single_value_spells_is_written_tied(style: Style, tmp_path: Path) -> None:
    """music21 reads some tuplet figures as ``complex`` durations (a quarter and a 16th in one
    note here), which MusicXML cannot write as one note: they are written tied, and the
    melody reads back the same."""
    from music21 import meter, note, stream

    part = stream.Part([meter.TimeSignature("4/4")])
    for pitch, length in ((72, 1.25), (74, 0.75), (76, 2.0), (77, 4.0)):
        part.append(note.Note(pitch, quarterLength=length))
    assert part.flatten().notes[0].duration.type == "complex"
    result = transfer(stream.Score([part.makeMeasures()]), style, seed=0, sweeps=1, melody_track=0)
    result.write(tmp_path / "out.musicxml")
    again = read_song(tmp_path / "out.musicxml")
    assert triples(again.tracks[0].notes) == triples(result.tracks[0].notes)
    assert [n.pitch for n in again.tracks[0].notes] == [72, 74, 76, 77]

@pytest.mark.parametrize(("program", "staves"), [(0, 2), (25, 1)])
def test_a_piano_part_on_both_sides_of_middle_c_is_one_part_on_a_grand_staff(
        program: int, staves: int, style: Style, tmp_path: Path) -> None:
    """A piano's chords spread over C3-C5 go on a treble and a bass staff of one part with one
    instrument (no "Instrument change" in a notation program); a guitar's stay on one staff,
    in the treble clef an octave down, as guitar music is written."""
    from styletx.music.charts import track_changes
    from styletx.music.song import Note, Track
    from styletx.score.write import write_score

    result = transfer(FIXTURES / "chord_symbols.musicxml", style, seed=0, sweeps=1, melody_track=0)
    notes = [Note(b * 1920 + q * 480, b * 1920 + q * 480 + 480, pitch, 70)
             for b in range(4) for q in range(4) for pitch in (48, 55, 64, 67)]
    comping = Track("Comping", program, False, notes)
    path = write_score(result.song, [result.tracks[0], comping], tmp_path / "out.musicxml",
                       melody=result.parts.melody, chords=track_changes(result.grid))
    root = _xml(path)
    part = root.findall("part")[1]
    assert len(root.findall("part-list/score-part")) == 2
    assert int(part.findtext("measure/attributes/staves") or 1) == staves
    clefs = sorted((c.findtext("sign"), c.findtext("clef-octave-change")) for c in part.iter("clef"))
    assert clefs == ([("F", None), ("G", None)] if staves == 2 else [("G", "-1")])
    declared = {i.get("id") for i in root.findall("part-list/score-part")[1].iter("score-instrument")}
    assert len(declared) == 1 and {i.get("id") for i in part.iter("instrument")} <= declared
    again = read_song(path)
    assert sorted((n.start, n.pitch) for t in again.tracks[1:] for n in t.notes) == \
        sorted((n.start, n.pitch) for n in notes)


def test_swing_is_written_straight_with_a_swing_text(style: Style, tmp_path: Path) -> None:
    import dataclasses

    from music21 import converter

    from styletx.music.song import Note
    from styletx.score.write import write_score

    result = transfer(FIXTURES / "chord_symbols.musicxml", style, seed=0, sweeps=1)
    r = RESOLUTION
    swung = [Note(b * r + off, b * r + off + r // 3, 60, 80) for b in range(16) for off in (0, 2 * r // 3)]
    acc = dataclasses.replace(result.tracks[1], notes=swung)
    write_score(result.song, [result.tracks[0], acc], tmp_path / "swing.musicxml",
                melody=result.parts.melody, chords=[])
    score = converter.parse(str(tmp_path / "swing.musicxml"))
    offsets = {float(n.offset) % 1 for n in score.parts[1].flatten().notes}
    assert offsets == {0.0, 0.5}
    assert "Swing" in (tmp_path / "swing.musicxml").read_text()


def test_accompaniment_rhythms_have_no_stray_short_rests(rendered: dict) -> None:
    from music21 import converter

    for case in ("chord_symbols", "triplets", "meter_change"):
        _, out = rendered[case]
        accomp = converter.parse(str(out / f"{case}.musicxml")).parts[1]
        rests = [r for r in accomp.flatten().notesAndRests if r.isRest]
        notes_before = {float(n.offset + n.quarterLength) for n in accomp.flatten().notes}
        stray = [r for r in rests if r.quarterLength < 1 and float(r.offset) in notes_before
                 and float(r.offset) % 0.5]
        assert not stray, (case, stray)


# ------------------------------------------------------------------------- the CLI


def test_info_prints_a_scores_chord_symbols(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(FIXTURES / "chord_symbols.musicxml")]) == 0
    out = capsys.readouterr().out
    assert "a score" in out and "title: Chord Symbols, by Test Fixture" in out
    assert ("chord symbols (the chart the accompaniment follows): 1:Cmaj7 2:Am7 3:Dm7 3:G7 4:C "
            "5:Bø7 5:E7 add b9 6:Am") in out
    assert main(["info", "--json", str(FIXTURES / "repeats.musicxml")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["read_notes"] == ["repeats unfolded: 4 bars become 6"] and len(info["chord_symbols"]) == 6


def test_render_takes_the_melody_track_by_name(tiny_style: str, tmp_path: Path) -> None:
    src = FIXTURES / "two_voices.musicxml"
    out = tmp_path / "out.mid"
    assert main(["render", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1",
                 "--melody-track", "Piano"]) == 0
    assert triples(read_midi(out).tracks[0].notes) == triples(read_song(src).tracks[1].notes)


def test_batch_plot_and_eval_read_scores(tiny_style: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for case in ("pickup", "repeats"):
        shutil.copy(FIXTURES / f"{case}.musicxml", folder)
    assert main(["batch", str(folder), "-o", str(tmp_path / "out"), "--style", tiny_style,
                 "--sweeps", "1"]) == 0
    out = tmp_path / "out" / "pickup.mid"
    assert triples(read_midi(out).tracks[0].notes) == reference(FIXTURES / "pickup.musicxml")
    assert main(["plot", str(folder / "pickup.musicxml"), str(out), "-o", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["eval", str(folder / "pickup.musicxml"), str(out), "--style", tiny_style, "--json"]) == 0


def test_train_data_finds_scores(tmp_path: Path) -> None:
    from styletx.training.corpus import midi_files

    shutil.copy(FIXTURES / "two_voices.musicxml", tmp_path)
    (tmp_path / "notes.txt").write_text("not music")
    assert [p.name for p in midi_files(tmp_path)] == ["two_voices.musicxml"]


# ------------------------------------------------------------------------- MuseScore


@pytest.fixture(scope="module")
def musescore(rendered: dict) -> Path:
    """Every fixture's output converted by the real MuseScore 3 to PDF and MIDI, in one batch job."""
    if MSCORE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mscore3 (Debian's musescore3) is missing; CI must run the MuseScore checks")
        pytest.skip("mscore3 (Debian's musescore3) is not installed")
    out = next(iter(rendered.values()))[1]
    jobs = [{"in": str(out / f"{c}.musicxml"), "out": [str(out / f"{c}.ms.pdf"), str(out / f"{c}.ms.mid")]}
            for c in CASES]
    (out / "job.json").write_text(json.dumps(jobs))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([MSCORE, "-j", str(out / "job.json")], env=env, check=True, capture_output=True,
                   timeout=300)
    return out


@pytest.mark.parametrize("case", CASES)
def test_musescore_opens_the_score_and_plays_our_melody(case: str, musescore: Path) -> None:
    pdf, mid = musescore / f"{case}.ms.pdf", musescore / f"{case}.ms.mid"
    assert pdf.read_bytes()[:5] == b"%PDF-" and mid.is_file(), "MuseScore accepted the file"
    played = read_midi(mid)
    ours = sorted((Fraction(s, RESOLUTION), p) for s, _, p in reference(FIXTURES / f"{case}.musicxml"))
    theirs = sorted((Fraction(n.start, played.resolution), n.pitch) for n in played.tracks[0].notes)
    if case == "grace_notes":
        # MuseScore plays a grace note on the beat and starts its main note after it (about
        # 1/10 beat late): drop the grace pitches and allow the main notes that delay.
        grace = {(Fraction(1), 76), (Fraction(4), 81)}
        theirs = [t for t in theirs if (t[0], t[1]) not in grace]
        late = {Fraction(1), Fraction(4)}
    else:
        late = set()
    assert [p for _, p in theirs] == [p for _, p in ours]
    for (a, _), (b, _) in zip(ours, theirs, strict=True):
        assert abs(a - b) <= (Fraction(1, 8) if a in late else Fraction(1, 48)), (case, a, b)
