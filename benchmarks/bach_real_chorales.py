"""Bach's targets on the real chorales of the real-input set, quickly, for tuning its sampler.

``styletx eval --bench bach --inputs real`` also renders the MMA baseline and the NLL of
every row (34 min for the chorales on a loaded 2-core machine). This script keeps only
the two styletx rows of that bench, scored the same way (``score_transfer`` and the
independent music21 reader), so a setting can be measured in minutes:

* ``full``: the whole chorale transferred to bach (chord agreement on both readers, parallels);
* ``mel``: its melody alone harmonised (clash, bass register, held notes);
* ``input``: the chorales themselves.

Settings the style's ``style.json`` would give can be overridden with JSON, e.g.

    python benchmarks/bach_real_chorales.py --n 20
    python benchmarks/bach_real_chorales.py --n 8 '{"temperature": 0.8, "prior": {"clash": 3.0}}'

(``prior`` changes the given fields of the style's prior; ``info`` sets
``StyleInfo`` fields such as ``harmonic_rhythm``). Needs ``styletx eval --build-real``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.bench import as_file, find_classifier, score_transfer
from styletx.evaluation.realbench import _independent, spread
from styletx.evaluation.realset import real_inputs
from styletx.model.settings import SamplerSettings
from styletx.styles import load_style

KEYS = ("chord_agreement", "chord_m21", "clash", "bass_on_chord_tone", "notes_per_beat", "polyphony",
        "style_prob", "parallels", "bass_register", "held_long")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("changes", nargs="?", default="{}", help="JSON overrides (see the docstring)")
    ap.add_argument("--n", type=int, default=20, help="chorales, spread over the set (default 20: all)")
    args = ap.parse_args()
    changes = json.loads(args.changes)
    torch.set_num_threads(1)
    style = load_style("bach")
    for k, v in changes.pop("info", {}).items():
        setattr(style.info, k, v)
    settings: dict = {k: changes.pop(k) for k in ("temperature", "voice_leading_tries", "sweeps")
                      if k in changes}
    if "prior" in changes:
        settings["prior"] = dataclasses.replace(style.info.prior, **changes.pop("prior"))
    if changes:
        raise SystemExit(f"unknown overrides: {sorted(changes)}")
    classifier = find_classifier()
    inputs = spread(real_inputs(kinds=["chorale"]), args.n)
    rows: dict[str, list[dict]] = {"full": [], "mel": [], "input": []}
    t0 = time.perf_counter()
    for i, real in enumerate(inputs):
        parts = real.parts
        song_in, parts_in = as_file(real.song, [parts.melody, *parts.accompaniment], parts.melody)
        options = SamplerSettings(seed=i, **settings)  # the bench's seeds: seed 0 + piece index
        for name, song, melody in (("full", song_in, song_in.tracks.index(parts_in.melody)),
                                   ("mel", as_file(song_in, [parts_in.melody], parts_in.melody)[0], 0)):
            res = transfer_song(song, style, TransferOptions(options, melody_track=melody))
            out, _ = as_file(res.song, res.tracks, res.tracks[0])
            m = score_transfer(song_in, parts_in, out, style, classifier)
            rows[name].append({**m["output"], "chord_m21": _independent(song_in, parts_in, out)})
            if name == "full":
                rows["input"].append(m["input"])
    print(f"{len(inputs)} chorales, {time.perf_counter() - t0:.0f} s, overrides {args.changes}")
    for name, rs in rows.items():
        print(f"{name:6s}", " ".join(f"{k}={np.nanmean([r.get(k, np.nan) for r in rs]):.3f}" for k in KEYS
                                     if k != "chord_m21" or name != "input"))


if __name__ == "__main__":
    main()
