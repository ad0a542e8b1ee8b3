"""The evaluation metrics on hand-made cases with known answers, and ``styletx eval``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import styletx
from styletx.cli import main
from styletx.evaluation.metrics import (
    Piece,
    bass_on_chord,
    chord_agreement,
    clash,
    count_parallels,
    estimate_chords,
    groove,
    in_key,
    parallels_per_100_beats,
    piece_of,
    segment_bass,
    texture,
    transfer_metrics,
    voice_slices,
)
from styletx.music.chords import Chord
from styletx.music.song import KeySignature, Note, Parts, Song, TimeSignature, Track

RES = 480
BAR = 4 * RES
FIXTURES = Path(__file__).parent / "fixtures"
CHECKPOINTS = Path(__file__).parent.parent / "checkpoints"

# C F G C, one chord per half bar over two bars, as bass + three upper notes.
PROGRESSION = [(48, (60, 64, 67)), (41, (60, 65, 69)), (43, (59, 62, 67)), (48, (60, 64, 67))]


def n(start: float, end: float, pitch: int) -> Note:
    """A note with times in quarter notes."""
    return Note(round(start * RES), round(end * RES), pitch, 80)


def make_song(melody: list[Note], accomp: list[list[Note]], *, meter: tuple[int, int] = (4, 4)) -> Song:
    tracks = [Track("Melody", 0, False, sorted(melody), index=0)]
    tracks += [Track(f"Acc {i}", 0, False, sorted(notes), index=i + 1) for i, notes in enumerate(accomp)]
    return Song(RES, tracks, time_signatures=[TimeSignature(0, *meter)],
                key_signatures=[KeySignature(0, 0, False)])


def parts(song: Song) -> Parts:
    return Parts(song.tracks[0], song.tracks[1:], [], "test")


def progression_song(shift: int = 0, melody_shift: int = 0) -> Song:
    """Two bars of C F | G C; the accompaniment (and optionally the melody) moved by semitones."""
    bass, upper, melody = [], [], []
    for i, (b, chord) in enumerate(PROGRESSION):
        start, end = 2 * i, 2 * i + 2
        bass.append(n(start, end, b + shift))
        upper += [n(start, end, p + shift) for p in chord]
        melody.append(n(start, end, chord[-1] + 12 + melody_shift))
    return make_song(melody, [bass, upper])


def piece(song: Song) -> Piece:
    return piece_of(song, parts(song))


# ------------------------------------------------------------------------ chords


def test_chords_of_the_progression_are_found() -> None:
    chords = estimate_chords(piece(progression_song()))
    assert chords == [Chord(0, ""), Chord(5, ""), Chord(7, ""), Chord(0, "")]


def test_identity_gives_full_agreement_and_kept_contract() -> None:
    song = progression_song()
    m = transfer_metrics(song, parts(song), song, parts(song))["output"]
    assert m["chord_agreement"] == 1.0
    assert m["root_agreement"] == 1.0
    assert m["melody_exact"] == 1.0
    assert m["meta_kept"] == 1.0
    assert m["bass_on_root"] == 1.0 and m["bass_on_chord_tone"] == 1.0


def test_tritone_transposition_gives_low_chord_agreement() -> None:
    song = progression_song()
    whole = progression_song(shift=6, melody_shift=6)
    m = transfer_metrics(song, parts(song), whole, parts(whole))["output"]
    assert m["chord_agreement"] == 0.0 and m["root_agreement"] == 0.0
    assert m["melody_exact"] == 0.0
    accomp_only = progression_song(shift=6)
    m = transfer_metrics(song, parts(song), accomp_only, parts(accomp_only))["output"]
    assert m["chord_agreement"] <= 0.25
    assert m["melody_exact"] == 1.0


def test_agreement_counts_misses_and_skips_unchorded_reference() -> None:
    ref = [Chord(0, ""), Chord(0, "7"), None, Chord(9, "m")]
    other = [Chord(0, "maj7"), Chord(0, "m"), Chord(2, ""), None]
    a = chord_agreement(ref, other)
    assert (a.chord, a.root, a.segments) == (pytest.approx(1 / 3), pytest.approx(2 / 3), 3)


def test_bass_on_chord_root_and_tone() -> None:
    chords = [Chord(0, ""), Chord(0, ""), Chord(0, ""), None]
    b = bass_on_chord(chords, np.array([36, 40, 38, 50]))  # C (root), E (tone), D (neither)
    assert b.root == pytest.approx(1 / 3) and b.tone == pytest.approx(2 / 3)


def test_segment_bass_is_the_lowest_note_at_the_start_or_the_first_onset() -> None:
    notes = [n(0, 2, 48), n(0, 2, 43), n(2.5, 4, 50), n(3, 4, 45)]
    segs = np.array([[0, 2 * RES], [2 * RES, 4 * RES], [4 * RES, 6 * RES]])
    assert segment_bass(notes, segs).tolist() == [43, 50, -1]


# ------------------------------------------------------------------------ clash


def test_clash_of_a_semitone_cluster_is_counted() -> None:
    melody = [n(0, 4, 64)]  # E4 for a bar
    assert clash(piece(make_song(melody, [[n(0, 4, 65)]]))) == 1.0  # F4: a semitone
    assert clash(piece(make_song(melody, [[n(0, 4, 63)]]))) == 1.0  # Eb4 below
    assert clash(piece(make_song(melody, [[n(0, 4, 48), n(0, 4, 55)]]))) == 0.0  # C, G
    half = make_song(melody, [[n(0, 2, 53), n(2, 4, 55)]])  # F3 (a semitone class) then G3
    assert clash(piece(half)) == pytest.approx(0.5)


# ----------------------------------------------------------------------- groove


def test_steady_pattern_beats_random_onsets_on_groove() -> None:
    melody = [n(0, 32, 72)]
    steady = [n(bar * 4 + beat, bar * 4 + beat + 0.25, 48 + (beat % 2) * 7)
              for bar in range(8) for beat in (0, 1, 1.5, 2, 3, 3.67)]
    rng = np.random.default_rng(0)
    scattered = [n(bar * 4 + t, bar * 4 + t + 0.25, 55)
                 for bar in range(8) for t in np.sort(rng.choice(48, size=6, replace=False)) / 12]
    g_steady = groove(piece(make_song(melody, [steady])))
    g_random = groove(piece(make_song(melody, [scattered])))
    assert g_steady.consistency == pytest.approx(1.0)
    assert g_random.consistency < 0.7
    assert g_steady.empty_bars == 0.0


def test_empty_bars_are_reported() -> None:
    melody = [n(0, 16, 72)]
    acc = [n(0, 1, 48), n(8, 9, 48)]  # bars 1 and 3 of four
    g = groove(piece(make_song(melody, [acc])))
    assert g.empty_bars == 0.5
    assert g.consistency == 1.0  # the two bars have the same pattern


# -------------------------------------------------------------------- parallels


def test_hand_made_parallel_fifths_and_octaves_are_counted() -> None:
    assert count_parallels([[48, 55, 76], [50, 57, 77]]) == 1  # C-G to D-A, the melody apart
    assert count_parallels([[48, 60], [50, 62]]) == 1  # octaves
    assert count_parallels([[48, 55], [43, 50]]) == 1  # fifths, both falling
    assert count_parallels([[48, 55], [50, 53]]) == 0  # contrary motion
    assert count_parallels([[48, 55], [48, 57]]) == 0  # oblique: the bass stays
    assert count_parallels([[48, 55], [50, 57, 62]]) == 0  # voice count changed
    assert count_parallels([[48, 55], [50, 56]]) == 0  # fifth to a minor sixth


def test_parallels_in_a_piece_use_the_melody_as_top_voice() -> None:
    # Melody C5 -> D5 over a bass C4 -> D4: parallel octaves with the melody on top.
    song = make_song([n(0, 2, 72), n(2, 4, 74)], [[n(0, 2, 60), n(2, 4, 62)]])
    assert voice_slices(piece(song)) == [[60, 72], [62, 74]]
    assert parallels_per_100_beats(piece(song)) == pytest.approx(100 / 4)
    block = progression_song()  # root-position block chords with the melody doubling the fifth
    assert parallels_per_100_beats(piece(block)) > 0


# ------------------------------------------------------------- texture and keys


def test_texture_in_key_and_above_melody() -> None:
    melody = [n(0, 4, 67)]
    acc = [n(0, 4, 48), n(0, 4, 52), n(0, 4, 55), n(3, 4, 66), n(3, 4, 72)]
    p = piece(make_song(melody, [acc]))
    tex = texture(p)
    assert tex.notes_per_beat == pytest.approx(5 / 4)
    assert tex.polyphony == pytest.approx((3 * 36 + 5 * 12) / 48)
    assert in_key(p) == pytest.approx(4 / 5)  # F# is out of C major
    from styletx.evaluation.metrics import above_melody

    assert above_melody(p) == pytest.approx(1 / 5)  # C5 over G4


def test_melody_only_input_has_no_accompaniment_figures() -> None:
    song = make_song([n(0, 4, 67)], [])
    p = piece(song)
    assert np.isnan(clash(p)) and np.isnan(in_key(p))
    assert texture(p).notes_per_beat == 0.0


# ------------------------------------------------------------------- classifier


def test_classifier_learns_separable_styles_and_features_have_their_names() -> None:
    from styletx.evaluation.styleclass import FEATURE_NAMES, cross_validate, fit, window_features

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 3)), rng.normal(4, 1, (60, 3))])
    y = np.array([0] * 60 + [1] * 60)
    groups = [f"s{i}" for i in range(120)]
    acc, per = cross_validate(x, y, groups, 2, k=4)
    assert acc > 0.95 and min(per) > 0.9
    _, _, w, _ = fit(x, y, 2)
    assert w.shape == (3, 2)
    p = piece(progression_song())
    assert window_features(p, 0, 2 * BAR).shape == (len(FEATURE_NAMES),)


# --------------------------------------------------------------------- baseline


@pytest.mark.skipif(shutil.which("mma") is None, reason="mma is not installed (apt-get install mma)")
def test_mma_baseline_keeps_the_melody_and_the_chords() -> None:
    from styletx.evaluation.baseline import baseline_song

    song = progression_song()
    out = baseline_song(song, parts(song), "jazz")
    assert out.tracks[0] is song.tracks[0]
    m = transfer_metrics(song, parts(song), out)["output"]
    assert m["melody_exact"] == 1.0 and m["meta_kept"] == 1.0
    assert m["root_agreement"] >= 0.75
    again = baseline_song(song, parts(song), "jazz")
    assert [t.notes for t in again.tracks] == [t.notes for t in out.tracks]  # MMA is seeded


# -------------------------------------------------------------------------- CLI


def test_cli_eval_reports_json_for_a_render(tiny_style: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    src = FIXTURES / "named_tracks.mid"
    out = tmp_path / "out.mid"
    styletx.render(src, out, tiny_style, seed=1, sweeps=1)
    # Score it under this checkout's bach model (not whatever an installed copy ships).
    monkeypatch.setenv("STYLETX_MODELS", os.pathsep.join([os.environ["STYLETX_MODELS"], str(CHECKPOINTS)]))
    assert main(["eval", str(src), str(out), "--style", "bach", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["output"]["melody_exact"] == 1.0
    assert report["output"]["meta_kept"] == 1.0
    for key in ("chord_agreement", "bass_on_root", "clash", "groove", "parallels", "nll"):
        assert key in report["output"]
    assert report["input"]["chord_agreement"] == 1.0


@pytest.mark.parametrize("args", [
    ["corrupt.mid", "named_tracks.mid", "--style", "bach"],
    ["named_tracks.mid", "--style", "bach"],
    ["named_tracks.mid", "named_tracks.mid"],
    ["named_tracks.mid", "named_tracks.mid", "--style", "no-such-style"],
])
def test_cli_eval_bad_input_is_one_line_and_exit_2(args: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(FIXTURES / a) if a.endswith(".mid") else a for a in args]
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("styletx: error:")


# ------------------------------------------------------------------------ bench


def test_crop_cuts_notes_at_the_bar_line_and_keeps_the_parts() -> None:
    from styletx.evaluation.bench import crop

    song = progression_song()
    cropped, p = crop(song, parts(song), 1)
    assert max(x.end for t in cropped.tracks for x in t.notes) == BAR
    assert p.melody is cropped.tracks[0] and p.accompaniment == cropped.tracks[1:]
    assert crop(song, parts(song), 5)[0] is song  # short enough already


def test_inputs_are_balanced_over_the_other_styles(monkeypatch: pytest.MonkeyPatch) -> None:
    from styletx.evaluation import bench

    def fake(style: str, split: str) -> list[bench.CorpusPiece]:
        return [bench.CorpusPiece(style, f"{style}{i}", f"{style}{i}", split, lambda: (None, None))
                for i in range(10)]

    monkeypatch.setattr(bench, "corpus_pieces", fake)
    picked = bench.pick_inputs("jazz", 8, 0, ["bach", "bossa", "jazz", "pop"])
    picked = [p for p, _, _ in picked]
    counts = {s: sum(p.style == s for p in picked) for s in ("bach", "bossa", "pop", "jazz")}
    assert counts == {"bach": 3, "bossa": 3, "pop": 2, "jazz": 0}
    again = [p for p, _, _ in bench.pick_inputs("pop", 8, 0, ["bach", "bossa", "jazz", "pop"])]
    assert [p.piece_id for p in again if p.style == "bach"][:2] == \
        [p.piece_id for p in picked if p.style == "bach"][:2]  # a source's draw ignores the target


def test_results_are_written_and_assembled_into_one_page(tmp_path: Path) -> None:
    from styletx.evaluation.bench import assemble, write_results

    metrics = {"chord_agreement": 0.25, "clash": float("nan"), "groove": 0.9}
    result = {
        "style": "jazz", "command": "styletx eval --bench jazz", "commit": "abc1234",
        "date": "today", "seconds": 60.0, "sources": {"bach": 2},
        "settings": {"n": 2, "seed": 0, "sweeps": [5], "max_bars": 16, "temperature": 0.6},
        "classifier": None, "data": {"n": 1, "metrics": {"groove": 0.95}},
        "conditions": {"input": {"n": 2, "metrics": {"chord_agreement": 1.0}},
                       "styletx_sweeps_5": {"n": 2, "metrics": metrics},
                       "baseline": {"n": 2, "metrics": {"chord_agreement": 0.9}}},
        "skipped": ["MMA baseline: a reason"], "pieces": [],
    }
    js, _ = write_results(result, tmp_path / "quality")
    assert json.loads(js.read_text())["conditions"]["styletx_sweeps_5"]["metrics"]["clash"] is None
    page = assemble(tmp_path / "quality", tmp_path / "quality.md").read_text()
    assert "styletx eval --bench jazz" in page and "abc1234" in page
    assert "| **styletx** | 2 | 0.250 |" in page
    assert "| MMA baseline | 2 | 0.900 |" in page
    assert "- MMA baseline: a reason" in page
