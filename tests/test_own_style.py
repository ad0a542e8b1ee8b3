"""Your own style: ``train --data DIR``, user styles, ``render --style-from``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pretty_midi
import pytest

import styletx.training.train
from styletx.cli import main
from styletx.io.reader import read_midi
from styletx.music.parts import select_parts
from styletx.styles import shipped_styles, style_origins
from styletx.training.corpus import detect_steps_per_beat, read_files, read_folder
from styletx.training.own import new_style_grid

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = json.dumps({
    "lstm_hidden": 8, "lstm_layers": 1, "gen_channels": 4, "gen_dilations": [1, 2],
    "melody_dim": 4, "accomp_dim": 4, "frame_dim": 8, "center_dim": 4, "cond_dim": 8,
})
TINY_TRAIN = ["--scratch", "--epochs", "2", "--max-steps-per-epoch", "2", "--batch-size", "2",
              "--model", TINY, "--quiet", "--device", "cpu"]
CHORDS = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]  # C Am F G


def song_file(path: Path, bars: int = 8, numerator: int = 4, denominator: int = 4,
              triplets: bool = False, seed: int = 0) -> Path:
    """A small song: a named melody part, a piano part of chords and a bass, in ``numerator/denominator``."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0))
    beat = 0.5  # seconds per quarter at 120 bpm
    bar = beat * 4 * numerator / denominator
    melody = pretty_midi.Instrument(program=73, name="Melody")
    piano = pretty_midi.Instrument(program=0, name="Piano")
    bass = pretty_midi.Instrument(program=32, name="Bass")
    scale = [72, 74, 76, 77, 79, 77, 76, 74]
    step = beat / 3 if triplets else beat / 2
    for b in range(bars):
        t0 = b * bar
        chord = CHORDS[(b + seed) % 4]
        n = round(bar / step)
        for i in range(n):
            p = scale[(i + b + seed) % len(scale)]
            melody.notes.append(pretty_midi.Note(90, p, t0 + i * step, t0 + (i + 1) * step))
        for k in range(round(bar / beat)):
            for p in chord:
                piano.notes.append(pretty_midi.Note(70, p, t0 + k * beat, t0 + k * beat + beat * 0.9))
        bass.notes.append(pretty_midi.Note(80, chord[0] - 24, t0, t0 + bar))
    pm.instruments += [melody, piano, bass]
    pm.write(str(path))
    return path


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "user-styles"
    monkeypatch.setenv("STYLETX_USER_STYLES", str(d))
    return d


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Three good songs (one in a sub-folder) and one file of each kind that must be skipped."""
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    song_file(d / "a.mid", seed=0)
    song_file(d / "b.mid", seed=1)
    song_file(d / "sub" / "c.mid", seed=2, numerator=3)
    song_file(d / "short.mid", bars=1)
    song_file(d / "odd_meter.mid", numerator=17, bars=2)
    shutil.copy(FIXTURES / "drums_only.mid", d / "drums.mid")
    shutil.copy(FIXTURES / "corrupt.mid", d / "broken.mid")
    shutil.copy(FIXTURES / "melody_only.mid", d / "tune_only.mid")
    (d / "notes.txt").write_text("not a MIDI file, and not named like one")
    return d


def test_skip_report_names_each_bad_file_and_why(data_dir: Path) -> None:
    corpus = read_folder(data_dir)
    assert sorted(f.name for f in corpus.files) == ["a.mid", "b.mid", "odd_meter.mid", "sub/c.mid"]
    corpus.pieces(4, new_style_grid(4))
    reasons = {s.name: s.reason for s in corpus.skipped}
    assert set(reasons) == {"short.mid", "odd_meter.mid", "drums.mid", "broken.mid", "tune_only.mid"}
    assert reasons["short.mid"].startswith("too short")
    assert reasons["odd_meter.mid"].startswith("meter the grid cannot hold: 17/4")
    assert reasons["drums.mid"] == "drums only"
    assert reasons["broken.mid"].startswith("unreadable")
    assert reasons["tune_only.mid"].startswith("no accompaniment")
    summary = corpus.summary()
    assert summary["files_used"] == 3 and summary["meters"] == {"4/4": 2, "3/4": 1}
    assert summary["split"]["valid"] >= 1  # a small folder still validates on a held-out file
    assert 3 * 4 * 8 > summary["beats"] > 2 * 4 * 7


def test_no_melody_is_skipped_with_its_reason(tmp_path: Path) -> None:
    # several parts, none of them a tune: two identical block-chord parts
    pm = pretty_midi.PrettyMIDI()
    for name in ("Pad", "Pad 2"):
        inst = pretty_midi.Instrument(program=89, name=name)
        for b in range(8):
            for p in CHORDS[b % 4]:
                inst.notes.append(pretty_midi.Note(70, p, b * 2.0, b * 2.0 + 2.0))
        pm.instruments.append(inst)
    pm.write(str(tmp_path / "pads.mid"))
    song_file(tmp_path / "ok.mid")
    corpus = read_folder(tmp_path)
    assert [s.name for s in corpus.skipped] == ["pads.mid"]
    assert corpus.skipped[0].reason.startswith("no melody")


def test_steps_per_beat_follows_the_data(tmp_path: Path) -> None:
    straight = read_files([song_file(tmp_path / "s.mid")])
    assert detect_steps_per_beat(straight.files)[0] == 4
    triplet = read_files([song_file(tmp_path / "t.mid", triplets=True)])
    assert detect_steps_per_beat(triplet.files)[0] == 6


def test_melody_track_override_applies_to_every_file(tmp_path: Path) -> None:
    song_file(tmp_path / "a.mid")
    corpus = read_folder(tmp_path, melody_track="Bass")
    assert corpus.files[0].parts.melody.name == "Bass"


def test_train_data_installs_a_user_style_that_renders(data_dir: Path, user_dir: Path,
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--style", "mine", "--data", str(data_dir), *TINY_TRAIN]) == 0
    out = capsys.readouterr()
    assert "files: 3 used, 5 skipped" in out.out and "meters: 4/4 (2 files), 3/4 (1 files)" in out.out
    for name in ("short.mid", "odd_meter.mid", "drums.mid", "broken.mid", "tune_only.mid"):
        assert f"skipped {name}: " in out.err
    installed = user_dir / "mine"
    assert sorted(p.name for p in user_dir.iterdir()) == ["mine"]  # no partial folder left
    splits = json.loads((installed / "splits.json").read_text())
    assert sorted(f["file"] for s in ("train", "valid", "test") for f in splits[s]) == \
        ["a.mid", "b.mid", "sub/c.mid"]
    card = (installed / "MODEL_CARD.md").read_text()
    assert "3 files used, 5 skipped" in card and "trained from scratch" in card
    assert "`broken.mid`" in card and "--data" in card

    assert style_origins()["mine"] == (installed, "user")
    assert main(["styles", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["mine"]["origin"] == "user"

    src = data_dir / "a.mid"
    dst = tmp_path / "out.mid"
    assert main(["render", str(src), "--style", "mine", "-o", str(dst), "--seed", "1",
                 "--sweeps", "1"]) == 0
    assert read_midi(dst).tracks[0].notes == select_parts(read_midi(src)).melody.notes


def test_folder_without_usable_files_is_one_line_and_exit_2(tmp_path: Path, user_dir: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    shutil.copy(FIXTURES / "drums_only.mid", tmp_path / "d.mid")
    shutil.copy(FIXTURES / "corrupt.mid", tmp_path / "c.mid")
    assert main(["train", "--style", "x", "--data", str(tmp_path), *TINY_TRAIN]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no usable MIDI file among 2" in err[0]
    assert not user_dir.exists() or not any(user_dir.iterdir())
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--style", "x", "--data", str(empty)]) == 2
    assert "no MIDI files" in capsys.readouterr().err


@pytest.mark.skipif("bach" not in shipped_styles(), reason="no shipped bach style")
def test_shipped_name_is_refused_without_force(data_dir: Path, user_dir: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--style", "bach", "--data", str(data_dir), *TINY_TRAIN]) == 2
    assert "'bach' is a shipped style" in capsys.readouterr().err
    assert not (user_dir / "bach").exists()


def test_interrupted_training_leaves_no_style_and_resumes(
        data_dir: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    real = styletx.training.train.evaluate
    calls = {"n": 0}

    def interrupt_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(styletx.training.train, "evaluate", interrupt_second_epoch)
    assert main(["train", "--style", "mine", "--data", str(data_dir), *TINY_TRAIN]) == 130
    assert "--resume" in capsys.readouterr().err
    assert not (user_dir / "mine").exists() and "mine" not in style_origins()
    partial = user_dir / ".mine.partial"
    assert (partial / "train_state.pt").exists() and (partial / "model.safetensors").exists()

    monkeypatch.setattr(styletx.training.train, "evaluate", real)
    assert main(["train", "--style", "mine", "--data", str(data_dir), *TINY_TRAIN, "--resume"]) == 0
    record = json.loads((user_dir / "mine" / "train.json").read_text())
    assert len(record["commands"]) == 2 and [h["epoch"] for h in record["history"]] == [1, 2]
    assert not partial.exists()


def test_remove_asks_first(data_dir: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--style", "mine", "--data", str(data_dir), *TINY_TRAIN]) == 0
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["styles", "--remove", "mine"]) == 1
    assert (user_dir / "mine").exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["styles", "--remove", "mine"]) == 0
    assert not (user_dir / "mine").exists()
    capsys.readouterr()
    assert main(["styles", "--remove", "mine", "--yes"]) == 2
    assert "not a user style" in capsys.readouterr().err


def test_style_from_adapts_within_a_step_budget_and_keeps_the_melody(
        tmp_path: Path, user_dir: Path, tiny_style: str, capsys: pytest.CaptureFixture) -> None:
    example = song_file(tmp_path / "example.mid", seed=3)
    src = FIXTURES / "tempo_changes.mid"
    dst = tmp_path / "out.mid"
    assert main(["render", str(src), "--style", tiny_style, "--style-from", str(example),
                 "--adapt-steps", "2", "--save-style", "kept", "-o", str(dst), "--seed", "0",
                 "--sweeps", "1"]) == 0
    err = capsys.readouterr().err
    assert f"base style: {tiny_style}" in err and "fine-tuned 2 steps" in err
    assert read_midi(dst).tracks[0].notes == select_parts(read_midi(src)).melody.notes
    assert (user_dir / "kept" / "model.safetensors").exists()
    assert style_origins()["kept"][1] == "user"
    card = (user_dir / "kept" / "MODEL_CARD.md").read_text()
    assert "- Examples: " in card and f"example.mid; fine-tuned from `{tiny_style}`" in card
    again = tmp_path / "again.mid"
    assert main(["render", str(src), "--style", "kept", "-o", str(again), "--seed", "0",
                 "--sweeps", "1"]) == 0


@pytest.mark.skipif(len(shipped_styles()) < 2, reason="the shipped styles are not installed")
def test_style_from_picks_the_nearest_shipped_style(tmp_path: Path, user_dir: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    example = song_file(tmp_path / "example.mid", seed=3)
    dst = tmp_path / "out.mid"
    assert main(["render", str(FIXTURES / "meter_3_4.mid"), "--style-from", str(example),
                 "--adapt-steps", "1", "-o", str(dst), "--seed", "0", "--sweeps", "1"]) == 0
    err = capsys.readouterr().err
    assert "nearest shipped style: " in err and "fine-tuned 1 steps" in err
    picked = err.split("nearest shipped style: ")[1].split(" ")[0]
    assert picked in shipped_styles()


def test_style_from_a_bad_example_is_one_line(tmp_path: Path, tiny_style: str,
                                              capsys: pytest.CaptureFixture) -> None:
    rc = main(["render", str(FIXTURES / "tempo_changes.mid"), "--style", tiny_style,
               "--style-from", str(FIXTURES / "drums_only.mid"), "-o", str(tmp_path / "o.mid")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "drums_only.mid: drums only" in err[0]


def test_train_data_from_a_base_style_fine_tunes_it(data_dir: Path, user_dir: Path,
                                                    tiny_style: str,
                                                    capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--style", "mine", "--data", str(data_dir), "--from", tiny_style,
                 "--epochs", "1", "--max-steps-per-epoch", "2", "--quiet", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"base model: {tiny_style}" in out
    installed = user_dir / "mine"
    cfg = json.loads((installed / "config.json").read_text())
    base_cfg = json.loads((style_origins()[tiny_style][0] / "config.json").read_text())
    assert cfg == base_cfg  # the base's network, fine-tuned
    record = json.loads((installed / "train.json").read_text())
    assert record["train_config"]["style"] == "mine"
    assert record["base_style"] == tiny_style and record["history"][-1]["steps"] >= 1
    assert f"`{tiny_style}`, fine-tuned" in (installed / "MODEL_CARD.md").read_text()


def test_a_folder_recipe_trains_a_tiny_model_and_is_saved_with_it(
        tmp_path: Path, user_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from styletx.stylefolder.format import StyleFolder
    from styletx.training.recipes import MidiFolder, UserRecipe

    songs = tmp_path / "project" / "songs"
    songs.mkdir(parents=True)
    song_file(songs / "a.mid", seed=0)
    song_file(songs / "b.mid", seed=1)
    recipe_file = tmp_path / "project" / "recipe.json"
    recipe_file.write_text(json.dumps({
        "name": "folky", "description": "Two songs of mine", "data": {"kind": "folder", "path": "songs"},
        "scratch": True, "epochs": 1, "max_steps_per_epoch": 2, "batch_size": 2, "seed": 3,
        "model": json.loads(TINY)}))
    assert main(["train", "--recipe", str(recipe_file), "--quiet", "--device", "cpu"]) == 0
    folder = StyleFolder(user_dir / "folky")
    saved = UserRecipe.from_dict(folder.read_recipe())
    assert saved.data == MidiFolder(songs) and saved.seed == 3 and saved.scratch
    assert folder.read_record().train_config.seed == 3 and folder.read_record().data["train"]["pieces"] >= 1
    assert folder.read_info().description == "Two songs of mine"
    assert folder.read_config().lstm_hidden == 8  # the recipe's tiny model
    assert f"Trained with styletx {styletx.__version__}." in folder.read_card()
    # --data DIR is shorthand for a folder recipe
    assert main(["train", "--style", "mine", "--data", str(songs), *TINY_TRAIN]) == 0
    short = UserRecipe.from_dict(StyleFolder(user_dir / "mine").read_recipe())
    assert short.name == "mine" and short.data == MidiFolder(songs) and short.scratch


def test_a_recipe_of_another_kind_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"name": "x", "data": {"kind": "chorales", "path": "."}}))
    assert main(["train", "--recipe", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "kind 'chorales'" in err[0] and "folder" in err[0]
