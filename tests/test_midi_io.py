"""Round trips, limits and safe writing (:mod:`styletx.io`); melody choice (:mod:`styletx.music.parts`)."""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import replace
from pathlib import Path

import mido
import pretty_midi
import pytest

from styletx.errors import BadMidiError, StyleTxError
from styletx.io.files import atomic_write
from styletx.io.reader import MAX_FILE_BYTES, MAX_NOTES, read_midi
from styletx.io.writer import midi_bytes, write_midi
from styletx.music.parts import select_parts
from styletx.music.song import Note, Song, Track
from styletx.music.timing import bar_starts, has_pickup, tick_to_seconds
from tests.conftest import load_script

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
VALID = sorted(name for name, e in EXPECTED.items() if "error" not in e)
INVALID = sorted(name for name, e in EXPECTED.items() if "error" in e)
# pretty_midi pairs same-pitch overlaps its own way and drops zero-length notes and
# notes that never end; on these inputs it is compared with itself on the input file.
PRETTY_MIDI_DIFFERS = ("overlapping_same_pitch.mid", "dangling.mid", "zero_length.mid")


def test_committed_fixtures_match_generator() -> None:
    for name, data in load_script(FIXTURES / "make_fixtures.py").build().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name} is stale: rerun make_fixtures.py"


def same_part(a: Track, b: Track) -> None:
    assert (a.name, a.program, a.is_drum) == (b.name, b.program, b.is_drum)
    assert a.notes == b.notes


def same_maps(a: Song, b: Song) -> None:
    assert a.resolution == b.resolution
    assert a.tempos == b.tempos
    assert a.time_signatures == b.time_signatures
    assert a.key_signatures == b.key_signatures


@pytest.mark.parametrize("name", VALID)
def test_round_trip_all_parts(name: str, tmp_path: Path) -> None:
    song = read_midi(FIXTURES / name)
    out = write_midi(tmp_path / "out.mid", song, song.tracks)
    back = read_midi(out)
    same_maps(song, back)
    assert len(back.tracks) == len(song.tracks)
    for a, b in zip(song.tracks, back.tracks, strict=True):
        same_part(a, b)
        assert b.index == a.index
    # Channels survive where the input gave each part its own channel.
    if len({t.channel for t in song.tracks}) == len(song.tracks):
        assert [t.channel for t in back.tracks] == [t.channel for t in song.tracks]


@pytest.mark.parametrize("name", VALID)
def test_round_trip_melody_first(name: str, tmp_path: Path) -> None:
    song = read_midi(FIXTURES / name)
    parts = select_parts(song)
    tracks = [parts.melody, *parts.accompaniment, *parts.drums]
    back = read_midi(write_midi(tmp_path / "out.mid", song, tracks))
    same_maps(song, back)
    for a, b in zip(tracks, back.tracks, strict=True):
        same_part(a, b)
    again = select_parts(back)
    assert again.melody.notes == parts.melody.notes


@pytest.mark.parametrize("name", VALID)
def test_melody_seconds_match_pretty_midi(name: str, tmp_path: Path) -> None:
    """pretty_midi, an independent reader, hears the same melody in input and output."""
    song = read_midi(FIXTURES / name)
    parts = select_parts(song)
    out = write_midi(tmp_path / "out.mid", song, [parts.melody, *parts.accompaniment])
    got = pm_notes(pretty_midi.PrettyMIDI(str(out)), parts.melody)
    if name not in PRETTY_MIDI_DIFFERS:
        ours = [(tick_to_seconds(song, n.start), tick_to_seconds(song, n.end), n.pitch,
                 n.velocity) for n in parts.melody.notes]
        assert_close(got, sorted(ours))
    if parts.melody.index >= 0 and name != "dangling.mid":
        want = pm_notes(pretty_midi.PrettyMIDI(str(FIXTURES / name)), parts.melody)
        assert_close(got, want)


def assert_close(a: list[tuple[float, float, int, int]],
                 b: list[tuple[float, float, int, int]]) -> None:
    """Same notes, with times equal to a nanosecond."""
    assert [n[2:] for n in a] == [n[2:] for n in b]
    for x, y in zip(a, b, strict=True):
        assert abs(x[0] - y[0]) < 1e-9 and abs(x[1] - y[1]) < 1e-9


def pm_notes(pm: pretty_midi.PrettyMIDI, like: Track) -> list[tuple[float, float, int, int]]:
    """The notes, in seconds, of the pretty_midi instruments with ``like``'s name (pretty_midi
    makes one instrument per program, so a part with a mid-song program change is several)."""
    programs = {like.program} | {raw[1] for _, raw in like.events if raw[0] & 0xF0 == 0xC0}
    insts = [i for i in pm.instruments
             if (i.name, i.is_drum) == (like.name, like.is_drum) and i.program in programs]
    assert insts and any(i.program == like.program for i in insts)
    return sorted((n.start, n.end, n.pitch, n.velocity) for i in insts for n in i.notes)


@pytest.mark.parametrize("name", VALID)
def test_melody_selection(name: str) -> None:
    expected = EXPECTED[name]
    parts = select_parts(read_midi(FIXTURES / name))
    if expected["melody"] == "skyline":
        assert parts.melody.index == -1 and "skyline" in parts.reason
        assert [n.pitch for n in parts.melody.notes] == expected["melody_pitches"]
    else:
        assert parts.melody.index == expected["melody"]
        assert parts.melody.name == expected["name"]
    assert len(parts.accompaniment) == expected["accompaniment"]
    assert len(parts.drums) == expected["drums"]
    assert parts.reason and "\n" not in parts.reason


@pytest.mark.parametrize("name", INVALID)
def test_bad_inputs(name: str) -> None:
    with pytest.raises(BadMidiError) as info:
        read_midi(FIXTURES / name)
    message = str(info.value)
    assert EXPECTED[name]["error"] in message
    assert "\n" not in message


def test_bytes_and_mido_inputs_equal_path_input() -> None:
    path = FIXTURES / "tempo_changes.mid"
    song = read_midi(path)
    for other in (read_midi(path.read_bytes()), read_midi(mido.MidiFile(path))):
        same_maps(song, other)
        assert [t.notes for t in other.tracks] == [t.notes for t in song.tracks]


def test_pretty_midi_input_close_to_file_input() -> None:
    path = FIXTURES / "drums.mid"
    song, pm_song = read_midi(path), read_midi(pretty_midi.PrettyMIDI(str(path)))
    assert pm_song.resolution == song.resolution
    assert [(t.name, t.notes) for t in pm_song.tracks] == [(t.name, t.notes) for t in song.tracks]


def test_fifo_pairing_and_dangling_notes() -> None:
    mel = read_midi(FIXTURES / "overlapping_same_pitch.mid").tracks[0].notes
    assert mel[:4] == [Note(0, 480, 72, 80), Note(240, 720, 72, 70),
                       Note(960, 1440, 74, 90), Note(1440, 1920, 74, 91)]
    song = read_midi(FIXTURES / "dangling.mid")
    assert song.tracks[0].notes[-1] == Note(15 * 480, 5 * 1920, 72, 80)
    assert [n.end for n in song.tracks[1].notes[-3:]] == [4 * 1920 + 480] * 3


def test_zero_length_notes_kept() -> None:
    song = read_midi(FIXTURES / "zero_length.mid")
    assert sum(n.start == n.end for n in song.tracks[0].notes) == 2
    assert sum(n.start == n.end for n in song.tracks[1].notes) == 2


def test_maps_and_bars() -> None:
    song = read_midi(FIXTURES / "pickup.mid")
    assert has_pickup(song)
    assert bar_starts(song) == [0, 480, 2400, 4320, 6240]
    keys = read_midi(FIXTURES / "key_changes.mid").key_signatures
    assert [k.name for k in keys] == ["C", "Am", "Eb", "F#m", "F#", "Bbm"]  # Gb == F#
    tempos = read_midi(FIXTURES / "tempo_changes.mid").tempos
    assert [t.us_per_quarter for t in tempos] == [500_000, 666_667, 428_571]
    assert not has_pickup(read_midi(FIXTURES / "meter_3_4.mid"))


def test_explicit_melody_choice() -> None:
    song = read_midi(FIXTURES / "drums.mid")
    assert select_parts(song, 1).melody.name == "Piano"
    assert select_parts(song, "piano").melody.index == 1
    for bad in (7, "Tuba", 2, "drums"):
        with pytest.raises(StyleTxError) as info:
            select_parts(song, bad)
        assert "\n" not in str(info.value)


def test_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    song = read_midi(FIXTURES / "melody_only.mid")
    slow = replace(song, tempos=[replace(song.tempos[0], us_per_quarter=16_000_000)])
    long_notes = [Note(0, 600 * 480, 60, 80)]
    with pytest.raises(BadMidiError, match="too long"):
        read_midi(midi_bytes(slow, [Track("x", 0, False, long_notes)]))
    many = [Note(i, i + 1, 60, 80) for i in range(MAX_NOTES + 1)]
    with pytest.raises(BadMidiError, match="too many notes"):
        read_midi(midi_bytes(song, [Track("x", 0, False, many)]))
    with pytest.raises(BadMidiError, match="too large"):
        read_midi(b"MThd" + bytes(MAX_FILE_BYTES))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 1000, 480)
    with pytest.raises(BadMidiError, match="too many tracks"):
        read_midi(header)


def test_output_is_deterministic_and_atomic(tmp_path: Path) -> None:
    song = read_midi(FIXTURES / "zero_length.mid")
    a = write_midi(tmp_path / "a.mid", song, song.tracks)
    b = write_midi(tmp_path / "b.mid", song, list(song.tracks))
    assert a.read_bytes() == b.read_bytes() == midi_bytes(song, song.tracks)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mid", "b.mid"]  # no temp files


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "in.mid"
    src.write_bytes((FIXTURES / "drums.mid").read_bytes())
    song = read_midi(src)
    before = src.read_bytes()
    with pytest.raises(StyleTxError, match="input"):
        write_midi(src, song, song.tracks, force=True)  # song.source is protected
    link = tmp_path / "link.mid"
    link.symlink_to(src)
    with pytest.raises(StyleTxError, match="input"):
        write_midi(link, read_midi(FIXTURES / "drums.mid"), song.tracks, force=True,
                   protect=[src])
    assert src.read_bytes() == before
    out = write_midi(tmp_path / "out.mid", song, song.tracks)
    with pytest.raises(StyleTxError, match="already exists"):
        write_midi(out, song, song.tracks)
    write_midi(out, song, song.tracks[:1], force=True)
    assert len(read_midi(out).tracks) == 1
    with pytest.raises(StyleTxError, match="does not exist"):
        write_midi(tmp_path / "nope" / "x.mid", song, song.tracks)


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"old")

    def boom(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(StyleTxError, match="No space left"):
        atomic_write(target, b"new", force=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_channel_allocation() -> None:
    song = read_midi(FIXTURES / "melody_only.mid")
    tracks = [Track(f"t{i}", 0, False, [Note(0, 10, 60, 80)], channel=0) for i in range(17)]
    tracks.append(Track("kit", 0, True, [Note(0, 10, 36, 80)], channel=3))
    mid = mido.MidiFile(file=io.BytesIO(midi_bytes(song, tracks)))
    channels = [next(m.channel for m in t if m.type == "note_on") for t in mid.tracks[1:]]
    assert channels[:15] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]
    assert 9 not in channels[:17] and channels[17] == 9
