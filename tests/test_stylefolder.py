"""The style folder's format (styletx/stylefolder/format.py): one owner for its file names,
a format version, and the training record."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from styletx.errors import StyleTxError
from styletx.model.config import TrainConfig
from styletx.stylefolder import format as fmt
from styletx.stylefolder.format import FORMAT_FILE, StyleFolder, TrainRecord, folder_version
from styletx.styles import load_style, shipped_root, shipped_styles, style_directory

PACKAGE = Path(fmt.__file__).resolve().parents[1]
FILE_NAMES = {value for name, value in vars(fmt).items() if name.endswith("_FILE")}


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """Every string in the code of ``path`` (f-string parts included), docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_file_names_are_spelled_in_the_format_module_only() -> None:
    assert {"config.json", "train.json", "style.json", "chords.json", "splits.json", "eval.json",
            "train_state.pt", "model.safetensors", "MODEL_CARD.md", FORMAT_FILE} <= FILE_NAMES
    found = [f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
             for path in sorted(PACKAGE.rglob("*.py")) if path != Path(fmt.__file__).resolve()
             for line, text in _code_strings(path) if any(name in text for name in FILE_NAMES)]
    assert not found, "style folder file names outside stylefolder/format.py:\n" + "\n".join(found)


def test_the_search_sees_a_name_in_code(tmp_path: Path) -> None:
    spelled = tmp_path / "m.py"
    spelled.write_text('"""Mentions style.json in a docstring."""\nX = f"{1}/train.json"\n')
    assert [text for _, text in _code_strings(spelled)] == ["/train.json"]


@pytest.mark.skipif("bach" not in shipped_styles(), reason="the shipped styles are not installed")
def test_the_shipped_styles_are_format_1_without_a_version() -> None:
    for name in shipped_styles():
        directory = shipped_root() / name
        assert not (directory / FORMAT_FILE).exists() and folder_version(directory) == 1
        StyleFolder(directory).read_config()  # reads as today


def test_a_folder_without_a_version_loads_as_format_1(tiny_style: str, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(style_directory(tiny_style), copy)
    assert folder_version(copy) == fmt.FORMAT_VERSION == 1  # written by this code
    (copy / FORMAT_FILE).unlink()
    assert folder_version(copy) == 1
    old, new = load_style(copy), load_style(tiny_style)
    assert old.model.cfg == new.model.cfg and old.info == new.info
    for a, b in zip(old.model.state_dict().values(), new.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_future_version_is_refused_in_one_line(tiny_style: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    from styletx.cli import main

    future = tmp_path / "future"
    future.mkdir()  # a newer format may hold different files: the version file alone decides
    (future / FORMAT_FILE).write_text(json.dumps({"format": 7}))
    with pytest.raises(StyleTxError) as err:
        load_style(future)
    message = str(err.value)
    assert "\n" not in message and "format 7" in message and "pip install -U styletx" in message
    src = Path(__file__).parent / "fixtures" / "tempo_changes.mid"
    assert main(["render", str(src), "--style-dir", str(future), "-o", str(tmp_path / "o.mid")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "format 7" in lines[0]


def _full_record() -> TrainRecord:
    return TrainRecord(
        train_config=TrainConfig(style="mine", epochs=2, freeze=["lstm_past"]),
        command="styletx train --style mine", commands=["styletx train --style mine"],
        torch="2.x", threads=2, device="CPU: 2 cores",
        data={s: {"pieces": 1, "frames": 64, "sources": 1} for s in ("train", "valid", "test")},
        test_pieces=["a.mid"],
        history=[{"epoch": 1, "train_nll": 0.5, "valid": {"nll_per_cell": 0.4}, "seconds": 1.0,
                  "steps": 3}, {"epoch": 2, "train_nll": 0.4, "valid": {"nll_per_cell": 0.45},
                                "seconds": 2.0, "steps": 6}],
        test_metrics={"nll_per_cell": 0.4}, train_seconds=2.0, styletx_version="0.2.0",
        user_data={"folder": "/data"}, base_style="bach", base_note="small data",
        base_fits={"bach": 1.0}, examples=["a.mid"], started="then", finished="now",
    )


def test_train_record_round_trip(tmp_path: Path) -> None:
    record = _full_record()
    folder = StyleFolder(tmp_path)
    folder.write_record(record)
    assert folder.read_record() == record
    assert record.steps == 6 and record.best_epoch() == 1
    bare = TrainRecord(train_config=TrainConfig())
    assert "user_data" not in bare.to_dict() and TrainRecord.from_dict(bare.to_dict()) == bare
    with pytest.raises(StyleTxError, match="unknown training record keys: colour"):
        TrainRecord.from_dict({**bare.to_dict(), "colour": 1})


@pytest.mark.skipif("bach" not in shipped_styles(), reason="the shipped styles are not installed")
def test_existing_training_records_load() -> None:
    for name in shipped_styles():
        folder = StyleFolder(shipped_root() / name)
        raw = json.loads(folder.path(fmt.TRAIN_RECORD_FILE).read_text())
        record = folder.read_record()
        assert record.styletx_version is None  # trained before the version was recorded
        assert record.to_dict() == {**raw, "styletx_version": None}


def test_the_start_voicing_is_the_style_cards(tmp_path: Path) -> None:
    from styletx.io.reader import read_midi
    from styletx.model.settings import StartVoicing
    from styletx.model.start import block_chords
    from styletx.music.chords import Chord
    from styletx.music.grid import build_grid
    from styletx.music.parts import select_parts
    from styletx.styles import StyleInfo

    song = read_midi(Path(__file__).parent / "fixtures" / "named_tracks.mid")
    grid = build_grid(song, select_parts(song), 4)
    grid.chords[:] = Chord(0).token  # C major throughout
    high = StartVoicing(bass_below=61, tones_lo=60, tones_hi=76)
    info = StyleInfo(name="high", start_voicing=high)
    StyleFolder(tmp_path).write_info(info)
    assert StyleFolder(tmp_path).read_info() == info
    rng = np.random.default_rng(0)
    default = np.flatnonzero(block_chords(grid, 36, 84, rng)[0]) + 36
    raised = np.flatnonzero(block_chords(grid, 36, 84, rng, info.start_voicing)[0]) + 36
    assert list(default) == [48, 52, 55, 60] and list(raised) == [60, 64, 67]
