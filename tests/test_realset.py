"""The real-input set: which pieces, how each is built, and that none is in a training split."""

from __future__ import annotations

import json
from pathlib import Path

from styletx.evaluation.realset import PIECES, RealPiece, build_real_set, chorale_pieces, real_inputs
from styletx.training.splits import split_of


def test_the_set_has_sixty_pieces_of_five_kinds_none_in_a_training_split() -> None:
    chorales = chorale_pieces()
    pieces = [*chorales, *PIECES]
    assert len(pieces) >= 60
    assert {p.kind for p in pieces} == {"chorale", "piano", "song", "quartet", "leadsheet"}
    assert all(split_of(p.piece_id) != "train" for p in chorales)
    # the melodies the MMA corpora render: O'Neill and Essen tunes and chorale sopranos
    assert not any(p.path.startswith(("oneills1850/", "essenFolksong/", "bach/")) for p in PIECES)
    assert len({p.piece_id for p in pieces}) == len(pieces)


def test_a_lead_sheet_and_a_chorale_build_into_midi_files(tmp_path: Path) -> None:
    chorale = chorale_pieces(1)[0]
    sheet = next(p for p in PIECES if p.piece_id == "leadsheet/foster_brown_hair")
    broken = RealPiece("missing/piece", "song", "no/such/file.mxl", "part 0")
    manifest = build_real_set([chorale, sheet, broken], tmp_path)
    entries = json.loads(manifest.read_text())["pieces"]
    assert [e["id"] for e in entries] == [chorale.piece_id, sheet.piece_id]  # the broken one is left out
    assert all("licence" in e and e["source"].startswith("music21 corpus: ") for e in entries)
    inputs = real_inputs(tmp_path)
    song, parts = inputs[1].song, inputs[1].parts
    assert parts.melody.name == "Melody" and [t.name for t in parts.accompaniment] == ["Chords"]
    chords = parts.accompaniment[0].notes
    assert chords and all(48 <= n.pitch < 72 for n in chords)  # block chords, root in octave 3
    # 16 bars at most: nothing starts after the 16th bar of 4/4 (a pickup counts as a bar)
    assert max(n.start for t in song.tracks for n in t.notes) < 16 * 4 * song.resolution
    chorale_song = inputs[0]
    assert chorale_song.parts.melody.notes and len(chorale_song.parts.accompaniment) == 3
