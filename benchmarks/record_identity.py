"""Record (or check) the notes of fixed-seed transfers: the byte-identity fixture of issue #14.

``python benchmarks/record_identity.py`` writes ``tests/fixtures/identity.json`` with the
current code; ``tests/test_identity.py`` renders the same cases and compares. Speed-ups must
keep every case identical (same notes, same order), for every style listed.

Those cases run with the performance layer off (``quantized``, #20), so they stay the output
of before the layer; ``tests/fixtures/identity_feel.json`` (``--feel``) holds cases with each
style's feel on, the default output since #20.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

FIXTURE = ROOT / "tests" / "fixtures" / "identity.json"
FEEL_FIXTURE = ROOT / "tests" / "fixtures" / "identity_feel.json"
INPUTS = ["midi_samples/chorale_bwv254.mid", "tests/fixtures/melody_only.mid",
          "tests/fixtures/meter_3_4.mid", "tests/fixtures/pickup.mid"]
STYLES = ["bach", "jazz"]
SEEDS = [0, 1, 7]
# a few cases with non-default settings: a bar range, lower strength, the paper schedule
EXTRA = [
    {"src": "midi_samples/chorale_bwv254.mid", "style": "jazz", "seed": 3, "bars": "2-4"},
    {"src": "midi_samples/chorale_bwv254.mid", "style": "bach", "seed": 4, "strength": 0.5},
    {"src": "tests/fixtures/meter_3_4.mid", "style": "bach", "seed": 5, "schedule": "paper"},
] + [{"src": "midi_samples/chorale_bwv254.mid", "style": s, "seed": 2}
     for s in ("bossa", "folk", "pop", "ragtime")]


# the feel's cases: every shipped style, a bar range and a balance
FEEL = [{"src": "midi_samples/chorale_bwv254.mid", "style": s, "seed": 2, "quantized": False}
        for s in ("bach", "jazz", "bossa", "folk", "pop", "ragtime")] + [
    {"src": "tests/fixtures/melody_only.mid", "style": "jazz", "seed": 0, "quantized": False},
    {"src": "midi_samples/chorale_bwv254.mid", "style": "jazz", "seed": 3, "bars": "2-4",
     "quantized": False},
    {"src": "tests/fixtures/pickup.mid", "style": "bossa", "seed": 1, "balance": 30, "quantized": False},
]


def cases() -> list[dict]:
    out = [{"src": s, "style": st, "seed": seed} for s in INPUTS for st in STYLES for seed in SEEDS]
    return out + EXTRA


def render_case(case: dict, styles_cache: dict) -> dict:
    from styletx.api import TransferOptions, transfer_song
    from styletx.io.reader import read_midi
    from styletx.styles import load_style

    name = case["style"]
    if name not in styles_cache:
        styles_cache[name] = load_style(name)
    options = TransferOptions(bars=case.get("bars"), quantized=case.get("quantized", True),
                              balance=case.get("balance")).replace(
        seed=case["seed"], strength=case.get("strength", 1.0),
        schedule=case.get("schedule", "default"), sweeps=5)
    result = transfer_song(read_midi(ROOT / case["src"]), styles_cache[name], options)
    notes = [[t.name, t.program, [[n.start, n.end, n.pitch, n.velocity] for n in t.notes]]
             for t in result.tracks]
    blob = json.dumps(notes, separators=(",", ":")).encode()
    return {**case, "sha256": hashlib.sha256(blob).hexdigest(), "n_notes": sum(len(t[2]) for t in notes),
            "roll_sha256": hashlib.sha256(result.new_accomp.tobytes()).hexdigest()}


def main(argv: list[str]) -> int:
    """Record the layer-off cases, or with ``--feel`` the feel's."""
    path, todo = (FEEL_FIXTURE, FEEL) if "--feel" in argv else (FIXTURE, cases())
    cache: dict = {}
    rows = [render_case(c, cache) for c in todo]
    path.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {len(rows)} cases to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
