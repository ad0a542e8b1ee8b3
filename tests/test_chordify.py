"""The independent chord reader (music21 chordify + chord-symbol naming) on known cases."""

from __future__ import annotations

import numpy as np

from styletx.evaluation.chordify import kind_family, name_slice, read_chords
from styletx.evaluation.metrics import Piece
from styletx.music.chords import Chord
from styletx.music.song import Note

R = 480


def _piece(melody: list[Note], accomp: list[Note], bars: int = 1) -> Piece:
    return Piece(R, tuple(sorted(melody)), tuple(sorted(accomp)),
                 tuple(i * 4 * R for i in range(bars + 1)), (0,), (0,))


def _block(start: int, end: int, pitches: list[int]) -> list[Note]:
    return [Note(start, end, p, 80) for p in pitches]


def test_music21_kinds_fold_onto_families() -> None:
    assert kind_family("dominant-seventh") == "major"
    assert kind_family("suspended-fourth") == "major"
    assert kind_family("minor-seventh") == "minor"
    assert kind_family("half-diminished-seventh") == "dim"
    assert kind_family("diminished-seventh") == "dim"
    assert kind_family("power") is None and kind_family("pedal") is None


def test_triads_and_sevenths_are_named_by_root_and_family() -> None:
    assert name_slice(frozenset({0, 4, 7}), 0) == Chord(0, "")
    assert name_slice(frozenset({7, 11, 2, 5}), 7) == Chord(7, "")  # G7: major family
    assert name_slice(frozenset({9, 0, 4}), 9) == Chord(9, "m")
    assert name_slice(frozenset({11, 2, 5}), 11) == Chord(11, "dim")
    assert name_slice(frozenset({0, 7}), 0) is None  # a bare fifth names no family


def test_half_bars_of_block_chords() -> None:
    accomp = _block(0, 2 * R, [48, 52, 55]) + _block(2 * R, 4 * R, [43, 47, 50, 53])
    melody = [Note(0, 2 * R, 72, 80), Note(2 * R, 4 * R, 71, 80)]
    assert read_chords(_piece(melody, accomp)) == [Chord(0, ""), Chord(7, "")]


def test_a_passing_tone_does_not_change_the_chord() -> None:
    # A minor held for a half bar; the melody passes through B (a non-chord tone) briefly.
    accomp = _block(0, 2 * R, [45, 52, 60])
    melody = [Note(0, R, 76, 80), Note(R, R + R // 2, 71, 80), Note(R + R // 2, 2 * R, 72, 80)]
    piece = Piece(R, tuple(melody), tuple(accomp), (0, 4 * R), (0,), (0,))
    assert read_chords(piece, np.array([[0, 2 * R]]))[0] == Chord(9, "m")


def test_an_arpeggio_is_named_from_the_half_bars_notes() -> None:
    # C-E-G-E eighths in the bass under a held melody C: no slice holds three pitch classes.
    accomp = [Note(i * R // 2, (i + 1) * R // 2, p, 80) for i, p in enumerate([48, 52, 55, 52])]
    piece = Piece(R, (Note(0, 2 * R, 72, 80),), tuple(accomp), (0, 4 * R), (0,), (0,))
    assert read_chords(piece, np.array([[0, 2 * R]]))[0] == Chord(0, "")


def test_silence_has_no_chord() -> None:
    accomp = _block(0, 2 * R, [48, 52, 55])
    assert read_chords(_piece([], accomp))[1] is None


def test_chroma_similarity_windows() -> None:
    from styletx.music.metrics import windowed_chroma_similarity

    a = np.zeros((8, 12))
    a[:, 0] = 1
    assert windowed_chroma_similarity(a, a, 2, 1) == 1.0
    b = a.copy()
    b[4:] = 0  # silent for the second half: windows with one side silent score 0
    # windows start at 0..6; those starting at 4, 5, 6 hear only a, the one at 3 hears both
    assert windowed_chroma_similarity(a, b, 2, 1) == 4 / 7
    c = np.zeros((8, 12))
    c[:, 7] = 1  # a fifth away: orthogonal pitch classes
    assert windowed_chroma_similarity(a, c, 2, 1) == 0.0
    assert np.isnan(windowed_chroma_similarity(np.zeros((8, 12)), np.zeros((8, 12)), 2, 1))
