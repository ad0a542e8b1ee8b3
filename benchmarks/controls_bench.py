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

``--calibrate`` measures instead, on ``--real`` other real pieces than the check's and the
real bench's (an even spread of the odd ones of a 16-piece spread) and ``--renderings``
validation-split pieces of the other data sources (neither bench's inputs), first each style's
``onset_shift``: the onset-logit shift at which its default transfers strike as many
accompaniment onsets per beat as its own data (the first ``--bars`` bars of
:data:`CALIBRATION_DATA` pieces of its training split, on the grid;
:func:`styletx.api.measure_onset_shift`); then, at that default, its response to further
shifts, the ``density_shifts`` table (:func:`styletx.model.density.expected_shift`):
``[ratio, shift]`` pairs, the ratio pooled over the pieces and kept increasing. It prints
both, and with ``--write`` stores them in this checkout's ``checkpoints/STYLE/style.json``.

    python benchmarks/controls_bench.py --calibrate --write --real 4 --renderings 4 --bars 16
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import time
from pathlib import Path

import numpy as np

from styletx.api import TransferOptions, measure_density_shifts, measure_onset_shift, transfer_song
from styletx.evaluation.bench import as_file, crop
from styletx.evaluation.realbench import spread
from styletx.evaluation.realset import real_inputs
from styletx.io.reader import read_midi
from styletx.model.settings import SamplerSettings
from styletx.music.encoding import ONSET, melody_pitches
from styletx.music.parts import select_parts
from styletx.music.song import Song
from styletx.styles import Style, load_style
from styletx.training.feel import style_songs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "midi_samples"
DENSITIES = (0.5, 0.75, 1.0, 1.5, 2.0)
STYLES = ("bach", "jazz", "bossa", "pop", "folk", "ragtime")
CALIBRATION_SPREAD = 16
"""The calibration's real pieces are the odd ones of this spread: none is in the real bench's
8-piece spread (``styletx eval --bench STYLE --inputs real --n 8``) nor in the check's."""
CALIBRATION_DATA = 60
"""Training-split pieces of a style's data whose onsets per beat its default matches: the MMA
grooves differ from file to file (folk's first 16 bars strike 3.5 to 4.1 onsets per beat on
12 to 60 files of one split), so many files, of the data the model learned."""


def pieces(n_real: int, bars: int, calibration: bool = False) -> list[tuple[str, Song, int]]:
    """(name, song, melody track index): the samples, then ``n_real`` real pieces, cropped;
    for ``calibration``, ``n_real`` other real pieces and no samples."""
    out = []
    if calibration:
        chosen = spread(spread(real_inputs(), CALIBRATION_SPREAD)[1::2], n_real)
    else:
        chosen = spread(real_inputs(), 2 * n_real)[::2] if n_real else []
    for path in [] if calibration else sorted(SAMPLES.glob("*.mid")):
        song = read_midi(path)
        parts = select_parts(song, None)
        song, parts = crop(song, parts, bars)
        song, parts = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
        out.append((path.stem, song, song.tracks.index(parts.melody)))
    for real in chosen:
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


def data_onsets_per_beat(style: Style, bars: int) -> float:
    """The style data's accompaniment onsets per beat on the grid, pooled over the first ``bars``
    bars of :data:`CALIBRATION_DATA` pieces of its training split."""
    onsets = beats = 0.0
    for song, parts in style_songs(style.name, "train", CALIBRATION_DATA):
        song, parts = crop(song, parts, bars)
        grid = style.grid(song, parts)
        cfg = style.model.cfg
        onsets += int((grid.accomp[:, cfg.pitch_lo:cfg.pitch_hi] == ONSET).sum())
        beats += grid.n_frames / grid.steps_per_beat
    return onsets / max(beats, 1.0)


def renderings(style: str, n: int, bars: int) -> list[tuple[str, Song, int]]:
    """``n`` held-out inputs of the other kind the benches read: the first validation-split piece
    of each other data source (the chorales, then the other MMA styles), cropped."""
    out = []
    for source in [s for s in STYLES if s != style][:n]:
        for song, parts in style_songs(source, "valid", 1):
            song, parts = crop(song, parts, bars)
            song, parts = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
            out.append((f"{source} valid", song, song.tracks.index(parts.melody)))
    return out


def calibrate(names: list[str], inputs: list[tuple[str, Song, int]], n_renderings: int, bars: int,
              write: bool) -> None:
    """Each style's ``onset_shift`` (:func:`styletx.api.measure_onset_shift`) and, at it, its
    ``density_shifts`` (:func:`styletx.api.measure_density_shifts`), on ``inputs`` and
    ``n_renderings`` of :func:`renderings`; printed, and stored in this checkout's
    ``style.json`` with ``write``."""
    for name in names:
        songs = [(song, melody) for _, song, melody in [*inputs, *renderings(name, n_renderings, bars)]]
        style = this_checkout(name)
        target = data_onsets_per_beat(style, bars)
        info = dataclasses.replace(style.info, onset_shift=0.0)
        shift = measure_onset_shift(dataclasses.replace(style, info=info), songs, target)
        info = dataclasses.replace(info, onset_shift=shift)
        table = measure_density_shifts(dataclasses.replace(style, info=info), songs)
        print(f"{name}: data {target:.2f} onsets per beat, onset_shift {shift:+.2f}, density_shifts {table}",
              flush=True)
        if write:
            dataclasses.replace(info, density_shifts=table).save(ROOT / "checkpoints" / name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--styles", nargs="+", default=list(STYLES))
    ap.add_argument("--real", type=int, default=2, help="real pieces besides the two samples")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--calibrate", action="store_true",
                    help="measure each style's onset_shift and density_shifts instead")
    ap.add_argument("--write", action="store_true", help="with --calibrate: store them in style.json")
    ap.add_argument("--renderings", type=int, default=4,
                    help="with --calibrate: held-out renderings of other styles besides the real pieces")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    inputs = pieces(args.real, args.bars, args.calibrate)
    if args.calibrate:
        print(f"calibration: {', '.join(n for n, _, _ in inputs)} and {args.renderings} validation-split "
              f"renderings of other styles, first {args.bars} bars, seed 0")
        return calibrate(args.styles, inputs, args.renderings, args.bars, args.write)
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
