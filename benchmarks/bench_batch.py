"""Throughput of ``styletx batch``: 30 generated 32-bar files, 2 workers, render's defaults.

Run ``python benchmarks/bench_batch.py [--files 30] [--jobs 2] [--sweeps 5] [--engine local|ray]``.
It uses the shipped ``bach`` style when it is installed, else the tiny untrained test
style (same code path, smaller network), and prints files per minute and the peak
resident memory of each worker (``getrusage`` in the worker, returned per file), each
beside issue #14's target (100 files in at most 2 minutes, 500 MB per worker).

``--engine ray`` starts a local Ray (127.0.0.1, ``--jobs`` CPUs) and times its parts
apart, so that a load that changes during the run does not pass for Ray's overhead:
``ray.init``, the actors' start-up (a batch of files that fail at once), the batch on
the started actors, and the dispatch per file (a batch of ``--files`` failing files).
It prints how many files per worker it takes before the fixed cost (init and
start-up) is under 10 % of a run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import TransferOptions
from styletx.batch import BatchOptions, BatchReport, run_batch
from styletx.io.writer import write_midi
from styletx.model.settings import SamplerSettings
from styletx.music.song import KeySignature, Note, Song, TempoChange, TimeSignature, Track
from styletx.styles import styles

ROOT = Path(__file__).resolve().parents[1]
RES = 480
BARS = 32
TARGET_FILES_PER_MINUTE = 50.0
TARGET_PEAK_MIB = 500.0


def make_song(path: Path, seed: int) -> None:
    """A 32-bar 4/4 piece: a melody in quarters and eighths over block chords in halves."""
    rng = random.Random(seed)
    bar = 4 * RES
    melody, tick = [], 0
    while tick < BARS * bar:
        length = rng.choice([RES, RES, RES // 2])
        melody.append(Note(tick, tick + length, rng.randrange(64, 81), 90))
        tick += length
    chords = [Note(t, t + 2 * RES, root + step, 60)
              for t in range(0, BARS * bar, 2 * RES)
              for root in [rng.choice([48, 50, 53, 55, 57])] for step in (0, 4, 7)]
    song = Song(RES, [], [TempoChange(0, 500_000)], [TimeSignature(0, 4, 4)],
                [KeySignature(0, 0, False)])
    write_midi(path, song, [Track("Melody", 0, False, melody), Track("Piano", 0, False, chords)])


def _timed(run: Callable[[], BatchReport]) -> tuple[BatchReport, float]:
    t0 = time.perf_counter()
    report = run()
    return report, time.perf_counter() - t0


def _print(label: str, report: BatchReport, seconds: float) -> None:
    peaks: dict[int, float] = {}
    for r in report.results:
        peaks[r.worker] = max(peaks.get(r.worker, 0.0), r.peak_rss_mib)
    print(f"{label}: {report.count('ok')} ok, {report.count('failed')} failed, {seconds:.1f} s wall: "
          f"{60 * report.count('ok') / seconds:.1f} files/minute "
          f"(target >= {TARGET_FILES_PER_MINUTE:.0f}, i.e. 100 files in 2 min)")
    print("  peak RSS per worker: " + ", ".join(f"{v:.0f} MiB" for v in sorted(peaks.values()))
          + f" (target <= {TARGET_PEAK_MIB:.0f} MiB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sweeps", type=int, default=SamplerSettings.sweeps)
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "bach" in styles():
            style = "bach"
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            from conftest import make_tiny_style

            style = str(make_tiny_style(root / "models"))
        src = root / "in"
        src.mkdir()
        for i in range(args.files):
            make_song(src / f"song{i:03d}.mid", i)
        options = BatchOptions(style, TransferOptions().replace(seed=0, sweeps=args.sweeps))
        name = "bach" if style == "bach" else "tiny (untrained test style)"
        print(f"style {name}, {args.files} files of {BARS} bars, {args.jobs} workers, "
              f"{args.sweeps} sweeps, engine {args.engine}")
        if args.engine == "local":
            report, seconds = _timed(lambda: run_batch([src], root / "out", options, jobs=args.jobs,
                                                       progress=False))
            _print("local pool (worker start-up included)", report, seconds)
            return 0 if not report.count("failed") else 1
        from styletx.batch_ray import RayOptions, connect, run_ray_batch

        t0 = time.perf_counter()
        connect(num_cpus=args.jobs)
        init_s = time.perf_counter() - t0
        print(f"ray.init (local Ray, {args.jobs} CPUs): {init_s:.1f} s")
        ray_options = RayOptions(jobs=args.jobs)
        junk = root / "junk"  # files that fail at once in the worker: a batch of them is pure overhead
        junk.mkdir()
        for i in range(args.files):
            (junk / f"junk{i:03d}.mid").write_text("not MIDI\n")

        def overhead(files: int) -> float:
            return _timed(lambda: run_ray_batch(sorted(junk.iterdir())[:files], root / "junk_out", options,
                                                ray_options, progress=False)[0])[1]

        start_s = overhead(args.jobs)  # the actors start and load the style
        print(f"actor start-up and style load: {start_s:.1f} s")
        report, seconds = _timed(lambda: run_ray_batch([src], root / "out", options, ray_options,
                                                       progress=False)[0])
        _print("ray, actors started", report, seconds)
        _print("ray, as one CLI run (ray.init and start-up added)", report, seconds + init_s + start_s)
        dispatch = overhead(args.files) * args.jobs / args.files  # per file and worker
        per_file = seconds * args.jobs / max(report.count("ok"), 1)
        fixed = init_s + start_s
        print(f"per file and worker: {per_file:.2f} s converting, {1000 * dispatch:.0f} ms of Ray dispatch")
        print(f"Ray's fixed cost {fixed:.1f} s = {fixed / per_file:.1f} files per worker: "
              f"under 10 % of a run from {10 * fixed / per_file:.0f} files per worker on")
        return 0 if not report.count("failed") else 1

if __name__ == "__main__":
    raise SystemExit(main())
