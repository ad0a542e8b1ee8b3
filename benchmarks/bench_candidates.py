"""Gain and cost of ``--candidates N`` on real pieces: each N run as a user runs it.

For N = 1, 2, 4 (and 8 with ``--max-n 8``) every piece of an even spread of the real set
(:mod:`styletx.evaluation.realset`) is transferred with ``candidates=N`` and scored by the
evaluation's metrics against its input; the wall time per transfer is the cost.

    python benchmarks/bench_candidates.py --style jazz --pieces 4 --max-n 4
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.bench import as_file
from styletx.evaluation.metrics import transfer_metrics
from styletx.evaluation.realbench import spread
from styletx.evaluation.realset import real_inputs
from styletx.model.settings import SamplerSettings
from styletx.styles import load_style

KEYS = ("clash", "chord_agreement", "chroma", "groove")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--style", default="jazz")
    ap.add_argument("--pieces", type=int, default=4)
    ap.add_argument("--max-n", type=int, default=4)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    style = load_style(args.style)
    pieces = []
    for real in spread(real_inputs(), args.pieces):
        parts = real.parts
        song_in, parts_in = as_file(real.song, [parts.melody, *parts.accompaniment], parts.melody)
        pieces.append((song_in, parts_in, song_in.tracks.index(parts_in.melody)))
    print(f"{args.style}, {len(pieces)} real pieces (an even spread of the set)", flush=True)
    for n in (x for x in (1, 2, 4, 8) if x <= args.max_n):
        rows, seconds = [], []
        for i, (song_in, parts_in, melody) in enumerate(pieces):
            t = time.perf_counter()
            res = transfer_song(song_in, style, TransferOptions(SamplerSettings(seed=i), melody_track=melody,
                                                                candidates=n))
            seconds.append(time.perf_counter() - t)
            out, _ = as_file(res.song, res.tracks, res.tracks[0])
            m = transfer_metrics(song_in, parts_in, out)["output"]
            rows.append([m[k] for k in KEYS])
        mean = np.nanmean(np.array(rows, dtype=float), 0)
        print(f"N={n}: " + ", ".join(f"{k} {v:.3f}" for k, v in zip(KEYS, mean, strict=True))
              + f"; {np.mean(seconds):.1f} s per transfer", flush=True)


if __name__ == "__main__":
    main()
