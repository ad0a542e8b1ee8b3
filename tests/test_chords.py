"""The chord track: symbols, template estimation, Viterbi smoothing, harmonisation, charts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from styletx.errors import StyleTxError
from styletx.io.reader import read_midi
from styletx.model.start import guide_melody
from styletx.music.charts import chord_chart, parse_chart
from styletx.music.chords import (
    NO_CHORD,
    NOTE_NAMES,
    Chord,
    ChordModel,
    chart_track,
    chord_scores,
    chord_track,
    harmonize,
    key_symbol,
    parse_root,
    transpose_track,
    viterbi,
)
from styletx.music.encoding import HOLD, MELODY_HOLD, MELODY_REST, ONSET, melody_token
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPB = 4


@pytest.mark.parametrize(
    ("symbol", "root", "quality"),
    [("C", 0, ""), ("Dm7", 2, "m7"), ("Bb7", 10, "7"), ("F#m7b5", 6, "m7b5"), ("Ebmaj7", 3, "maj7"),
     ("G9", 7, "7"), ("Abdim7", 8, "dim"), ("C/E", 0, ""), ("a-7", 9, "m7"), ("C6", 0, "6")],
)
def test_parse_symbols(symbol: str, root: int, quality: str) -> None:
    chord = Chord.parse(symbol)
    assert chord == Chord(root, quality)
    assert Chord.from_token(chord.token) == chord


def test_parse_no_chord_and_errors() -> None:
    assert Chord.parse("N.C.") is None
    with pytest.raises(ValueError):
        Chord.parse("H7")
    with pytest.raises(ValueError):
        Chord.parse("Cxyz")


def _profile(*pcs: int) -> np.ndarray:
    p = np.zeros(12)
    p[list(pcs)] = 1.0
    return p


def test_templates_and_bass_tiebreak() -> None:
    best = lambda prof, bass=None: Chord.from_token(int(np.argmax(chord_scores(prof, bass))))  # noqa: E731
    assert best(_profile(0, 4, 7)) == Chord(0, "")
    assert best(_profile(9, 0, 4)) == Chord(9, "m")
    assert best(_profile(7, 11, 2, 5)) == Chord(7, "7")
    # C6 and Am7 share their notes: the bass decides
    assert best(_profile(0, 4, 7, 9), bass=9) == Chord(9, "m7")
    assert best(_profile(0, 4, 7, 9), bass=0) == Chord(0, "6")
    assert np.argmax(chord_scores(np.zeros(12))) == NO_CHORD


def test_viterbi_prefers_staying_unless_evidence_is_strong() -> None:
    scores = np.array([[0, 1.0, 0], [0, 0.9, 1.0], [0, 1.0, 0]])
    assert viterbi(scores, np.array([0, 0.2, 0.2])).tolist() == [1, 1, 1]
    assert viterbi(scores, np.array([0, 0.01, 0.01])).tolist() == [1, 2, 1]


def _texture(chords: list[Chord], beats_each: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block chords in root position (bass an octave down), the melody arpeggiating them."""
    n = len(chords) * beats_each * SPB
    accomp = np.zeros((n, 128), dtype=np.uint8)
    melody = np.zeros(n, dtype=np.int16)
    for i, c in enumerate(chords):
        a, b = i * beats_each * SPB, (i + 1) * beats_each * SPB
        for p in [36 + c.root, *[60 + (c.root + iv) % 12 for iv in (0, 4 if c.family == "major" else 3, 7)]]:
            accomp[a, p] = ONSET
            accomp[a + 1 : b, p] = HOLD
        for j, iv in enumerate((0, 4 if c.family == "major" else 3, 7, 12)[:beats_each]):
            start = a + j * SPB  # the melody arpeggiates the chord, one tone a beat
            melody[start] = melody_token(72 + c.root + iv, True)
            melody[start + 1 : start + SPB] = melody_token(72 + c.root + iv, False)
    bar_step = np.arange(n) % (4 * SPB)
    meta = np.stack([bar_step % SPB, bar_step, np.zeros(n), np.full(n, 4), np.zeros(n)], 1).astype(np.int64)
    return melody, accomp, meta


def track_changes(track: np.ndarray) -> list[tuple[int, Chord | None]]:
    """``(start frame, chord)`` at every change of a track: the inverse of ``chart_track``."""
    starts = np.concatenate([[0], np.nonzero(np.diff(track))[0] + 1])
    return [(int(s), Chord.from_token(int(track[s]))) for s in starts]


def test_chord_track_follows_block_chords() -> None:
    song = [Chord(0), Chord(5), Chord(7), Chord(9, "m"), Chord(0)]
    melody, accomp, meta = _texture(song)
    track = chord_track(melody, accomp, meta, SPB)
    assert [c for _, c in track_changes(track)] == song
    assert [s for s, _ in track_changes(track)] == [0, 16, 32, 48, 64]


def test_chart_transpose_and_changes_round_trip() -> None:
    changes = [(0, Chord(0)), (8, Chord(7, "7")), (12, None), (14, Chord(9, "m"))]
    track = chart_track(changes, 20)
    assert track_changes(track) == changes
    up = transpose_track(track, 2)
    assert [c for _, c in track_changes(up)] == [Chord(2), Chord(9, "7"), None, Chord(11, "m")]
    assert np.array_equal(transpose_track(up, -2), track)


def test_chord_model_round_trip_and_harmonize() -> None:
    progression = [Chord(0), Chord(5), Chord(7, "7"), Chord(0)] * 3
    melody, accomp, meta = _texture(progression)
    meta[:, 4] = chord_track(melody, accomp, meta, SPB)
    model = ChordModel.fit([meta], SPB)
    # changes happen at bar lines only in this corpus
    assert model.change_at_bar > 0.5 > model.change_in_bar
    back = ChordModel.from_json(model.to_json())
    assert np.array_equal(back.transitions, model.transitions)
    assert back.change_at_bar == model.change_at_bar
    # harmonise the bare melody
    track = harmonize(melody, meta, SPB, back)
    got = [Chord.from_token(int(track[t])) for t in range(0, len(track), 16)]
    assert all(c is not None and c.root == p.root for c, p in zip(got, progression, strict=True))


def test_parse_chart_on_a_grid_and_back() -> None:
    song = read_midi(FIXTURES / "tempo_changes.mid")
    grid = build_grid(song, select_parts(song), 4)
    chart = "C | Am7 | Dm7 G7 | C"
    track = parse_chart(chart, grid)
    first = grid.bar_index == 0
    assert (track[first] == Chord(0).token).all()
    third = np.nonzero(grid.bar_index == 2)[0]
    assert Chord.from_token(int(track[third[0]])) == Chord(2, "m7")
    assert Chord.from_token(int(track[third[-1]])) == Chord(7, "7")
    grid.chords = track
    assert chord_chart(grid).startswith(chart)
    with pytest.raises(StyleTxError, match="bar 2"):
        parse_chart("C | Xq7", grid)
    with pytest.raises(StyleTxError, match="bars"):
        parse_chart(" | ".join(["C"] * (grid.n_bars + 1)), grid)


def test_guide_melody_fills_long_rests_only() -> None:
    song = read_midi(FIXTURES / "tempo_changes.mid")
    grid = build_grid(song, select_parts(song), 4)
    grid.melody[:] = MELODY_REST
    grid.melody[:2] = melody_token(70, True)  # a two-frame rest would stay a rest
    guide = guide_melody(grid, min_frames=8)
    sounding = (grid.accomp > 0).any(1)
    filled = guide[2:] != MELODY_REST
    assert np.array_equal(filled, sounding[2:])
    top = 127 - np.argmax((grid.accomp > 0)[:, ::-1], axis=1)
    pitch = np.where(guide >= MELODY_HOLD, guide - MELODY_HOLD, guide - 1)
    assert np.array_equal(pitch[2:][filled], top[2:][filled])
    assert np.array_equal(guide[:2], grid.melody[:2])


def test_info_prints_the_chords_it_hears(capsys: pytest.CaptureFixture[str]) -> None:
    from styletx.cli import main

    sample = FIXTURES.parent.parent / "midi_samples" / "waltz_in_g.mid"
    assert main(["info", str(sample)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("chords"))
    bars = line.split(": ", 1)[1].split(" | ")
    song = read_midi(sample)
    assert len(bars) == build_grid(song, select_parts(song), 4).n_bars
    assert bars[0] == "G"  # a waltz in G opens on its tonic


def test_key_symbols_take_the_signature_with_fewest_accidentals() -> None:
    """Key names derive from NOTE_NAMES; they set the signature the MIDI writer stores."""
    from mido.midifiles.meta import _key_signature_encode

    assert [key_symbol(t, False) for t in range(12)] == list(NOTE_NAMES)
    assert [key_symbol(t, True) for t in range(12)] == [
        "Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm"]
    for minor in (False, True):
        for tonic in range(12):
            sharps, mode = _key_signature_encode[key_symbol(tonic, minor)]
            assert abs(sharps) <= 6 and mode == minor
            assert (7 * sharps + (9 if minor else 0)) % 12 == tonic  # the reader's rule


def test_parse_root_reads_b5_as_a_flat_fifth() -> None:
    """(Roots with accidentals: tests/test_mma.py.)"""
    assert parse_root("Cb5") == (0, "b5")
    with pytest.raises(ValueError):
        parse_root("H7")
