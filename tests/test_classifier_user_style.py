"""``eval --train-classifier`` with a user style installed (issue #18, item 8).

The classifier's classes are the styles with a recipe, whose corpora ``styletx data``
builds; an installed user style has none, and must not stop the training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from styletx.cli import main
from styletx.evaluation.styleclass import StyleClassifier
from styletx.training import mma
from styletx.training.leadsheets import ChordChange, LeadSheet, MelodyNote
from styletx.training.recipes import RECIPES, mma_specs
from styletx.training.splits import split_of
from tests.conftest import make_tiny_style

needs_mma = pytest.mark.skipif(shutil.which("mma") is None,
                               reason="mma not installed: apt-get install mma")


def _sheet(i: int) -> LeadSheet:
    """Four bars of 4/4 over C | Dm7 | G7 | C, with a training-split source id."""
    notes = [MelodyNote(4.0 * b + k, 4.0 * b + k + 1, 60 + (b + k + i) % 8)
             for b in range(4) for k in range(4)]
    chords = [ChordChange(b, 0.0, name) for b, name in enumerate(["C", "Dm7", "G7", "C"])]
    sheet = LeadSheet(f"user-test/{i}", notes, 4, 4, 0.0, 0, False, chords, 4)
    assert split_of(sheet.source_id) == "train"
    return sheet


@needs_mma
def test_train_classifier_with_a_user_style_installed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLETX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("STYLETX_USER_STYLES", str(tmp_path / "user"))
    monkeypatch.delenv("STYLETX_MODELS", raising=False)
    make_tiny_style(tmp_path / "user", "mine")
    for style in mma_specs():  # a two-piece corpus per MMA style
        mma.build_style_corpus(style, limit=2, sheets=[_sheet(0), _sheet(1)], jobs=1,
                               progress=False)
    out = tmp_path / "classifier.json"
    assert main(["eval", "--train-classifier", "--pieces-per-style", "2", "-o", str(out)]) == 0
    clf = StyleClassifier.load(out)
    assert clf.classes == sorted(RECIPES)
    assert "mine" not in json.loads(out.read_text())["classes"]
