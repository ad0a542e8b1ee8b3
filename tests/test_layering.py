"""Import costs: reading MIDI, the grid, chords, settings and the CLI's cheap commands never load torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

TORCH_FREE = [
    "styletx", "styletx.cli", "styletx.midi_io", "styletx.smf", "styletx.grid", "styletx.chords",
    "styletx.settings", "styletx.styles", "styletx.timing", "styletx.melody", "styletx.voicing",
    "styletx.evaluation", "styletx.progress", "styletx.charts",
]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_does_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"{module} imports torch"


def test_the_api_still_reaches_torch_lazily() -> None:
    code = "import sys, styletx; styletx.transfer; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
