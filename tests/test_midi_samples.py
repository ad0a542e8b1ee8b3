"""The shipped samples in ``midi_samples/`` are what ``midi_samples/make_samples.py`` writes.

The README renders them, so the script that made them must keep running against the
library as it is (it once imported modules that had since moved)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "midi_samples"


def test_make_samples_reproduces_the_shipped_files(tmp_path: Path) -> None:
    pytest.importorskip("music21")
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_samples(tmp_path)
    assert [p.name for p in written] == ["chorale_bwv254.mid", "waltz_in_g.mid"]
    for path in written:
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name
