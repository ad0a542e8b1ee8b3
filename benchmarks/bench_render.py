"""Speed and quality of Algorithm 1: the default schedule against Lu & Su's (``"paper"``).

Run ``python benchmarks/bench_render.py [--style bach] [--paper]``. It prints:

* the wall time and peak memory of rendering 32 bars of 4/4 (512 sixteenth
  frames) with the default settings, after one warm-up render;
* with ``--paper``, the same for ``schedule="paper"`` and the ratio;
* quality per schedule, on the same piece: the model's mean per-cell NLL of
  its own result (teacher-forced, lower = more likely under the style), the
  share of accompaniment onsets in the key, and the chroma similarity to the
  input accompaniment (content preservation, Lu & Su's metric).

The piece is made of test-split Bach chorales in 4/4 (never trained on),
concatenated to 32 bars, so the quality figures are on held-out music.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import transfer_song
from styletx.corpus import chorale_ids, chorale_song
from styletx.errors import StyleTxError
from styletx.grid import build_grid
from styletx.metrics import chroma_similarity, in_key_share
from styletx.midi_io import select_parts
from styletx.settings import SamplerSettings
from styletx.song import KeySignature, Note, Song, Track
from styletx.splits import split_of
from styletx.styles import Style, load_style

BARS = 32


def test_piece(bars: int = BARS) -> Song:
    """Test-split 4/4 chorales without pickups, back to back, cut to ``bars`` bars."""
    res = 480
    bar = 4 * res
    tracks: list[list[Note]] = [[], [], [], []]
    keys: list[KeySignature] = []
    offset = 0
    for cid in chorale_ids():
        if split_of(cid) != "test":
            continue
        try:
            song, _ = chorale_song(cid)
        except StyleTxError:  # a few corpus entries are not four-part
            continue
        sigs = song.time_signatures
        if len(sigs) != 1 or (sigs[0].numerator, sigs[0].denominator) != (4, 4):
            continue
        length = -(-song.end_tick // bar) * bar
        keys.append(replace(song.key_signatures[0], tick=offset))
        for i, t in enumerate(song.tracks):
            tracks[i] += [Note(n.start + offset, n.end + offset, n.pitch, n.velocity) for n in t.notes]
        offset += length
        if offset >= bars * bar:
            break
    stop = bars * bar
    parts = [
        Track(name, 52, False, [n for n in notes if n.start < stop], index=i)
        for i, (name, notes) in enumerate(zip(("Soprano", "Alto", "Tenor", "Bass"), tracks, strict=True))
    ]
    for t in parts:
        t.notes = [Note(n.start, min(n.end, stop), n.pitch, n.velocity) for n in t.notes]
    return Song(resolution=res, tracks=parts, time_signatures=song.time_signatures,
                key_signatures=[k for k in keys if k.tick < stop], source="test chorales")


@torch.inference_mode()
def model_nll(style: Style, melody: np.ndarray, window: np.ndarray, meta: np.ndarray) -> float:
    """Mean per-cell NLL (nats) of a roll under the style's model, teacher-forced."""
    model = style.model
    logits = model(torch.as_tensor(melody, dtype=torch.long)[None],
                   torch.as_tensor(window, dtype=torch.long)[None],
                   torch.as_tensor(meta, dtype=torch.long)[None])
    logp = torch.log_softmax(logits, -1)
    target = torch.as_tensor(window, dtype=torch.long)[None]
    return float(-logp.gather(-1, target[..., None]).mean())


def run(style: Style, song: Song, settings: SamplerSettings) -> dict[str, float]:
    t0 = time.perf_counter()
    result = transfer_song(song, style, settings=settings)
    seconds = time.perf_counter() - t0
    cfg = style.model.cfg
    window = result.new_accomp[:, cfg.pitch_lo : cfg.pitch_hi]
    grid = result.grid
    return {
        "seconds": seconds,
        "frames": grid.n_frames,
        "nll": model_nll(style, grid.melody.astype(np.int64), window, grid.meta(cfg.max_bar_steps)),
        "in_key": in_key_share(window, grid.key, cfg.pitch_lo),
        "chroma_sim": chroma_similarity(result.new_accomp, grid.accomp),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="bach", help="style name or checkpoint folder")
    parser.add_argument("--paper", action="store_true", help="also run schedule='paper' (minutes)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bars", type=int, default=BARS, help="length of the test piece")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    style = load_style(args.style)
    song = test_piece(args.bars)
    parts = select_parts(song)
    grid = build_grid(song, parts, style.steps_per_beat)
    print(f"piece: {grid.n_bars} bars, {grid.n_frames} frames; style {style.name}; "
          f"{args.threads} torch thread(s)")
    run(style, song, SamplerSettings(seed=args.seed, sweeps=1))  # warm-up
    rows = {"default": run(style, song, SamplerSettings(seed=args.seed))}
    if args.paper:
        rows["paper"] = run(style, song, SamplerSettings(schedule="paper", seed=args.seed))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    input_window = build_grid(song, parts, style.steps_per_beat).accomp[
        :, style.model.cfg.pitch_lo : style.model.cfg.pitch_hi]
    ref_nll = model_nll(style, grid.melody.astype(np.int64), input_window,
                        grid.meta(style.model.cfg.max_bar_steps))
    print(f"{'schedule':<9} {'seconds':>8} {'NLL/cell':>9} {'in key':>7} {'chroma sim':>10}")
    for name, r in rows.items():
        print(f"{name:<9} {r['seconds']:>8.2f} {r['nll']:>9.4f} {r['in_key']:>7.3f} {r['chroma_sim']:>10.3f}")
    print(f"{'input':<9} {'':>8} {ref_nll:>9.4f} "
          f"{in_key_share(input_window, grid.key, style.model.cfg.pitch_lo):>7.3f} {1.0:>10.3f}")
    if "paper" in rows:
        print(f"paper / default time ratio: {rows['paper']['seconds'] / rows['default']['seconds']:.1f}x")
    print(f"peak memory (RSS, whole process): {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
