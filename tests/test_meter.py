"""Odd meters counted in beat groups (issue #19): 5/4 as 3+2, 7/8 as 2+2+3, on the grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from styletx.api import render
from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.music.chords import beat_starts
from styletx.music.grid import build_grid
from styletx.music.meter import BeatGroups, beat_groups, rule_groups
from styletx.music.parts import select_parts
from styletx.music.song import Note, Song, TempoChange, TimeSignature, Track

R = 480
SPB = 4  # frames per quarter


def odd_song(numerator: int, denominator: int, bars: int = 2, groups: tuple[int, ...] = ()) -> Song:
    """``bars`` bars of one meter: a melody note on every denominator unit, a chord per bar."""
    unit = 4 * R // denominator
    bar = numerator * unit
    tune = [72, 74, 76, 77, 79, 77, 76]
    melody = [Note(i * unit, (i + 1) * unit - 10, tune[i % len(tune)], 90) for i in range(bars * numerator)]
    chords = [Note(b * bar, (b + 1) * bar, p, 60) for b in range(bars) for p in (48, 52, 55)]
    return Song(R, [Track("Melody", 73, False, melody, index=0), Track("Piano", 0, False, chords, index=1)],
                [TempoChange(0, 500_000)], [TimeSignature(0, numerator, denominator, groups)])


def test_the_rule_groups_odd_bars_in_twos_and_threes() -> None:
    assert rule_groups(5, 4) == (3, 2)
    assert rule_groups(7, 4) == (3, 2, 2)
    assert rule_groups(5, 8) == (2, 3)
    assert rule_groups(7, 8) == (2, 2, 3)
    assert rule_groups(11, 8) == (2, 2, 2, 2, 3)
    for plain in ((4, 4), (3, 4), (2, 2), (6, 8), (9, 8), (12, 8), (3, 8)):
        assert rule_groups(*plain) == ()
        assert beat_groups(TimeSignature(0, *plain)) is None


def test_a_score_grouping_wins_and_a_wrong_one_is_ignored() -> None:
    assert beat_groups(TimeSignature(0, 5, 4, (2, 3))) == BeatGroups((2, 3), 4)
    assert beat_groups(TimeSignature(0, 7, 8, (3, 2, 2))).label == "3+2+2"
    assert beat_groups(TimeSignature(0, 7, 8, (3, 3))) == BeatGroups((2, 2, 3), 8)  # does not fill the bar
    assert BeatGroups((2, 2, 3), 8).starts(R) == [0, R, 2 * R]
    with pytest.raises(ValueError):
        BeatGroups((), 4)


def _grid(song: Song):
    return build_grid(song, select_parts(song, 0), steps_per_beat=SPB)


def test_a_five_four_bar_falls_into_three_and_two() -> None:
    grid = _grid(odd_song(5, 4))
    bar = 5 * SPB
    assert list(np.flatnonzero(grid.bar_step == 0)) == [0, 3 * SPB, bar, bar + 3 * SPB]
    assert list(grid.bar_beats[[0, 3 * SPB, bar]]) == [3, 2, 3]
    assert list(grid.bar_index[[0, bar - 1, bar]]) == [0, 0, 1]  # the bars stay the input's
    assert list(beat_starts(grid.meta(), SPB)) == list(range(0, 2 * bar, SPB))


def test_a_seven_eight_bar_falls_into_two_two_three() -> None:
    grid = _grid(odd_song(7, 8))
    eighth, bar = SPB // 2, 7 * SPB // 2
    assert list(np.flatnonzero(grid.bar_step == 0)) == [0, 2 * eighth, 4 * eighth, bar, bar + 2 * eighth,
                                                        bar + 4 * eighth]
    assert set(beat_starts(grid.meta(), SPB)) >= {0, 2 * eighth, 4 * eighth, bar}
    assert list(grid.bar_beats[[0, 2 * eighth, 4 * eighth]]) == [1, 1, 2]


def test_a_common_meter_is_counted_as_written() -> None:
    grid = _grid(odd_song(4, 4))
    assert list(np.flatnonzero(grid.bar_step == 0)) == [0, 4 * SPB]
    assert grid.bar_step.max() == 4 * SPB - 1


def test_an_odd_meter_render_keeps_the_melody(tiny_style: str, tmp_path: Path) -> None:
    for numerator, denominator in ((5, 4), (7, 8)):
        src = tmp_path / f"odd{numerator}.mid"
        write_midi(src, (song := odd_song(numerator, denominator, bars=4)), song.tracks)
        result = render(src, tmp_path / f"out{numerator}.mid", tiny_style, seed=0, sweeps=1)
        before = [(n.start, n.end, n.pitch) for n in read_midi(src).tracks[0].notes]
        written = read_midi(tmp_path / f"out{numerator}.mid")
        assert [(n.start, n.end, n.pitch) for n in result.tracks[0].notes] == before
        assert any([(n.start, n.end, n.pitch) for n in t.notes] == before for t in written.tracks)
        assert any(t.notes for t in result.tracks[1:])


def test_a_scores_additive_signature_gives_the_groups() -> None:
    from music21 import meter, note, stream

    from styletx.score.read import song_from_stream

    def part(signature: str) -> stream.Part:
        p = stream.Part()
        p.append(meter.TimeSignature(signature))
        for k in range(10):
            p.append(note.Note(60 + k % 5, quarterLength=1))
        return p

    assert [ts.groups for ts in song_from_stream(part("2+3/4")).time_signatures] == [(2, 3)]
    assert [ts.groups for ts in song_from_stream(part("5/4")).time_signatures] == [()]
    grid = _grid(song_from_stream(part("2+3/4")))
    assert list(np.flatnonzero(grid.bar_step == 0))[:2] == [0, 2 * SPB]
