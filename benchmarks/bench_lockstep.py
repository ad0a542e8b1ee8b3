"""``--candidates N`` drawn in lockstep (one batch of network calls) against one by one.

``python benchmarks/bench_lockstep.py [--styles bach,jazz] [--candidates 2,4] [--repeat 3]``

For each style and N, ``transfer_song`` of the 32-bar test piece of ``bench_render.py``
(default settings, seed 0, one torch thread, the model loaded, one warm-up) runs with
``candidates=N`` twice over: as shipped (:func:`styletx.model.lockstep.resample_many`)
and with the candidates drawn one after another by ``resample_accompaniment``, as before
lockstep. Best of ``--repeat`` CPU and wall times, alternating the two; the two must
choose the same roll.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_render import test_piece  # noqa: E402

import styletx.api as api  # noqa: E402
from styletx.model.sampler import resample_accompaniment  # noqa: E402
from styletx.model.settings import SamplerSettings  # noqa: E402
from styletx.styles import load_style  # noqa: E402


def one_by_one(model, melody, accomp, meta, update, settings, progress=None):  # type: ignore[no-untyped-def]
    """The candidates one after another (what ``_best_of`` did before lockstep)."""
    return [resample_accompaniment(model, melody, accomp, meta, update, s, progress if k == 0 else None)
            for k, s in enumerate(settings)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="bach,jazz")
    parser.add_argument("--candidates", default="2,4")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    song = test_piece()
    lockstep = api.resample_many
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    print("style  N  one by one: CPU s (wall s)  lockstep: CPU s (wall s)  CPU ratio  same roll")
    for name in args.styles.split(","):
        style = load_style(name)
        api.transfer_song(song, style, api.TransferOptions(SamplerSettings(seed=0, sweeps=1)))
        for n in (int(c) for c in args.candidates.split(",")):
            best: dict[str, tuple[float, float]] = {}
            rolls = {}
            for _ in range(args.repeat):
                for key, fn in (("one by one", one_by_one), ("lockstep", lockstep)):
                    api.resample_many = fn
                    c0, t0 = time.process_time(), time.perf_counter()
                    result = api.transfer_song(song, style, api.TransferOptions(SamplerSettings(seed=0),
                                                                                candidates=n))
                    took = (time.process_time() - c0, time.perf_counter() - t0)
                    best[key] = min(best.get(key, took), took)
                    rolls[key] = result.new_accomp
            api.resample_many = lockstep
            (c1, w1), (c2, w2) = best["one by one"], best["lockstep"]
            same = (rolls["one by one"] == rolls["lockstep"]).all()
            print(f"{name:6s} {n}  {c1:6.2f} ({w1:6.2f})  {c2:6.2f} ({w2:6.2f})  {c1 / c2:5.2f}x  {same}",
                  flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
