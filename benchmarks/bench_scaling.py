"""Cost against length (issue #25): time per bar and peak memory from 8 to 1,024 bars, and
the quality of long renders window by window.

``python benchmarks/bench_scaling.py [--styles bach,jazz] [--bars 8,32,128,512,1024]
[--rss-bars 32,1024] [--reference-seeds 4] [--write docs/speed.md]``

The piece is the 32-bar test piece of ``bench_render.py`` (test-split chorales, never
trained on), repeated to each length, so that every 32-bar window of a long piece is the
same music as the 32-bar piece. For each style and length a fresh process loads the
style, warms up on 8 bars and times one ``transfer_song`` (default settings, seed 0, one
torch thread); its peak RSS is the curve's memory. For ``--rss-bars`` a cold ``styletx
render`` process of the piece written as a MIDI file is run too, and its own peak RSS
read from the kernel (``wait4``).

Window by window: each 32-bar window of the longest render is measured as a transfer of
its own 32 bars (:func:`styletx.evaluation.metrics.transfer_metrics`) and held to the
32-bar render of the same music within the real-music bench's tolerances (issue #19):
chord agreement no lower by more than 0.05, clash no higher by more than 0.02, notes per
beat within ±15 %. One render is one draw (its chord agreement moves by about 0.04 from
seed to seed), so the reference is the mean over ``--reference-seeds`` 32-bar renders
(seeds ``seed, seed + 1, ...``), printed with their spread; each window is checked against
that mean, and the bench fails when the windows' mean leaves the tolerance of it.

``--write FILE`` replaces the part of FILE between ``<!-- scaling -->`` and
``<!-- /scaling -->`` with the tables, and saves the plot and the figures beside it
(``scaling.png``, ``scaling.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_render import test_piece  # noqa: E402

from styletx.api import TransferOptions, transfer_song  # noqa: E402
from styletx.evaluation.metrics import output_parts, transfer_metrics  # noqa: E402
from styletx.model.settings import SamplerSettings  # noqa: E402
from styletx.music.parts import select_parts  # noqa: E402
from styletx.music.song import Note, Song, Track  # noqa: E402
from styletx.styles import load_style  # noqa: E402

WINDOW = 32
TOLERANCE = {"chord_agreement": 0.05, "clash": 0.02, "notes_per_beat": 0.15}
"""Chord agreement may fall by 0.05, clash rise by 0.02, notes per beat move by 15 %."""
METRICS = tuple(TOLERANCE)
MARK = ("<!-- scaling -->", "<!-- /scaling -->")


def long_piece(bars: int) -> Song:
    """The 32-bar test piece repeated (and cut) to ``bars`` bars."""
    base = test_piece(WINDOW)
    span = WINDOW * 4 * base.resolution
    stop = bars * 4 * base.resolution
    copies = range(-(-bars // WINDOW))
    tracks = [replace(t, notes=[Note(n.start + k * span, min(n.end + k * span, stop), n.pitch, n.velocity)
                                for k in copies for n in t.notes if n.start + k * span < stop])
              for t in base.tracks]
    keys = [replace(s, tick=s.tick + k * span) for k in copies for s in base.key_signatures
            if s.tick + k * span < stop]
    return Song(resolution=base.resolution, tracks=tracks, time_signatures=base.time_signatures,
                key_signatures=keys, source=f"test piece x {bars} bars")


def window(song: Song, tracks: list[Track], k: int) -> Song:
    """Bars ``32k + 1 .. 32(k + 1)`` of ``tracks`` as a song of their own."""
    span = WINDOW * 4 * song.resolution
    lo, hi = k * span, (k + 1) * span
    cut = [replace(t, notes=[Note(n.start - lo, min(n.end, hi) - lo, n.pitch, n.velocity)
                             for n in t.notes if lo <= n.start < hi]) for t in tracks]
    keys = [replace(s, tick=max(s.tick - lo, 0)) for s in song.key_signatures if s.tick < hi]
    keys = [s for i, s in enumerate(keys) if i + 1 == len(keys) or keys[i + 1].tick > s.tick]
    return Song(resolution=song.resolution, tracks=cut, time_signatures=song.time_signatures,
                key_signatures=keys, source=f"window {k}")


def window_metrics(song: Song, result_tracks: list[Track]) -> list[dict[str, float]]:
    """The three bench metrics of every 32-bar window of a render of ``song``."""
    rows = []
    n = -(-max(n.end for t in song.tracks for n in t.notes) // (WINDOW * 4 * song.resolution))
    for k in range(n):
        song_in = window(song, song.tracks, k)
        parts_in = select_parts(song_in)
        song_out = window(song, result_tracks, k)
        out = transfer_metrics(song_in, parts_in, song_out, output_parts(song_out, parts_in.melody))
        rows.append({m: float(out["output"][m]) for m in METRICS})
    return rows


def worker(style_name: str, bars: int, seed: int) -> dict:
    """One length in this process: warm-up, one timed transfer, peak RSS, window metrics."""
    torch.set_num_threads(1)
    style = load_style(style_name)
    transfer_song(long_piece(8), style, TransferOptions(SamplerSettings(seed=seed, sweeps=1)))
    song = long_piece(bars)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = transfer_song(song, style, TransferOptions(SamplerSettings(seed=seed)))
    out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu0,
           "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if bars >= WINDOW:
        out["windows"] = window_metrics(song, result.tracks)
    return out


def cli_peak_mib(style: str, bars: int, seed: int) -> tuple[float, float]:
    """Wall time and peak RSS (MiB) of one cold ``styletx render`` of the piece."""
    from styletx.io.writer import write_midi

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "piece.mid", Path(tmp) / "out.mid"
        song = long_piece(bars)
        write_midi(src, song, song.tracks)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "styletx", "render", str(src), "--style", style,
                                 "--seed", str(seed), "-o", str(dst)], env=env, cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if status:
            raise SystemExit(f"styletx render failed for {style} at {bars} bars")
        return time.perf_counter() - t0, usage.ru_maxrss / 1024


def mean_sd(rows: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (sample) standard deviation of each metric over ``rows``."""
    mean = {m: statistics.fmean(r[m] for r in rows) for m in METRICS}
    sd = {m: statistics.stdev([r[m] for r in rows]) if len(rows) > 1 else 0.0 for m in METRICS}
    return mean, sd


def windows_hold(reference: dict[str, float], rows: list[dict[str, float]]) -> bool:
    """Whether the windows' mean is within the tolerances of the reference mean."""
    return not check_windows(reference, [mean_sd(rows)[0]])


def check_windows(reference: dict[str, float], rows: list[dict[str, float]]) -> list[str]:
    """The windows (1-based) outside the tolerances of ``reference``, with the metric."""
    bad = []
    for k, row in enumerate(rows, 1):
        if row["chord_agreement"] < reference["chord_agreement"] - TOLERANCE["chord_agreement"]:
            bad.append(f"{k}: chord {row['chord_agreement']:.3f}")
        if row["clash"] > reference["clash"] + TOLERANCE["clash"]:
            bad.append(f"{k}: clash {row['clash']:.3f}")
        if abs(row["notes_per_beat"] / reference["notes_per_beat"] - 1) > TOLERANCE["notes_per_beat"]:
            bad.append(f"{k}: notes/beat {row['notes_per_beat']:.3f}")
    return bad


def report(results: dict, args: argparse.Namespace) -> str:
    lines = [f"Command: `python benchmarks/bench_scaling.py --styles {args.styles} --bars {args.bars} "
             f"--rss-bars {args.rss_bars} --reference-seeds {args.reference_seeds}`; "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"load average {os.getloadavg()[0]:.1f} at the end.", "",
             "| style | bars | transfer() (s) | ms per bar | vs 32 bars | CPU (s) | CPU ms per bar "
             "| vs 32 bars | peak RSS, API (MiB) | `styletx render` (s) | peak RSS, `styletx render` (MiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for style, rows in results.items():
        for bars, r in sorted(rows.items()):
            cells = []
            for key in ("seconds", "cpu_seconds"):
                per_bar = 1000 * r[key] / bars
                ratio = per_bar / (1000 * rows[WINDOW][key] / WINDOW)
                cells.append(f"{r[key]:.2f} | {per_bar:.1f} | {ratio:.2f}x")
            cli = (f"{r['cli_seconds']:.1f} | {r['cli_peak_mib']:.0f}" if "cli_peak_mib" in r else "– | –")
            lines.append(f"| {style} | {bars} | {cells[0]} | {cells[1]} | {r['peak_mib']:.0f} | {cli} |")
    lines += ["", "![time per bar and peak RSS against length](scaling.png)", "",
              f"Every 32-bar window of the longest render against the mean of {args.reference_seeds} "
              f"32-bar renders of the same music (seeds {args.seed}–{args.seed + args.reference_seeds - 1}; "
              "tolerances: chord agreement −0.05, clash +0.02, notes per beat ±15 %). Cells: the "
              "32-bar renders' mean ± sd; the windows' mean ± sd (min–max):", "",
              "| style | render | windows | chord agreement | clash | notes per beat "
              "| windows outside mean ± tolerance | windows' mean within tolerance |",
              "|---|---|---|---|---|---|---|---|"]
    for style, rows in results.items():
        longest = max(rows)
        ref, ref_sd = mean_sd(rows[WINDOW]["references"])
        win = rows[longest]["windows"]
        mean, sd = mean_sd(win)
        cells = []
        for m, digits in (("chord_agreement", 3), ("clash", 3), ("notes_per_beat", 2)):
            col = [w[m] for w in win]
            cells.append(f"{ref[m]:.{digits}f} ± {ref_sd[m]:.{digits}f}; {mean[m]:.{digits}f} ± "
                         f"{sd[m]:.{digits}f} ({min(col):.{digits}f}–{max(col):.{digits}f})")
        bad = check_windows(ref, win)
        lines.append(f"| {style} | {longest} bars | {len(win)} | {' | '.join(cells)} | "
                     f"{len(bad)}{': ' + ', '.join(bad) if bad else ''} | "
                     f"{'yes' if windows_hold(ref, win) else 'NO'} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    for style, rows in results.items():
        bars = sorted(rows)
        a.plot(bars, [1000 * rows[n]["seconds"] / n for n in bars], "o-", label=style)
        b.plot(bars, [rows[n]["peak_mib"] for n in bars], "o-", label=f"{style}, API")
        cli = [n for n in bars if "cli_peak_mib" in rows[n]]
        b.plot(cli, [rows[n]["cli_peak_mib"] for n in cli], "s--", label=f"{style}, styletx render")
    for ax, title in ((a, "transfer() time per bar (ms)"), (b, "peak RSS (MiB)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bars")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.legend()
    b.axhline(400, color="grey", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _run_worker(style: str, bars: int, seed: int) -> dict:
    """:func:`worker` in a fresh process (its peak RSS is its own)."""
    res = subprocess.run([sys.executable, __file__, "--worker", style, str(bars), "--seed", str(seed)],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", default="bach,jazz")
    parser.add_argument("--bars", default="8,32,128,512,1024")
    parser.add_argument("--rss-bars", default="32,1024", help="lengths also run as `styletx render`")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-seeds", type=int, default=4,
                        help="32-bar renders (seeds seed, seed + 1, ...) whose mean the windows are held to")
    parser.add_argument("--write", help="markdown file whose scaling section to replace")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.seed)))
        return 0
    lengths = sorted({int(b) for b in args.bars.split(",")} | {WINDOW})
    cli_lengths = {int(b) for b in args.rss_bars.split(",") if b}
    results: dict = {}
    for style in args.styles.split(","):
        results[style] = {}
        for bars in lengths:
            row = _run_worker(style, bars, args.seed)
            if bars in cli_lengths:
                row["cli_seconds"], row["cli_peak_mib"] = cli_peak_mib(style, bars, args.seed)
            if bars == WINDOW:
                others = range(args.seed + 1, args.seed + args.reference_seeds)
                row["references"] = [row["windows"][0]] + [_run_worker(style, bars, k)["windows"][0]
                                                         for k in others]
            results[style][bars] = row
            print(f"{style} {bars} bars: {row['seconds']:.2f} s, {1000 * row['seconds'] / bars:.1f} ms/bar, "
                  f"{row['peak_mib']:.0f} MiB" + (f", render {row['cli_peak_mib']:.0f} MiB"
                                                  if "cli_peak_mib" in row else ""), flush=True)
    text = report(results, args)
    print(text)
    if args.write:
        path = Path(args.write)
        (path.parent / "scaling.json").write_text(json.dumps(results, indent=1) + "\n")
        doc = path.read_text()
        a, b = doc.index(MARK[0]) + len(MARK[0]), doc.index(MARK[1])
        path.write_text(doc[:a] + "\n" + text + doc[b:])
        plot(results, path.parent / "scaling.png")
    failed = [s for s, rows in results.items()
              if not windows_hold(mean_sd(rows[WINDOW]["references"])[0], rows[max(rows)]["windows"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
