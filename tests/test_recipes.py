"""The style registry (training/recipes.py), style lookup, and the checkpoint conversion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from styletx.errors import StyleTxError
from styletx.model.config import ModelConfig
from styletx.model.network import StyleNet
from styletx.stylefolder.format import CONFIG_FILE, TRAIN_RECORD_FILE, StyleFolder
from styletx.styles import load_style, read_info, shipped_root, shipped_styles, style_directory
from styletx.training.corpus import CACHE_BAR_STEPS, corpus_cache_path, piece_from_grid
from styletx.training.recipes import RECIPES, MmaSpec, recipe
from styletx.training.train import save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import convert_checkpoints  # noqa: E402

SHIPPED_MMA_VERSION = "21.09"  # the MMA that rendered the shipped styles' corpora


def test_every_shipped_style_has_exactly_one_recipe() -> None:
    assert sorted(RECIPES) == shipped_styles()
    assert all(name == r.name for name, r in RECIPES.items())


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_agrees_with_the_shipped_style(name: str) -> None:
    r = recipe(name)
    directory = shipped_root() / name
    version = SHIPPED_MMA_VERSION if isinstance(r.data, MmaSpec) else ""
    assert read_info(directory).to_dict() == r.style_info(version).to_dict()
    shipped = StyleFolder(directory).read_config()
    assert shipped == r.model_config()  # the default network on the recipe's grid
    tc = StyleFolder(directory).read_record().train_config
    assert (tc.style, tc.chunk_frames, tc.max_transpose) == (
        name, r.train_config().chunk_frames, r.max_transpose)


def test_unknown_recipe_names_the_known_ones() -> None:
    with pytest.raises(StyleTxError, match="bach, jazz"):
        recipe("polka")


def test_a_folder_in_the_working_directory_never_shadows_a_style(
    tiny_style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = style_directory(tiny_style)
    monkeypatch.chdir(tmp_path)
    local = tmp_path / tiny_style
    save_checkpoint(StyleNet(ModelConfig(pitch_lo=40, pitch_hi=50, lstm_layers=1)), local)
    assert style_directory(tiny_style) == installed  # the bare name: the installed style
    assert load_style(tiny_style).model.cfg.pitch_lo == 48
    assert load_style(f"./{tiny_style}").model.cfg.pitch_lo == 40  # a path: the folder
    assert load_style(local).directory == local
    with pytest.raises(StyleTxError) as err:
        load_style("nosuchstyle")
    assert "\n" not in str(err.value) and "installed:" in str(err.value) and "--style-dir" in str(err.value)
    with pytest.raises(StyleTxError, match="not a style folder"):
        load_style("./nosuchstyle")


def test_cli_style_dir_loads_a_folder(tiny_style: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from styletx.cli import main

    src = ROOT / "tests" / "fixtures" / "named_tracks.mid"
    monkeypatch.chdir(tmp_path)
    save_checkpoint(StyleNet(ModelConfig(pitch_lo=40, pitch_hi=60, lstm_layers=1)), tmp_path / "mine")
    assert main(["render", str(src), "-o", "out.mid", "--style-dir", "mine", "--seed", "0"]) == 0
    assert (tmp_path / "out.mid").is_file()
    assert main(["render", str(src), "-o", "out2.mid", "--style", "mine"]) == 2  # a name, not a folder


def _old_format(directory: Path, weights: tuple[float, float, float]) -> None:
    """Rewrite a checkpoint as the format before the split wrote it."""
    cfg = json.loads((directory / CONFIG_FILE).read_text())
    cfg.update(style="old", train_frame_fraction=0.5, class_weights=list(weights))
    (directory / CONFIG_FILE).write_text(json.dumps(cfg))
    record = {"train_config": {"style": "old", "steps_per_beat": cfg["steps_per_beat"],
                               "pitch_lo": cfg["pitch_lo"], "pitch_hi": cfg["pitch_hi"],
                               "chunk_frames": 64, "model": {"train_frame_fraction": 0.5}}}
    (directory / TRAIN_RECORD_FILE).write_text(json.dumps(record))


def test_conversion_keeps_the_eval_logits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old network subtracted log(class weights) in eval mode; the converted one has it
    in its output bias, so its logits are the old eval-mode logits in either mode."""
    torch.manual_seed(0)
    net = StyleNet(ModelConfig(pitch_lo=48, pitch_hi=60, lstm_layers=1, gen_dilations=(1, 2)))
    save_checkpoint(net, tmp_path)
    weights = (1.0, 4.0, 1.5)
    _old_format(tmp_path, weights)
    monkeypatch.setattr(convert_checkpoints, "write_model_card", lambda d: d)  # a bare record
    assert convert_checkpoints.convert(tmp_path)
    assert not convert_checkpoints.convert(tmp_path)  # once only
    new = StyleFolder(tmp_path).load_model()
    melody = torch.randint(0, 200, (1, 6))
    accomp = torch.randint(0, 3, (1, 6, 12))
    meta = torch.zeros((1, 6, 5), dtype=torch.long)
    old_eval = net.eval()(melody, accomp, meta) - torch.tensor(weights).log()
    torch.testing.assert_close(new(melody, accomp, meta), old_eval)
    tc = json.loads((tmp_path / TRAIN_RECORD_FILE).read_text())["train_config"]
    assert tc["class_weights"] == list(weights) and tc["frame_fraction"] == 0.5
    assert "pitch_lo" not in tc and "model" not in tc


def test_corpus_cache_is_keyed_by_the_bar_limit() -> None:
    """Cached metadata is clipped at the model's bar limit: the existing files hold the
    default limit's values, and another limit gets a file of its own."""
    from styletx.music.grid import build_grid
    from styletx.training.corpus import chorale_song

    default = ModelConfig()
    assert default.max_bar_steps == CACHE_BAR_STEPS
    assert corpus_cache_path("bach", default).name == "grids-r4-v2.npz"
    short = ModelConfig(max_bar_steps=8)
    assert corpus_cache_path("bach", short).name == "grids-r4-b8-v2.npz"
    song, parts = chorale_song("bach/bwv269")
    grid = build_grid(song, parts, 4)
    piece = piece_from_grid("x", "x", grid, short.max_bar_steps)
    assert piece.meta[:, 1].max() == 7 < grid.meta()[:, 1].max()
