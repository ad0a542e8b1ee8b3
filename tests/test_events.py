"""Every event of the melody track comes through verbatim (issue #13).

The fixtures carry one kind of event each (pitch bend + controllers, mid-song program
changes, lyrics + text + marker, sysex + sequencer data, aftertouch, lyrics in another
track). Input and output are compared with mido, independently of styletx's own parser.
"""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest

from styletx.api import render
from styletx.io.reader import read_midi
from styletx.io.smf import parse_smf
from styletx.io.writer import midi_bytes
from styletx.music.parts import select_parts
from styletx.music.song import Note, Track

FIXTURES = Path(__file__).parent / "fixtures"
EVENT_FIXTURES = ["melody_bend_cc.mid", "melody_program_change.mid", "melody_lyrics.mid",
                  "melody_sysex.mid", "melody_aftertouch.mid", "lyrics_other_track.mid"]
SKIP = {"note_on", "note_off", "track_name", "end_of_track"}


def other_events(track: mido.MidiTrack) -> list[tuple[int, bytes]]:
    """(absolute tick, bytes) of a track's events other than notes, name and end of track."""
    out, tick = [], 0
    for msg in track:
        tick += msg.time
        if msg.type not in SKIP:
            out.append((tick, bytes(msg.bin() if not msg.is_meta else msg.bytes())))
    return out


def melody_track_of(mid: mido.MidiFile, name: str = "Melody") -> mido.MidiTrack:
    found = [t for t in mid.tracks if any(m.type == "track_name" and m.name == name for m in t)]
    assert len(found) == 1
    return found[0]


def texts(mid: mido.MidiFile) -> set[tuple[int, str, str]]:
    """Every text-like meta event of a file: (tick, type, text)."""
    out = set()
    for t in mid.tracks:
        tick = 0
        for msg in t:
            tick += msg.time
            if msg.type in ("text", "lyrics", "marker", "cue_marker", "copyright"):
                out.add((tick, msg.type, msg.text))
    return out


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_fixture_has_the_events_it_claims(name: str) -> None:
    mid = mido.MidiFile(FIXTURES / name)
    assert len(other_events(melody_track_of(mid))) >= 1 or name == "lyrics_other_track.mid"


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_melody_events_survive_a_write(name: str) -> None:
    src = mido.MidiFile(FIXTURES / name)
    song = read_midi(FIXTURES / name)
    parts = select_parts(song)
    new = Track("New", 0, False, [Note(0, 480, 60, 70), Note(480, 960, 64, 70)])
    out = mido.MidiFile(file=io.BytesIO(midi_bytes(song, [parts.melody, new])))
    assert other_events(melody_track_of(out)) == other_events(melody_track_of(src))


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_melody_events_and_texts_survive_a_render(name: str, tiny_style: str,
                                                  tmp_path: Path) -> None:
    src = mido.MidiFile(FIXTURES / name)
    out_path = tmp_path / "out.mid"
    render(FIXTURES / name, out_path, tiny_style, seed=0, sweeps=1)
    out = mido.MidiFile(out_path)
    assert other_events(melody_track_of(out)) == other_events(melody_track_of(src))
    # Text, lyric, marker, cue and copyright events of every input track are somewhere.
    assert texts(src) <= texts(out)
    # The melody's notes are unchanged too.
    assert read_midi(out_path).tracks[0].notes == read_midi(FIXTURES / name).tracks[0].notes


def test_sysex_payloads_round_trip() -> None:
    song = read_midi(FIXTURES / "melody_sysex.mid")
    melody = select_parts(song).melody
    back = parse_smf(midi_bytes(song, [melody]))
    sysex = [raw for t in back.tracks for _, _, raw in t.events if raw[:1] == b"\xf0"]
    assert b"\xf0\x7e\x7f\x09\x01" in sysex  # the conductor's GM reset
    assert b"\xf0\x41\x10\x42\x12\x40\x00\x7f\x00\x41" in sysex


def test_events_follow_the_part_to_its_new_channel() -> None:
    song = read_midi(FIXTURES / "melody_bend_cc.mid")
    melody = select_parts(song).melody
    melody.channel = None  # force a new channel
    blocker = Track("Other", 0, False, [Note(0, 10, 60, 60)], channel=0)
    out = mido.MidiFile(file=io.BytesIO(midi_bytes(song, [blocker, melody])))
    bends = [m for m in melody_track_of(out) if m.type == "pitchwheel"]
    notes = [m for m in melody_track_of(out) if m.type == "note_on"]
    assert bends and {m.channel for m in bends} == {m.channel for m in notes} == {1}


def test_program_changes_are_not_collapsed() -> None:
    song = read_midi(FIXTURES / "melody_program_change.mid")
    out = mido.MidiFile(file=io.BytesIO(midi_bytes(song, [select_parts(song).melody])))
    programs = [m.program for m in melody_track_of(out) if m.type == "program_change"]
    assert programs == [71, 11, 45, 40, 45, 40]


def test_skyline_melody_keeps_the_piano_events() -> None:
    song = read_midi(FIXTURES / "type0_piano.mid")
    piano = song.tracks[0]
    piano.events.append((960, bytes((0xB0, 64, 127))))  # sustain pedal
    melody = select_parts(song).melody
    assert melody.origin == 0 and (960, bytes((0xB0, 64, 127))) in melody.events
