"""How far, in frames, the encoder's context changes a frame's distribution (issue #25).

``python benchmarks/context_reach.py [--styles bach,jazz]`` renders the 32-bar test piece
(``bench_render.test_piece``) in each style, then, for frames in the middle of the piece,
compares the generator's teacher-forced distribution of every cell of the frame when the
encoder reads the whole piece with the one it gives when the encoder reads only ``W``
beats either side (:data:`styletx.model.sampler.CONTEXT_BEATS` is the window the sampler's
redraws use). It prints, per ``W``, the mean and the largest total-variation distance
between the two distributions of a cell (0: identical, 1: disjoint) and the share of
cells whose most likely state changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_render import test_piece

from styletx.api import TransferOptions, transfer_song
from styletx.model.settings import SamplerSettings
from styletx.music.encoding import META_CHORD
from styletx.styles import load_style

WINDOWS = (1, 2, 4, 8, 16, 32)
"""Half-widths ``W`` compared, in beats."""


@torch.inference_mode()
def reach(style_name: str, frames: int, seed: int) -> list[tuple[int, float, float, float]]:
    """``(W, mean TV, max TV, argmax changed share)`` per window half-width ``W``."""
    style = load_style(style_name)
    model = style.model
    cfg = model.cfg
    result = transfer_song(test_piece(), style, TransferOptions(SamplerSettings(seed=seed)))
    grid = result.grid
    melody = torch.as_tensor(grid.melody.astype(np.int64))[None]
    accomp = torch.as_tensor(result.new_accomp[:, cfg.pitch_lo:cfg.pitch_hi].astype(np.int64))[None]
    meta = torch.as_tensor(grid.meta(cfg.max_bar_steps).astype(np.int64))[None]
    T = accomp.shape[1]
    margin = max(WINDOWS) * cfg.steps_per_beat
    ts = np.linspace(margin, T - margin - 1, frames).astype(int)
    padded = torch.nn.functional.pad(accomp[0], (0, 0, 1, 1))
    prev, nxt = padded[ts], padded[ts + 2]

    def dist(cond: torch.Tensor) -> torch.Tensor:
        logits = model.generator_logits(cond, melody[0, ts], meta[0, ts, META_CHORD], prev, nxt,
                                        accomp[0, ts])
        return torch.softmax(logits, -1)

    full = dist(model.encode(melody, accomp, meta)[0, ts])
    rows = []
    for beats in WINDOWS:
        w = beats * cfg.steps_per_beat
        cond = torch.cat([model.encode(melody[:, t - w:t + w + 1], accomp[:, t - w:t + w + 1],
                                       meta[:, t - w:t + w + 1])[:, w] for t in ts])
        p = dist(cond)
        tv = 0.5 * (p - full).abs().sum(-1)
        changed = (p.argmax(-1) != full.argmax(-1)).float().mean()
        rows.append((beats, float(tv.mean()), float(tv.max()), float(changed)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="bach,jazz")
    parser.add_argument("--frames", type=int, default=48, help="frames compared per style")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'style':<6} {'W (beats)':>10} {'mean TV':>9} {'max TV':>9} {'argmax changed':>15}")
    for name in args.styles.split(","):
        for w, mean, top, changed in reach(name, args.frames, args.seed):
            print(f"{name:<6} {w:>10} {mean:>9.5f} {top:>9.5f} {changed:>15.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
