"""Shared fixtures: a tiny untrained style, so tests never wait for a trained model; and the
loader of the repository's scripts (benchmarks, generators), which are files, not a package."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
import torch

from styletx.model.config import ModelConfig
from styletx.model.network import StyleNet
from styletx.styles import StyleInfo
from styletx.training.train import save_checkpoint

TINY_STYLE = "tiny"


def load_script(path: Path, name: str | None = None) -> ModuleType:
    """Import the script at ``path`` as module ``name`` (its stem by default); its ``main`` is not run."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

# The test machine is small and shared: one torch thread avoids oversubscription,
# which makes the tiny model several times faster here.
torch.set_num_threads(1)

# Tests never see (or write into) the real user styles folder.
os.environ["STYLETX_USER_STYLES"] = tempfile.mkdtemp(prefix="styletx-user-styles-")


def make_tiny_style(root: Path, name: str = TINY_STYLE) -> Path:
    """Write an untrained, very small checkpoint plus ``style.json`` under ``root/name``.

    Untrained weights are enough to exercise reading, gridding, sampling and
    writing; the network is small so a transfer takes a fraction of a second.
    """
    torch.manual_seed(0)
    cfg = ModelConfig(
        pitch_lo=48, pitch_hi=64, lstm_hidden=16, lstm_layers=1, gen_channels=8,
        gen_dilations=(1, 2),
        melody_dim=8, accomp_dim=8, beat_step_dim=4, bar_step_dim=4, key_dim=4, bar_len_dim=2,
        frame_dim=16, center_dim=8, cond_dim=16, pitch_cond_channels=4, pitch_emb_dim=4,
    )
    directory = root / name
    save_checkpoint(StyleNet(cfg), directory)
    StyleInfo(name=name).save(directory)
    return directory


@pytest.fixture(scope="session")
def _tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    make_tiny_style(root)
    return root


@pytest.fixture
def tiny_style(_tiny_models: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of a tiny untrained style, installed through ``$STYLETX_MODELS``."""
    monkeypatch.setenv("STYLETX_MODELS", str(_tiny_models))
    return TINY_STYLE
