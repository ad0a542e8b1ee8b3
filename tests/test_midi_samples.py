"""The shipped samples in ``midi_samples/`` are what ``midi_samples/make_samples.py`` writes.

The README renders them, so the script that made them must keep running against the
library as it is (it once imported modules that had since moved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

SAMPLES = Path(__file__).resolve().parents[1] / "midi_samples"


def test_make_samples_reproduces_the_shipped_files(tmp_path: Path) -> None:
    pytest.importorskip("music21")
    written = load_script(SAMPLES / "make_samples.py").write_samples(tmp_path)
    assert [p.name for p in written] == ["chorale_bwv254.mid", "waltz_in_g.mid"]
    for path in written:
        assert path.read_bytes() == (SAMPLES / path.name).read_bytes(), path.name
