"""Issue #14's hard rule: speed-ups keep every fixed-seed transfer byte-identical.

``tests/fixtures/identity.json`` was recorded by ``benchmarks/record_identity.py`` with the
code before the speed work; each case is rendered again here and its notes compared. Those
cases run with the performance layer off (#20: ``quantized``); ``identity_feel.json`` holds
cases with each style's feel on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from record_identity import FEEL_FIXTURE, FIXTURE, render_case  # noqa: E402

from styletx.styles import styles  # noqa: E402

CASES = json.loads(FIXTURE.read_text()) + json.loads(FEEL_FIXTURE.read_text())
_CACHE: dict = {}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{Path(c['src']).stem}-{c['style']}-{c['seed']}"
                         + ("-feel" if c.get("quantized") is False else ""))
def test_transfer_is_identical_to_recorded(case: dict) -> None:
    if case["style"] not in styles():
        pytest.skip(f"style {case['style']} not installed")
    got = render_case({k: case[k] for k in case if k not in ("sha256", "n_notes", "roll_sha256")}, _CACHE)
    assert got["n_notes"] == case["n_notes"]
    assert got["roll_sha256"] == case["roll_sha256"]
    assert got["sha256"] == case["sha256"]
