"""Repeats unfolded as a player reads them, each edge case one tiny score built in code.

Each score is a part of one-bar measures whose single whole note names the bar (bar 1 is
C4, bar 2 C#4, ...), so the unfolded melody spells the order the bars are played in.
"""

from __future__ import annotations

from typing import Any

import pytest

from styletx.score.read import song_from_stream
from styletx.score.repeats import measure_order, unfold


def part(n: int, *, starts: tuple[int, ...] = (), ends: dict[int, int] | None = None,
         endings: dict[int, tuple[int, ...]] | None = None, left_ends: tuple[int, ...] = ()) -> Any:
    """``n`` bars of 4/4; ``starts`` / ``ends`` (bar -> times) / ``left_ends`` are 1-based bars
    with a start-repeat on the left, an end-repeat on the right, or an end-repeat written on
    the left of the next bar; ``endings`` maps an ending's number to its bars."""
    from music21 import bar, meter, note, spanner, stream

    p = stream.Part()
    measures = []
    for i in range(1, n + 1):
        m = stream.Measure(number=i)
        if i == 1:
            m.insert(0, meter.TimeSignature("4/4"))
        m.append(note.Note(59 + i, quarterLength=4))
        if i in starts:
            m.leftBarline = bar.Repeat(direction="start")
        if i in left_ends:
            m.leftBarline = bar.Repeat(direction="end")
        if ends and i in ends:
            m.rightBarline = bar.Repeat(direction="end", times=ends[i])
        p.append(m)
        measures.append(m)
    for number, bars in (endings or {}).items():
        p.insert(0, spanner.RepeatBracket([measures[b - 1] for b in bars], number=number))
    return p


def played(p: Any) -> list[int]:
    """The bars, 1-based, in the order :func:`measure_order` plays them."""
    order = measure_order(p)
    assert order is not None
    return [i + 1 for i in order]


def test_an_end_repeat_without_a_start_goes_back_to_the_first_bar() -> None:
    assert played(part(3, ends={2: 2})) == [1, 2, 1, 2, 3]


def test_a_start_repeat_is_where_the_repeat_goes_back_to() -> None:
    assert played(part(4, starts=(2,), ends={3: 2})) == [1, 2, 3, 2, 3, 4]


def test_a_second_end_repeat_goes_back_to_the_bar_after_the_first() -> None:
    """A minuet's two halves, each repeated, with no start-repeat before the second
    (music21's expander goes back to bar 1 and plays the first half again)."""
    assert played(part(4, ends={2: 2, 4: 2})) == [1, 2, 1, 2, 3, 4, 3, 4]


def test_endings_of_several_bars_are_played_on_their_pass() -> None:
    p = part(6, ends={4: 2}, endings={1: (3, 4), 2: (5,)})
    assert played(p) == [1, 2, 3, 4, 1, 2, 5, 6]


def test_after_the_last_ending_the_next_section_starts_on_its_first_pass() -> None:
    p = part(6, ends={3: 2, 6: 2}, endings={1: (3,), 2: (4,)})
    assert played(p) == [1, 2, 3, 1, 2, 4, 5, 6, 5, 6]


def test_times_says_how_often_a_section_is_played() -> None:
    assert played(part(2, ends={1: 3})) == [1, 1, 1, 2]


def test_an_end_repeat_on_the_next_bars_left_closes_the_bar_before() -> None:
    assert played(part(3, left_ends=(3,))) == [1, 2, 1, 2, 3]


def marked(p: Any, marks: dict[int, list[Any]]) -> Any:
    """``p`` with repeat marks (music21 ``RepeatExpression`` objects) added to 1-based bars."""
    measures = list(p.getElementsByClass("Measure"))
    for number, objects in marks.items():
        for obj in objects:
            measures[number - 1].insert(0, obj)
    return p


def test_da_capo_al_fine_plays_from_the_start_to_the_fine() -> None:
    from music21 import repeat

    assert played(marked(part(4), {2: [repeat.Fine()], 4: [repeat.DaCapoAlFine()]})) == [1, 2, 3, 4, 1, 2]


def test_after_the_da_capo_the_repeats_are_not_taken() -> None:
    from music21 import repeat

    p = marked(part(4, ends={2: 2, 4: 2}), {2: [repeat.Fine()], 4: [repeat.DaCapoAlFine()]})
    # a minuet: music21 takes both repeats again and ends on bar 2 after 14 bars
    assert played(p) == [1, 2, 1, 2, 3, 4, 3, 4, 1, 2]


def test_dal_segno_al_coda_jumps_from_the_to_coda_bar_to_the_coda() -> None:
    from music21 import repeat

    p = marked(part(6), {2: [repeat.Segno()], 3: [repeat.Coda()], 4: [repeat.DalSegnoAlCoda()],
                         5: [repeat.Coda()]})
    assert played(p) == [1, 2, 3, 4, 2, 3, 5, 6]


def test_after_the_jump_only_the_last_ending_is_played() -> None:
    from music21 import repeat

    p = marked(part(5, ends={3: 2}, endings={1: (3,), 2: (4,)}), {5: [repeat.DaCapo()]})
    assert played(p) == [1, 2, 3, 1, 2, 4, 5, 1, 2, 4, 5]


def test_two_jumps_are_left_to_music21() -> None:
    from music21 import repeat

    p = marked(part(4), {2: [repeat.DaCapo()], 4: [repeat.DaCapo()]})
    assert measure_order(p) is None


def test_a_fine_that_no_jump_leads_to_changes_nothing() -> None:
    from music21 import repeat, stream

    p = part(4, ends={2: 2, 4: 2})
    p.getElementsByClass("Measure")[1].append(repeat.Fine())
    assert played(p) == [1, 2, 1, 2, 3, 4, 3, 4]
    unfolded = unfold(stream.Score([p]))
    assert not unfolded.recurse().getElementsByClass(repeat.RepeatExpression)


def test_the_unfolded_score_plays_every_part_in_that_order() -> None:
    from music21 import bar, stream

    score = stream.Score([part(4, ends={2: 2, 4: 2}), part(4, ends={2: 2, 4: 2})])
    song = song_from_stream(score)
    bars = [n.pitch - 59 for n in song.tracks[0].notes]
    assert bars == [1, 2, 1, 2, 3, 4, 3, 4] == [n.pitch - 59 for n in song.tracks[1].notes]
    assert [n.start for n in song.tracks[0].notes] == [i * 4 * 480 for i in range(8)]
    assert song.read_notes == ["repeats unfolded: 4 bars become 8"]
    unfolded = unfold(score)
    barlines = [m.rightBarline for m in unfolded.parts[0].getElementsByClass("Measure")]
    assert not any(isinstance(b, bar.Repeat) for b in barlines)
    assert sum(isinstance(b, bar.Barline) and b.type == "double" for b in barlines) == 4


@pytest.mark.parametrize("tied_over", [False, True])
def test_a_tie_into_a_repeated_bar_is_one_note_only_where_it_is_played_on(tied_over: bool) -> None:
    """A note tied from bar 2 into bar 3 is one held note there; on the repeat, bar 2 goes
    back to bar 1, and the tie's start is a note of its own."""
    from music21 import stream, tie

    p = part(3, ends={2: 2})
    m2, m3 = list(p.getElementsByClass(stream.Measure))[1:]
    if tied_over:
        m3.notes[0].pitch.midi = m2.notes[0].pitch.midi
        m2.notes[0].tie, m3.notes[0].tie = tie.Tie("start"), tie.Tie("stop")
    notes = song_from_stream(stream.Score([p])).tracks[0].notes
    bars = [(n.start // 1920, (n.end - n.start) // 1920) for n in notes]  # (bar, length in bars)
    held = [(3, 2)] if tied_over else [(3, 1), (4, 1)]
    assert bars == [(0, 1), (1, 1), (2, 1), *held]
    # reading merged the ties of its own copy, not of the caller's score
    assert [len(m.notes) for m in p.getElementsByClass(stream.Measure)] == [1, 1, 1]
    assert (m2.notes[0].tie is not None) == tied_over


def test_a_dal_segno_score_reads_in_the_played_order_without_its_marks() -> None:
    from music21 import repeat, stream

    p = marked(part(6), {2: [repeat.Segno()], 3: [repeat.Coda()], 4: [repeat.DalSegnoAlCoda()],
                         5: [repeat.Coda()]})
    song = song_from_stream(stream.Score([p]))
    assert [n.pitch - 59 for n in song.tracks[0].notes] == [1, 2, 3, 4, 2, 3, 5, 6]
    assert not song.notation[0].recurse().getElementsByClass(repeat.RepeatExpression)
