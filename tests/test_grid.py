"""The grid: read → grid → write → read round trips, metadata, quantisation, swing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.music.encoding import HOLD, OFF, ONSET, melody_token
from styletx.music.grid import (
    QuantizationReport,
    build_grid,
    estimate_key,
    notes_to_roll,
    repair_holds,
    roll_to_notes,
)
from styletx.music.parts import select_parts
from styletx.music.song import KeySignature, Note, Parts, Song, TimeSignature, Track

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text())
VALID = sorted(name for name, e in EXPECTED.items() if "error" not in e)


def quantised(notes: list[Note], resolution: int, steps: int) -> list[Note]:
    """What the documented quantisation rule makes of notes (via a roll)."""
    n_frames = max((n.end for n in notes), default=0) * steps // resolution + 8
    roll = notes_to_roll(notes, n_frames, resolution, steps)
    return roll_to_notes(roll, resolution, steps)


@pytest.mark.parametrize("steps", [4, 12])
@pytest.mark.parametrize("name", VALID)
def test_round_trip_through_grid(name: str, steps: int, tmp_path: Path) -> None:
    """read → grid → write → read: melody bit-identical, maps equal, accompaniment quantised."""
    song = read_midi(FIXTURES / name)
    parts = select_parts(song)
    grid = build_grid(song, parts, steps)
    acc = roll_to_notes(grid.accomp, grid.resolution, grid.steps_per_beat, 64)
    out_track = Track(name="Accompaniment", program=0, is_drum=False, notes=acc)
    out = write_midi(tmp_path / "out.mid", song, [parts.melody, out_track, *parts.drums])
    back = read_midi(out)
    back_parts = select_parts(back, melody_track=parts.melody.name or 0)

    assert back_parts.melody.notes == parts.melody.notes
    assert (back_parts.melody.program, back_parts.melody.name) == (
        parts.melody.program, parts.melody.name)
    assert back.resolution == song.resolution
    assert back.tempos == song.tempos
    assert back.time_signatures == song.time_signatures
    assert back.key_signatures == song.key_signatures
    # The accompaniment equals the input's up to the quantisation rule (velocity aside).
    expected = quantised([n for t in parts.accompaniment for n in t.notes], song.resolution, steps)
    got = sorted(n for t in back_parts.accompaniment for n in t.notes)
    assert [(n.start, n.end, n.pitch) for n in got] == [(n.start, n.end, n.pitch) for n in expected]


def test_onset_and_hold_are_distinct() -> None:
    """A repeated note (two onsets) and a held note (one onset) give different rolls."""
    repeated = [Note(0, 480, 60, 80), Note(480, 960, 60, 80)]
    held = [Note(0, 960, 60, 80)]
    r1 = notes_to_roll(repeated, 8, 480, 4)
    r2 = notes_to_roll(held, 8, 480, 4)
    assert r1[:, 60].tolist() == [ONSET, HOLD, HOLD, HOLD, ONSET, HOLD, HOLD, HOLD]
    assert r2[:, 60].tolist() == [ONSET] + [HOLD] * 7
    assert roll_to_notes(r1, 480, 4) == sorted(repeated)
    assert roll_to_notes(r2, 480, 4) == held


def test_quantisation_report_counts_changes() -> None:
    report = QuantizationReport()
    notes = [Note(7, 480, 60, 80), Note(960, 960, 62, 80), Note(1000, 1500, 62, 80)]
    notes_to_roll(notes, 16, 480, 4, report)
    assert report.notes == 3
    assert report.onsets_moved == 2  # 7 → 0 and 1000 → 960
    assert report.max_onset_error_ticks == 40
    assert report.lengthened_to_one_frame == 1  # the zero-length note
    assert report.dropped_same_frame == 1  # 960 and 1000 land on the same frame


def test_repair_holds() -> None:
    roll = np.zeros((4, 128), dtype=np.uint8)
    roll[:, 60] = [HOLD, OFF, HOLD, HOLD]
    repair_holds(roll)
    assert roll[:, 60].tolist() == [ONSET, OFF, ONSET, HOLD]


def _song(time_sigs: list[TimeSignature], notes: list[Note], keys=()) -> tuple[Song, Parts]:
    mel = Track("Melody", 0, False, notes, index=0)
    song = Song(resolution=480, tracks=[mel], time_signatures=time_sigs, key_signatures=list(keys))
    return song, Parts(melody=mel, accompaniment=[], drums=[], reason="test")


def test_metadata_in_3_4_with_pickup() -> None:
    """A 1/4 pickup is right-aligned in a 3/4 bar; bar indices and beat steps follow the meter."""
    sigs = [TimeSignature(0, 1, 4), TimeSignature(480, 3, 4)]
    song, parts = _song(sigs, [Note(0, 480, 67, 80), Note(480, 2400, 72, 80)])
    grid = build_grid(song, parts, 4)
    assert grid.bar_index[:4].tolist() == [0, 0, 0, 0]
    assert grid.bar_step[:4].tolist() == [8, 9, 10, 11]  # the last beat of a 3/4 bar
    assert grid.bar_index[4] == 1 and grid.bar_step[4] == 0
    assert grid.bar_step[4 + 12] == 0 and grid.bar_index[16] == 2
    assert set(grid.beat_step.tolist()) == {0, 1, 2, 3}
    assert (grid.bar_beats == 3).all()
    assert grid.melody[4] == melody_token(72, onset=True)


def test_meter_change_and_key_map() -> None:
    sigs = [TimeSignature(0, 4, 4), TimeSignature(1920, 6, 8)]
    keys = [KeySignature(0, 7, False), KeySignature(1920, 9, True)]
    song, parts = _song(sigs, [Note(0, 1920 + 1440, 60, 80)], keys)
    grid = build_grid(song, parts, 4)
    assert grid.n_frames == 16 + 12
    assert grid.bar_step[16] == 0 and grid.bar_step[27] == 11
    assert grid.bar_beats[0] == 4 and grid.bar_beats[16] == 3
    assert grid.key[0] == 7 and grid.key[16] == 9 + 12
    assert not grid.key_estimated


def test_key_is_estimated_without_key_signature() -> None:
    c_major = [Note(i * 480, i * 480 + 480, p, 80) for i, p in enumerate([60, 64, 67, 65, 62, 59, 60])]
    assert estimate_key(c_major) == (0, False)
    song, parts = _song([TimeSignature(0, 4, 4)], c_major)
    grid = build_grid(song, parts, 4)
    assert grid.key_estimated and (grid.key == 0).all()


def test_swing_survives_a_12_step_grid() -> None:
    """Swung eighths (second eighth at 2/3 of the beat) stay on the swing step at 12/beat."""
    res = 480
    swung = []
    for beat in range(16):
        swung.append(Note(beat * res, beat * res + 320, 60, 80))
        swung.append(Note(beat * res + 320, beat * res + 480, 62, 80))
    roll = notes_to_roll(swung, 16 * 12, res, 12)
    frames = np.nonzero(roll == ONSET)[0]
    offbeats = frames[frames % 12 != 0] % 12
    assert offbeats.tolist() == [8] * 16  # 8/12 = 2/3 of the beat
    roll4 = notes_to_roll(swung, 16 * 4, res, 4)
    frames4 = np.nonzero(roll4 == ONSET)[0]
    assert set((frames4 % 4).tolist()) == {0, 3}  # a sixteenth grid moves it to 3/4


def test_transpose_melody_moves_onsets_and_holds_and_drops_notes_out_of_range() -> None:
    from styletx.music.encoding import MELODY_REST, melody_token, transpose_melody

    tokens = np.array([MELODY_REST, melody_token(60, True), melody_token(60, False), melody_token(126, True),
                       melody_token(1, False)])
    expected = [MELODY_REST, melody_token(63, True), melody_token(63, False), MELODY_REST,
                melody_token(4, False)]
    assert transpose_melody(tokens, 3).tolist() == expected
    assert transpose_melody(tokens, 0).tolist() == tokens.tolist()


def test_melody_pitches_decode_numpy_and_torch_alike() -> None:
    import torch

    from styletx.music.encoding import MELODY_REST, encode_melody, melody_pitches, melody_token

    tokens = [MELODY_REST, melody_token(0, True), melody_token(60, True), melody_token(60, False),
              melody_token(127, False)]
    assert melody_pitches(np.array(tokens)).tolist() == [0, 0, 60, 60, 127]
    assert melody_pitches(torch.tensor(tokens)).tolist() == [0, 0, 60, 60, 127]
    pitch, onset = np.array([0, 60, 60, 127]), np.array([True, True, False, False])
    assert encode_melody(pitch, onset).tolist() == tokens[1:]
