"""Per-style evaluation: training data against transfers of held-out chorales.

Run ``python benchmarks/eval_styles.py [STYLE ...] [--write]``. For each style
it prints, for its training data (train split) and for the transfers of 8
test-split Bach chorales (never trained on by any style) into that style:

* the onset-position-in-beat histogram (share of accompaniment onsets at each
  grid step of the beat);
* notes (onsets) per beat, mean polyphony, and the share of onsets in the key;
* the content preservation of the transfer (chroma similarity to the input).

With ``--write`` it stores the figures in the style's folder (its transfer
evaluation, :meth:`~styletx.stylefolder.format.StyleFolder.write_eval`) and
regenerates its model card.

``--swing`` also checks, on held-out (test-split) jazz renderings, that swing
survives the grid: the share of off-beat eighth onsets that sit on the swing
position (2/3 of the beat) in the raw MIDI ticks, against the same share after
a round trip through the 6-step jazz grid and through a 4-step grid.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import TransferOptions, transfer_song
from styletx.errors import StyleTxError
from styletx.model.settings import SamplerSettings
from styletx.music.encoding import ONSET
from styletx.music.grid import build_grid, notes_to_roll
from styletx.music.metrics import (
    chroma_similarity,
    in_key_share,
    notes_per_beat,
    onset_beat_histogram,
    polyphony,
)
from styletx.music.song import Song
from styletx.paths import cache_dir
from styletx.stylefolder.format import StyleFolder
from styletx.styles import load_style, styles
from styletx.training.card import write_model_card
from styletx.training.corpus import chorale_ids, chorale_song, load_corpus
from styletx.training.splits import split_of
from styletx.training.train import evaluate

N_CHORALES = 8


def roll_stats(accomp: np.ndarray, beat_step: np.ndarray, key: np.ndarray, steps: int) -> dict:
    """The texture figures of one ``[T, 128]`` roll."""
    return {
        "onset_hist": onset_beat_histogram(accomp, beat_step, steps).tolist(),
        "notes_per_beat": notes_per_beat(accomp, steps),
        "polyphony": polyphony(accomp),
        "in_key": in_key_share(accomp, key),
        "onsets": int((accomp == ONSET).sum()),
    }


def merge(stats: list[dict]) -> dict:
    """Onset-weighted mean of per-piece figures."""
    weights = np.array([max(s["onsets"], 1) for s in stats], dtype=float)
    out = {}
    for key in ("notes_per_beat", "polyphony", "in_key"):
        values = np.array([s[key] for s in stats], dtype=float)
        ok = ~np.isnan(values)
        out[key] = float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")
    out["onset_hist"] = np.average(np.array([s["onset_hist"] for s in stats]), axis=0,
                                   weights=weights).tolist()
    return out


def test_chorales(n: int = N_CHORALES) -> list[Song]:
    """The first ``n`` four-part test-split chorales (some corpus entries have more parts)."""
    songs = []
    for cid in dict.fromkeys(chorale_ids()):
        if split_of(cid) != "test":
            continue
        try:
            songs.append(chorale_song(cid)[0])
        except StyleTxError:
            continue
        if len(songs) == n:
            break
    return songs


def evaluate_style(name: str, seed: int) -> dict:
    style = load_style(name)
    steps = style.steps_per_beat
    data = [p for p in load_corpus(name, style.model.cfg) if p.split == "train"]
    data_stats = []
    for p in data:
        full = np.zeros((p.n_frames, 128), dtype=np.uint8)
        full[:, :] = p.accomp
        data_stats.append(roll_stats(full, p.meta[:, 0], p.meta[:, 2], steps))
    out_stats, sims = [], []
    for i, song in enumerate(test_chorales()):
        result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=seed + i)))
        g = result.grid
        out_stats.append(roll_stats(result.new_accomp, g.beat_step, g.key, steps))
        sims.append(chroma_similarity(result.new_accomp, g.accomp, g.steps_per_beat))
    test = [p for p in load_corpus(name, style.model.cfg) if p.split == "test"]
    held_out = {
        "frame": evaluate(style.model, test, torch.device("cpu")),
        "block": evaluate(style.model, test, torch.device("cpu"), blocks=True),
    }
    return {
        "style": name,
        "held_out": held_out,
        "steps_per_beat": steps,
        "description": (
            f"Training data: {len(data)} train-split pieces of the {name} corpus. Output: "
            f"{N_CHORALES} test-split Bach chorales transferred into {name} with the default "
            f"settings (seeds {seed}..{seed + N_CHORALES - 1}); their mean chroma similarity to "
            f"the input accompaniment is {float(np.nanmean(sims)):.3f}."
        ),
        "data": merge(data_stats),
        "output": merge(out_stats),
        "chroma_similarity": float(np.nanmean(sims)),
    }


def swing_check() -> dict:
    """Share of off-beat eighth onsets on the swing position: raw ticks vs grids."""
    from styletx.io.reader import read_midi
    from styletx.music.parts import select_parts

    manifest = json.loads((cache_dir() / "data" / "jazz" / "manifest.json").read_text())
    files = [cache_dir() / "data" / "jazz" / e["file"] for e in manifest["pieces"]
             if e["split"] == "test" and e["meter"] == "4/4"]
    raw_swing = raw_offbeat = 0
    grid_counts = {6: [0, 0], 4: [0, 0]}
    for path in files:
        song = read_midi(path)
        parts = select_parts(song, "melody")
        notes = [n for t in parts.accompaniment for n in t.notes]
        res = song.resolution
        pos = np.array([(n.start % res) / res for n in notes])
        offbeat = (pos > 0.3) & (pos < 0.85)  # the second eighth, straight (0.5) or swung (0.67)
        raw_offbeat += int(offbeat.sum())
        raw_swing += int((offbeat & (np.abs(pos - 2 / 3) < 1 / 12)).sum())
        for steps in grid_counts:
            roll = notes_to_roll(notes, build_grid(song, parts, steps).n_frames, res, steps)
            step = np.nonzero(roll == ONSET)[0] % steps
            frac = step / steps
            off = (frac > 0.3) & (frac < 0.85)
            grid_counts[steps][0] += int((off & (np.abs(frac - 2 / 3) < 1 / 12)).sum())
            grid_counts[steps][1] += int(off.sum())
    return {
        "files": len(files),
        "raw": raw_swing / max(raw_offbeat, 1),
        "grid6": grid_counts[6][0] / max(grid_counts[6][1], 1),
        "grid4": grid_counts[4][0] / max(grid_counts[4][1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("styles", nargs="*", help="styles to evaluate (default: all installed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="store the figures and the card")
    parser.add_argument("--swing", action="store_true", help="also run the jazz swing check")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.styles or styles():
        result = evaluate_style(name, args.seed)
        print(f"\n== {name} ({result['steps_per_beat']} steps per beat)")
        print(f"  {'':<8} {'notes/beat':>10} {'polyphony':>9} {'in key':>7}   onset position in beat")
        for label in ("data", "output"):
            r = result[label]
            hist = " ".join(f"{x:.2f}" for x in r["onset_hist"])
            print(f"  {label:<8} {r['notes_per_beat']:>10.2f} {r['polyphony']:>9.2f} "
                  f"{r['in_key']:>7.3f}   {hist}")
        print(f"  chroma similarity of the output to the input: {result['chroma_similarity']:.3f}")
        for kind, m in result["held_out"].items():
            print(f"  held-out {kind} NLL/cell {m['nll_per_cell']:.4f}, onset accuracy "
                  f"{m['onset_accuracy']:.3f}, predicted onsets in key {m['pred_onsets_in_key']:.3f} "
                  f"(data {m['true_onsets_in_key']:.3f}) on {m['pieces']} test pieces")
        if args.write:
            directory = load_style(name).directory
            StyleFolder(directory).write_eval(result)
            write_model_card(directory)
    if args.swing:
        s = swing_check()
        print(f"\nswing check on {s['files']} test-split 4/4 jazz renderings: off-beat eighth onsets "
              f"on the swing position (2/3 beat): raw ticks {s['raw']:.3f}, 6-step grid "
              f"{s['grid6']:.3f}, 4-step grid {s['grid4']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
