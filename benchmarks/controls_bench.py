"""The controls of #20 item 5, measured per style: --density ratios, --range compliance, and
the accompaniment's share of onsets above the sounding melody without a range.

For each style, every piece (the two ``midi_samples/`` files and an even spread of the
real set, cropped to its first ``--bars`` bars) is transferred with seed 0 at each
``--density`` X; the ratio is the output's accompaniment onsets per beat against the same
piece and seed at X = 1, pooled over the pieces (total onsets / total onsets at X = 1) and
per piece (the worst piece); beside it, the worst piece with the style's calibrated shift
alone (before the render-time search, read from the transfer's note) and the search's mean
draws besides the default's. ``--range`` is the style's middle two octaves and a half;
compliance is the share of written accompaniment notes inside it, and the melody is
checked note for note under every control.

    python benchmarks/controls_bench.py --styles bach jazz --real 2 --bars 16

``--calibrate`` measures instead each style's response to the onset-logit shift, on other
real pieces than the check's (the odd ones of the spread), and prints the ``density_shifts``
table of its ``style.json`` (:func:`styletx.model.density.expected_shift`): ``[ratio, shift]`` pairs,
the ratio pooled over the pieces and kept increasing.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from styletx.api import TransferOptions, measure_density_shifts, transfer_song
from styletx.evaluation.bench import as_file, crop
from styletx.evaluation.realbench import spread
from styletx.evaluation.realset import real_inputs
from styletx.io.reader import read_midi
from styletx.model.settings import SamplerSettings
from styletx.music.encoding import ONSET, melody_pitches
from styletx.music.parts import select_parts
from styletx.music.song import Song
from styletx.styles import Style, load_style

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "midi_samples"
DENSITIES = (0.5, 0.75, 1.0, 1.5, 2.0)
STYLES = ("bach", "jazz", "bossa", "pop", "folk", "ragtime")


def pieces(n_real: int, bars: int, calibration: bool = False) -> list[tuple[str, Song, int]]:
    """(name, song, melody track index): the samples, then ``n_real`` real pieces, cropped;
    for ``calibration``, ``n_real`` other real pieces and no samples."""
    out = []
    for path in [] if calibration else sorted(SAMPLES.glob("*.mid")):
        song = read_midi(path)
        parts = select_parts(song, None)
        song, parts = crop(song, parts, bars)
        song, parts = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
        out.append((path.stem, song, song.tracks.index(parts.melody)))
    if n_real:
        for real in spread(real_inputs(), 2 * n_real)[int(calibration)::2]:
            song, parts = crop(real.song, real.parts, bars)
            song, parts = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
            out.append((real.entry["id"], song, song.tracks.index(parts.melody)))
    return out


def above_share(res) -> tuple[int, int]:
    """(onsets above the sounding melody pitch, onsets where the melody sounds), on the grid."""
    frames, pitches = np.nonzero(res.new_accomp == ONSET)
    mel = res.grid.melody[frames]
    on = mel > 0
    return int((pitches[on] > melody_pitches(mel[on])).sum()), int(on.sum())


def this_checkout(name: str) -> Style:
    """The shipped style ``name`` from this checkout's ``checkpoints/`` (its ``style.json``), even
    where an editable install maps the shipped styles to another checkout."""
    return load_style(str(ROOT / "checkpoints" / name))


def calibrate(names: list[str], inputs: list[tuple[str, Song, int]]) -> None:
    """Print each style's ``density_shifts`` (:func:`styletx.api.measure_density_shifts`)."""
    for name in names:
        table = measure_density_shifts(this_checkout(name), [(song, melody) for _, song, melody in inputs])
        print(f"{name}: {table}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--styles", nargs="+", default=list(STYLES))
    ap.add_argument("--real", type=int, default=2, help="real pieces besides the two samples")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--calibrate", action="store_true", help="print each style's density_shifts")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    inputs = pieces(args.real, args.bars, args.calibrate)
    if args.calibrate:
        print(f"calibration: {', '.join(n for n, _, _ in inputs)}, first {args.bars} bars, seed 0")
        return calibrate(args.styles, inputs)
    print(f"{len(inputs)} pieces ({', '.join(n for n, _, _ in inputs)}), first {args.bars} bars, seed 0")
    print("| style | " + " | ".join(f"X={x:g}" for x in DENSITIES)
          + " | worst piece off X | table alone: worst off | draws | range | inside | melody exact"
          " | above melody | s/transfer |")
    print("|---" * (len(DENSITIES) + 9) + "|")
    for name in args.styles:
        style = this_checkout(name)
        cfg = style.model.cfg
        lo = max(cfg.pitch_lo, 40)
        register = (lo, min(cfg.pitch_hi - 1, lo + 30))
        onsets = np.zeros((len(DENSITIES), len(inputs)))
        inside = total = 0
        exact = True
        above = [0, 0]
        alone, draws = [], []
        t0, renders = time.perf_counter(), 0
        for i, (_, song, melody) in enumerate(inputs):
            base = TransferOptions(SamplerSettings(seed=0), melody_track=melody)
            for j, x in enumerate(DENSITIES):
                res = transfer_song(song, style, base.replace(density=x))
                renders += 1
                onsets[j, i] = (res.new_accomp == ONSET).sum()
                exact &= res.tracks[0] == res.parts.melody
                note = next((n for n in res.notes if n.startswith("density")), "")
                found = re.search(r"(\d+) draw.*table alone gave (\d+\.\d+)", note)
                if found:
                    draws.append(int(found.group(1)))
                    alone.append(abs(float(found.group(2)) / x - 1))
                if x == 1.0:
                    a, n = above_share(res)
                    above[0] += a
                    above[1] += n
            res = transfer_song(song, style, base.replace(pitch_range=register))
            renders += 1
            exact &= res.tracks[0] == res.parts.melody
            notes = [n for t in res.tracks[1:] if not t.is_drum for n in t.notes]
            inside += sum(register[0] <= n.pitch <= register[1] for n in notes)
            total += len(notes)
        ref = onsets[DENSITIES.index(1.0)]
        pooled = onsets.sum(1) / ref.sum()
        per_piece = onsets / np.maximum(ref, 1)
        off = np.abs(per_piece / np.array(DENSITIES)[:, None] - 1).max()
        print(f"| {name} | " + " | ".join(f"{r:.2f}" for r in pooled)
              + f" | {off:.0%} | {max(alone):.0%} | {np.mean(draws):.1f}"
              f" | {register[0]}-{register[1]} | {inside / max(total, 1):.1%} of {total}"
              f" | {'yes' if exact else 'NO'} | {above[0] / max(above[1], 1):.3f}"
              f" | {(time.perf_counter() - t0) / renders:.1f} |", flush=True)


if __name__ == "__main__":
    main()
