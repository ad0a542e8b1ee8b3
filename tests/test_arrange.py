"""Voicing the model's roll as the style's instruments (:mod:`styletx.music.arrange`)."""

from __future__ import annotations

import random

from styletx.music.arrange import PartSpec, bass_line, voice_parts
from styletx.music.song import Note


def _lowest_at_onset(notes: list[Note], bass_max_pitch: int) -> set[int]:
    """The bass line's definition, note against note."""
    return {i for i, n in enumerate(notes) if n.pitch <= bass_max_pitch
            and not any(m.pitch < n.pitch and m.start <= n.start < m.end for m in notes)}


def test_bass_line_is_the_lowest_note_sounding_at_each_onset() -> None:
    rng = random.Random(0)
    for _ in range(200):
        notes = []
        for _ in range(rng.randint(0, 30)):
            start = rng.randint(0, 24)
            notes.append(Note(start, start + rng.randint(0, 8), rng.randint(40, 70), 80))
        assert bass_line(notes, 57) == _lowest_at_onset(notes, 57)


def test_a_held_low_note_keeps_a_higher_onset_out_of_the_bass() -> None:
    notes = [Note(0, 960, 40, 80), Note(480, 960, 45, 80), Note(960, 1440, 47, 80), Note(960, 1200, 60, 80)]
    assert bass_line(notes, 57) == {0, 2}
    tracks = voice_parts(notes, [PartSpec("Piano", 0), PartSpec("Bass", 33, "bass")], 57)
    assert [(t.name, [n.pitch for n in t.notes]) for t in tracks] == [("Bass", [40, 47]), ("Piano", [45, 60])]
