"""Unseen-style benchmark: adapt styletx to an MMA groove no shipped style was trained on.

For each groove (default: ``Tango``, a Latin feel, and ``March``; neither is in
``styletx.training.recipes.RECIPES``), four systems rewrite the same held-out inputs:

1. the nearest shipped style (lowest NLL per beat on the one example), unadapted;
2. ``render --style-from`` one example of the groove;
3. ``render --style-from`` five examples;
4. ``train --data`` on a folder of the groove's renderings (fine-tuned from the nearest
   shipped style, with a time budget; see ``--train-minutes``).

Inputs: test-split melodies (held out from every shipped style's training) in 4/4,
rendered with MMA's ``Folk`` groove (a song arranged one way, to be rearranged). The
groove's *reference*: the same test melodies rendered with the groove itself. Examples
and the training folder: train-split melodies rendered with the groove (random tempo
and key). Each system is scored against the reference: the total-variation distance
between onset-position-in-bar histograms (1/12 beat) of all its outputs and of all the
reference renderings, notes per beat, and chord agreement with the input
(``styletx.evaluation.metrics.transfer_metrics``). Wall times are measured on this machine.

    python benchmarks/bench_own_style.py --out docs/own_style.json
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.metrics import bar_onset_histograms, piece_of, transfer_metrics
from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.model.settings import SamplerSettings
from styletx.music.parts import select_parts
from styletx.styles import load_style
from styletx.training.corpus import read_files
from styletx.training.leadsheets import load_leadsheets
from styletx.training.mma import render_piece
from styletx.training.own import adapt, nearest_style
from styletx.training.recipes import mma_specs
from styletx.training.splits import split_of

INPUT_GROOVE = "Folk"


def used_grooves() -> set[str]:
    return {g for spec in mma_specs().values() for gs in spec.grooves.values() for g in gs}


def render_set(sheets, groove: str, folder: Path, rng: random.Random, tempo=(90, 130),
               transpose: bool = False) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in sheets:
        k = rng.randrange(-5, 7) if transpose else 0
        bpm = rng.randint(*tempo)  # drawn whether or not the file exists: the same plan each run
        sheet = s.transposed(k) if k else s
        path = folder / f"{s.piece_id.replace('/', '_')}_{groove}_k{k:+d}.mid"
        if not path.exists():
            try:
                render_piece(sheet, groove, bpm, path, seed=1)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"skip {s.piece_id}: {e}", file=sys.stderr)
                continue
        out.append(path)
    return out


def bar_hist(paths_or_songs) -> np.ndarray:
    """Summed onset-position-in-bar histogram (1/12 beat) of 4/4 bars, normalised."""
    total = np.zeros(48)
    for song, parts in paths_or_songs:
        for h in bar_onset_histograms(piece_of(song, parts)):
            if len(h) == 48:
                total += h
    return total / max(total.sum(), 1e-9)


def tv(a: np.ndarray, b: np.ndarray) -> float:
    return float(0.5 * np.abs(a - b).sum())


def run_system(name: str, style, inputs: list[Path], out_dir: Path, seed: int) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pairs, rows = [], []
    for i, path in enumerate(inputs):
        song = read_midi(path)
        result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=seed + i)))
        dst = write_midi(out_dir / path.name, result.song, result.tracks, force=True)
        song_out = read_midi(dst)
        parts_in = select_parts(song)
        m = transfer_metrics(song, parts_in, song_out)
        from styletx.evaluation.metrics import output_parts

        pairs.append((song_out, output_parts(song_out, parts_in.melody)))
        rows.append(m["output"])
    seconds = time.perf_counter() - t0
    return {"system": name, "render_seconds": round(seconds, 1), "pairs": pairs,
            "notes_per_beat": float(np.mean([r["notes_per_beat"] for r in rows])),
            "chord_agreement": float(np.nanmean([r["chord_agreement"] for r in rows])),
            "melody_exact": float(np.mean([r["melody_exact"] for r in rows]))}


def markdown(results: dict) -> str:
    """The tables of ``docs/own_style.md`` from the results JSON."""
    lines = []
    for groove, g in results["grooves"].items():
        ref = g["reference"]
        lines += [
            f"### {groove}",
            "",
            f"Reference: MMA's `{groove}` on the {results['n_test']} held-out melodies: "
            f"{ref['notes_per_beat']:.2f} notes per beat, chord agreement with the inputs "
            f"{ref['chord_agreement']:.3f}. Nearest shipped style on one example: "
            f"**{g['nearest']}** (NLL per beat: "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(g["fits_one_example"].items(),
                                                          key=lambda x: x[1])) + ").",
            "",
            "| system | onset histogram distance (TV) | vs unadapted | notes per beat | "
            "chord agreement | melody exact | adaptation wall time | render wall time "
            f"({results['n_test']} inputs) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in g["systems"]:
            lines.append(
                f"| {r['system']} | {r['hist_distance']:.3f} | {r['distance_vs_unadapted']:.2f}× | "
                f"{r['notes_per_beat']:.2f} | {r['chord_agreement']:.3f} | {r['melody_exact']:.0f} | "
                f"{r['adapt_seconds']:.0f} s | {r['render_seconds']:.0f} s |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grooves", default="Tango,March")
    ap.add_argument("--n-test", type=int, default=6, help="held-out inputs per groove")
    ap.add_argument("--n-train", type=int, default=100, help="files for train --data")
    ap.add_argument("--adapt-seconds", type=float, default=40.0)
    ap.add_argument("--adapt-steps", type=int, default=None,
                    help="also cap the few-shot fine-tuning at this many steps (a machine-"
                    "independent budget; the default is the time budget only)")
    ap.add_argument("--train-minutes", type=float, default=4.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/styletx-own-bench"))
    ap.add_argument("--out", type=Path, default=Path("docs/own_style.json"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", action="store_true",
                    help="only print the tables of an existing --out JSON")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.out.read_text())))
        return 0

    grooves = args.grooves.split(",")
    clash = used_grooves() & set(grooves)
    if clash:
        raise SystemExit(f"grooves used by a shipped style: {clash}")
    sheets = [s for s in load_leadsheets() if s.numerator == 4 and s.denominator == 4]
    test = sorted((s for s in sheets if split_of(s.source_id) == "test"), key=lambda s: s.piece_id)
    train = sorted((s for s in sheets if split_of(s.source_id) == "train"), key=lambda s: s.piece_id)
    rng = random.Random(args.seed)
    rng.shuffle(test)
    rng.shuffle(train)
    test = test[: args.n_test]
    # examples: the longest train sheets (the 32-bar example)
    by_len = sorted(train, key=lambda s: -s.n_bars)
    examples5 = by_len[:5]
    folder_sheets = [s for s in train if s not in examples5][: args.n_train]
    results: dict = {"command": " ".join(sys.argv), "grooves": {}, "input_groove": INPUT_GROOVE,
                     "n_test": len(test), "example_bars": [s.n_bars for s in examples5]}
    work = args.work
    inputs = render_set(test, INPUT_GROOVE, work / "inputs", random.Random(1))
    for groove in grooves:
        g = results["grooves"][groove] = {"systems": []}
        gw = work / groove
        t0 = time.perf_counter()
        ref = render_set(test, groove, gw / "reference", random.Random(2))
        ex = render_set(examples5, groove, gw / "examples", random.Random(3), transpose=True)
        data = render_set(folder_sheets, groove, gw / "data", random.Random(4), transpose=True)
        g["render_data_seconds"] = round(time.perf_counter() - t0, 1)
        ref_pairs = [(s, select_parts(s)) for s in map(read_midi, ref)]
        ref_hist = bar_hist(ref_pairs)
        ref_rows = [transfer_metrics(read_midi(i), select_parts(read_midi(i)), s)["output"]
                    for i, (s, _) in zip(inputs, ref_pairs, strict=True)]
        g["reference"] = {"notes_per_beat": float(np.mean([r["notes_per_beat"] for r in ref_rows])),
                          "chord_agreement": float(np.nanmean([r["chord_agreement"] for r in ref_rows]))}
        print(f"{groove}: reference {g['reference']}", flush=True)

        # 1. nearest shipped style, unadapted
        t0 = time.perf_counter()
        base, fits = nearest_style(read_files(ex[:1]))
        pick_s = time.perf_counter() - t0
        g["nearest"] = base
        g["fits_one_example"] = fits
        systems = [("nearest shipped style, unadapted (" + base + ")", load_style(base), pick_s)]
        # 2, 3. few-shot
        for k in (1, 5):
            t0 = time.perf_counter()
            a = adapt(ex[:k], seconds=args.adapt_seconds, max_steps=args.adapt_steps,
                      seed=args.seed)
            systems.append((f"--style-from {k} example{'s' if k > 1 else ''} (base {a.base}, "
                            f"{a.steps} steps)", a.style, time.perf_counter() - t0))
            print(f"{groove}: {a.describe()}", flush=True)
        # 4. train --data on the folder
        t0 = time.perf_counter()
        out = gw / "style"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "styletx", "train", "--style", f"own-{groove.lower()}",
               "--data", str(gw / "data"), "--from", base, "--max-minutes", str(args.train_minutes),
               "-o", str(out), "--quiet", "--threads", "2", "--device", "cpu"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        print(proc.stdout + proc.stderr[-2000:], flush=True)
        systems.append((f"train --data, {len(data)} files (fine-tuned from {base}, "
                        f"{args.train_minutes:g} min budget)", load_style(out),
                        time.perf_counter() - t0))
        for number, (name, style, adapt_s) in enumerate(systems, 1):
            r = run_system(name, style, inputs, gw / "out" / f"system{number}", args.seed)
            r["hist_distance"] = tv(bar_hist(r.pop("pairs")), ref_hist)
            r["adapt_seconds"] = round(adapt_s, 1)
            g["systems"].append(r)
            print(f"{groove}: {r}", flush=True)
        base_d = g["systems"][0]["hist_distance"]
        for r in g["systems"]:
            r["distance_vs_unadapted"] = r["hist_distance"] / base_d if base_d else float("nan")

    # the 60 s claim: one CLI call, a 32-bar example and a 32-bar input
    long_in = max(inputs, key=lambda p: read_midi(p).end_tick)
    long_ex = (work / grooves[0] / "examples").glob("*.mid")
    ex32 = max(long_ex, key=lambda p: read_midi(p).end_tick)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "styletx", "render", str(long_in), "--style-from",
                           str(ex32), "-o", str(work / "cli.mid"), "--force", "--seed", "1"],
                          capture_output=True, text=True)
    results["cli_call"] = {"seconds": round(time.perf_counter() - t0, 1), "rc": proc.returncode,
                           "input": long_in.name, "example": ex32.name,
                           "stderr": proc.stderr.strip()[-500:]}
    print(results["cli_call"], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
