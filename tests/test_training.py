"""Corpus building, training and the shipped checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import styletx
from styletx.io.reader import read_midi
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.network import StyleNet
from styletx.model.settings import SamplerSettings
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.stylefolder.format import StyleFolder
from styletx.styles import load_style, style_dirs
from styletx.training.corpus import chorale_song, load_pieces, piece_from_grid, save_pieces
from styletx.training.splits import split_of
from styletx.training.train import evaluate, train, transpose_piece, valid_shifts

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TINY_MODEL = {
    "lstm_hidden": 16, "lstm_layers": 1, "gen_channels": 8, "gen_dilations": [1, 2, 4],
    "melody_dim": 8, "accomp_dim": 8, "frame_dim": 16, "center_dim": 8, "cond_dim": 16,
}


def test_chorale_song_splits_voices_and_keeps_pickup() -> None:
    song, parts = chorale_song("bach/bwv269")
    assert parts.melody.name == "Soprano"
    assert [t.name for t in parts.accompaniment] == ["Alto", "Tenor", "Bass"]
    assert song.time_signatures[0].tick == 0 and song.time_signatures[1].tick == 480  # 1-beat pickup
    assert song.key_signatures[0].tonic == 7 and not song.key_signatures[0].minor  # G major
    grid = build_grid(song, parts, 4)
    assert grid.bar_step[0] == 8  # the pickup sits on the last beat of a 3/4 bar


def test_pieces_cache_round_trip(tmp_path: Path) -> None:
    song, parts = chorale_song("bach/bwv269")
    piece = piece_from_grid("bach/bwv269", "bach/bwv269", build_grid(song, parts, 4))
    save_pieces(tmp_path / "c.npz", [piece, piece])
    back = load_pieces(tmp_path / "c.npz")
    assert len(back) == 2 and back[1].split == split_of("bach/bwv269")
    assert np.array_equal(back[0].accomp, piece.accomp) and np.array_equal(back[1].meta, piece.meta)


def test_transposition_keeps_range_and_moves_key() -> None:
    song, parts = chorale_song("bach/bwv269")
    piece = piece_from_grid("x", "x", build_grid(song, parts, 4))
    shifts = valid_shifts(piece, 36, 84, 6)
    assert 0 in shifts and len(shifts) > 1
    for s in shifts:
        melody, accomp, meta = transpose_piece(piece, s)
        used = np.nonzero(accomp.any(0))[0]
        assert used.min() >= 36 and used.max() < 84
        assert accomp.sum() == piece.accomp.sum()  # nothing fell off the edge
        assert (meta[:, 2] % 12 == (piece.meta[:, 2] % 12 + s) % 12).all()
        assert ((melody > 0) == (piece.melody > 0)).all()


def test_tiny_training_run_lowers_the_loss(tmp_path: Path) -> None:
    cfg = TrainConfig(style="bach", limit=4, epochs=3, batch_size=4, chunk_frames=32,
                      max_steps_per_epoch=6, lr=5e-3, patience=5, seed=0)
    torch.manual_seed(cfg.seed)
    record = train(ModelConfig(**TINY_MODEL), cfg, tmp_path / "run", device="cpu", progress=False,
                   command="test")
    first = record.history[0]["valid"]["nll_per_cell"]
    last = record.history[-1]["valid"]["nll_per_cell"]
    assert last < first
    folder = StyleFolder(tmp_path / "run")
    saved = folder.read_record()
    assert json.dumps(saved.to_dict()) == json.dumps(record.to_dict())  # (NaN metrics: by text)
    assert saved.command == "test" and saved.test_metrics["nll_per_cell"] > 0
    assert saved.styletx_version == styletx.__version__  # the version that trained it
    assert folder.weights.exists()
    assert saved.train_config == cfg  # the optimisation, saved whole
    assert not list((tmp_path / "run").glob(".*.tmp"))  # every file was placed atomically


SHIPPED = sorted(style_dirs())


@pytest.mark.skipif("bach" not in SHIPPED, reason="the bach checkpoint is not installed")
def test_shipped_bach_scores_a_test_chorale_better_than_untrained() -> None:
    style = load_style("bach")
    test_id = StyleFolder(style.directory).read_record().test_pieces[0]
    assert split_of(test_id) == "test"
    song, parts = chorale_song(test_id)
    piece = piece_from_grid(test_id, test_id, build_grid(song, parts, 4))
    trained = evaluate(style.model, [piece], torch.device("cpu"))
    torch.manual_seed(0)
    untrained = evaluate(StyleNet(ModelConfig.from_dict(style.model.cfg.to_dict())),
                         [piece], torch.device("cpu"))
    assert trained["nll_per_cell"] < 0.5 * untrained["nll_per_cell"]
    # with every other bar hidden, the trained model still knows far more than chance
    untrained_blocks = evaluate(StyleNet(ModelConfig.from_dict(style.model.cfg.to_dict())),
                                [piece], torch.device("cpu"), blocks=True)
    trained_blocks = evaluate(style.model, [piece], torch.device("cpu"), blocks=True)
    assert trained_blocks["nll_per_cell"] < 0.5 * untrained_blocks["nll_per_cell"]


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("fixture", ["tempo_changes.mid", "meter_3_4.mid"])
def test_each_shipped_style_renders_4_4_and_3_4(name: str, fixture: str, tmp_path: Path) -> None:
    from styletx.api import TransferOptions, transfer_song
    from styletx.io.writer import write_midi

    style = load_style(name)
    song = read_midi(FIXTURES / fixture)
    result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=0, sweeps=2)))
    out = write_midi(tmp_path / "o.mid", result.song, result.tracks)
    back = read_midi(out)
    assert back.tracks[0].notes == select_parts(song).melody.notes
    assert back.time_signatures == song.time_signatures
    assert sum(len(t.notes) for t in back.tracks[1:]) > 0


def test_recorded_bach_split_matches_the_rule() -> None:
    """The split recorded in the repo is the one the code computes, so test chorales stay unseen."""
    recorded = json.loads((ROOT / "docs" / "splits" / "bach.json").read_text())["splits"]
    for name, ids in recorded.items():
        assert ids and all(split_of(i) == name for i in ids)
    assert not set(recorded["test"]) & set(recorded["train"])


def test_train_from_a_shipped_recipe_writes_a_whole_style_folder(tmp_path: Path) -> None:
    from styletx.cli import main
    from styletx.stylefolder.format import FORMAT_VERSION, folder_version
    from styletx.training.recipes import recipe

    out = tmp_path / "bach"
    assert main(["train", "--style", "bach", "--limit", "3", "--epochs", "1", "--max-steps-per-epoch", "1",
                 "--batch-size", "2", "--chunk-frames", "32", "--model", json.dumps(TINY_MODEL),
                 "--steps-per-beat", "4", "-o", str(out), "--quiet", "--device", "cpu"]) == 0
    folder = StyleFolder(out)
    assert folder_version(out) == FORMAT_VERSION
    assert folder.read_info() == recipe("bach").style_info("")
    assert folder.read_config().lstm_hidden == TINY_MODEL["lstm_hidden"]
    assert folder.read_record().train_config.limit == 3
    assert f"Trained with styletx {styletx.__version__}." in folder.read_card()
    assert load_style(out).name == "bach"
