"""Tests for the MMA training-data builder: lead sheets, chord fitter, splits, rendering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest
from music21.exceptions21 import Music21Exception

from styletx.errors import StyleTxError
from styletx.music.chords import parse_root
from styletx.training import leadsheets
from styletx.training import mma as mma_mod
from styletx.training.leadsheets import (
    ChordChange,
    LeadSheet,
    MelodyNote,
    harmonise,
    load_leadsheets,
    transpose_chord,
)
from styletx.training.recipes import mma_specs
from styletx.training.splits import split_of

needs_mma = pytest.mark.skipif(shutil.which("mma") is None,
                               reason="mma not installed: apt-get install mma")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STYLETX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_split_of_rule() -> None:
    import hashlib

    for sid in ["bach/bwv269", "oneill/123", "essen/altdeu10/7", "x"]:
        r = int(hashlib.sha1(sid.encode()).hexdigest(), 16) % 10
        assert split_of(sid) == {8: "valid", 9: "test"}.get(r, "train")
    counts = {s: 0 for s in ("train", "valid", "test")}
    for i in range(2000):
        counts[split_of(f"oneill/{i}")] += 1
    assert 0.75 < counts["train"] / 2000 < 0.85


def test_chord_names_round_trip() -> None:
    assert parse_root("F#m7b5") == (6, "m7b5")
    assert parse_root("Bbmaj7") == (10, "maj7")
    assert parse_root("Bm7b5") == (11, "m7b5")
    assert transpose_chord("G7", 3) == "Bb7"
    assert transpose_chord("Dm", -3) == "Bm"


def test_fitter_c_major_melody_gives_tonic_subdominant_dominant() -> None:
    # | C E G C | F A C A | G B D B | C - - - |  (one chord each: C, F, G, C)
    pitches = [[60, 64, 67, 72], [65, 69, 72, 69], [67, 71, 74, 71]]
    notes = [MelodyNote(4.0 * b + i, 4.0 * b + i + 1, p) for b, bar in enumerate(pitches)
             for i, p in enumerate(bar)]
    notes.append(MelodyNote(12.0, 16.0, 60))
    chords = harmonise([notes], 4, 4, 4.0, tonic=0, minor=False)
    roots = [parse_root(c.name)[0] for c in chords if c.beat == 0.0]
    assert roots == [0, 5, 7, 0]
    assert all(parse_root(c.name)[1] in ("", "7", "maj7") for c in chords)


def _sheet(numerator: int) -> LeadSheet:
    """A small hand-made lead sheet with a pickup, in 4/4 or 3/4."""
    bar = float(numerator)
    notes = [MelodyNote(bar - 1, bar, 67)]
    for b in range(1, 4):
        notes += [MelodyNote(b * bar + i, b * bar + i + 1, 60 + 2 * i + b)
                  for i in range(numerator)]
    chords = [ChordChange(0, 0.0, "C"), ChordChange(1, 0.0, "Dm7"), ChordChange(2, 0.0, "G7"),
              ChordChange(3, 0.0, "C")]
    return LeadSheet(f"test/{numerator}", notes, numerator, 4, 1.0, 0, False, chords, 4)


@needs_mma
def test_build_tiny_corpus_keeps_melody_exact(cache: Path, tmp_path: Path) -> None:
    sheets = [_sheet(4), _sheet(3)]
    out = mma_mod.build_style_corpus("jazz", limit=3, sheets=sheets, jobs=1,
                                     out_dir=tmp_path / "jazz", progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_pieces"] == 3 and not manifest["errors"]
    assert manifest["mma_version"][0].isdigit()
    by_id = {s.source_id: s for s in sheets}
    meters = set()
    for entry in manifest["pieces"]:
        mid = mido.MidiFile(out / entry["file"])
        assert mid.type == 1
        names = [t.name for t in mid.tracks]
        assert "melody" in names and not any(n.lower().startswith("drum") for n in names)
        shift = entry["transpose"] + entry["melody_octave_shift"]
        want = [(n.start, n.pitch + shift) for n in by_id[entry["source_id"]].notes]
        got, accomp = [], []
        for tr in mid.tracks:
            t = 0
            for m in tr:
                t += m.time
                if m.type == "note_on" and m.velocity > 0:
                    assert m.channel != 9
                    hit = (t / mid.ticks_per_beat, m.note)
                    (got if tr.name == "melody" else accomp).append(hit)
        assert got == want
        assert len(accomp) > 10
        metas = {m.type for m in mid.tracks[0]}
        assert {"set_tempo", "time_signature", "key_signature"} <= metas
        meters.add(entry["meter"])
        assert entry["split"] == split_of(entry["source_id"])
    assert meters == {"4/4", "3/4"}


@needs_mma
def test_second_build_reuses_renders(cache: Path, tmp_path: Path) -> None:
    kw = {"limit": 2, "sheets": [_sheet(4)], "jobs": 1, "out_dir": tmp_path / "pop",
          "progress": False}
    out = mma_mod.build_style_corpus("pop", **kw)
    files = sorted(p.stat().st_mtime_ns for p in (out / "midi").glob("*.mid"))
    mma_mod.build_style_corpus("pop", **kw)
    assert sorted(p.stat().st_mtime_ns for p in (out / "midi").glob("*.mid")) == files


def test_missing_mma_is_a_one_line_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mma_mod.shutil, "which", lambda _name: None)
    with pytest.raises(StyleTxError, match="apt-get install mma"):
        mma_mod.build_style_corpus("jazz", limit=1, sheets=[_sheet(4)], progress=False)


def test_chorale_lead_sheet_from_corpus(cache: Path) -> None:
    (sheet,) = load_leadsheets(paths=["bach/bwv269"], jobs=1)
    assert (sheet.numerator, sheet.pickup) == (3, 1.0)
    assert sheet.notes[0].start == 2.0  # the pickup ends bar 0
    assert {c.bar for c in sheet.chords} == set(range(sheet.n_bars))
    assert np.all(np.diff([n.start for n in sheet.notes]) > 0)
    assert (cache / "leadsheets").exists()  # cached for the next call


def _tiny_sheet(source_id: str) -> LeadSheet:
    return LeadSheet(source_id, [MelodyNote(0.0, 1.0, 60)], 4, 4, 0.0, 0, False, [], 1)


def test_a_failed_parse_is_reported_and_not_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A music21 error leaves nothing in the cache, so the next run parses (and reports) again."""
    results: list = [Music21Exception("bad file"), ([_tiny_sheet("oneill/1")], ["oneill/2: bad tune"]),
                     ([_tiny_sheet("oneill/1")], [])]

    def parse(_path: str) -> tuple[list[LeadSheet], list[str]]:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(leadsheets, "parse_corpus_file", parse)
    cached = leadsheets._cache_file("oneills1850/x.abc")
    assert leadsheets.load_corpus_file("oneills1850/x.abc") == []
    assert not cached.exists() and "bad file" in caplog.text
    assert [s.source_id for s in leadsheets.load_corpus_file("oneills1850/x.abc")] == ["oneill/1"]
    assert not cached.exists() and "oneill/2: bad tune" in caplog.text
    assert [s.source_id for s in leadsheets.load_corpus_file("oneills1850/x.abc")] == ["oneill/1"]
    assert cached.exists()  # a clean parse is kept
    assert [s.source_id for s in leadsheets.load_corpus_file("oneills1850/x.abc")] == ["oneill/1"]
    assert not results


def test_only_music21_errors_skip_a_tune(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tune music21 raises on is named in the failures; any other error is a bug and propagates."""
    from music21 import corpus, metadata, stream

    opus = stream.Opus()
    for number in ("1", "2"):
        score = stream.Score()
        score.metadata = metadata.Metadata(number=number)
        opus.append(score)
    monkeypatch.setattr(corpus, "parse", lambda _path: opus)

    def to_sheets(_score: object, source_id: str, is_chorale: bool) -> list[LeadSheet]:
        if source_id.endswith("/1"):
            raise Music21Exception("no key")
        return [_tiny_sheet(source_id)]

    monkeypatch.setattr(leadsheets, "_score_to_sheets", to_sheets)
    sheets, failures = leadsheets.parse_corpus_file("oneills1850/x.abc")
    assert [s.source_id for s in sheets] == ["oneill/2"]
    assert failures == ["oneill/1: Music21Exception: no key"]

    def broken(_score: object, source_id: str, is_chorale: bool) -> list[LeadSheet]:
        raise TypeError("a bug in styletx")

    monkeypatch.setattr(leadsheets, "_score_to_sheets", broken)
    with pytest.raises(TypeError):
        leadsheets.parse_corpus_file("oneills1850/x.abc")


def test_mma_specs_are_consistent() -> None:
    specs = mma_specs()
    assert set(specs) == {"jazz", "bossa", "ragtime", "folk", "pop"}
    assert 3 in specs["jazz"].grooves and 4 in specs["jazz"].grooves
    for spec in specs.values():
        assert set(spec.grooves) == set(spec.tempo) <= {3, 4, 6}
        assert all(lo < hi for lo, hi in spec.tempo.values())
