"""Throughput of ``styletx batch``: 100 generated 32-bar files, 2 worker processes.

Run ``python benchmarks/bench_batch.py [--files 100] [--jobs 2] [--sweeps 6]``. It
uses the shipped ``bach`` style when it is installed, else the tiny untrained test
style (same code path, smaller network), and prints files per minute and the peak
resident memory of each worker (``getrusage`` in the worker, returned per file), each
beside issue #14's target (100 files in at most 2 minutes, 500 MB per worker).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.api import TransferOptions
from styletx.batch import BatchOptions, run_batch
from styletx.io.writer import write_midi
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sweeps", type=int, default=6)
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
        t0 = time.perf_counter()
        report = run_batch([src], root / "out",
                           BatchOptions(style, TransferOptions().replace(seed=0, sweeps=args.sweeps)),
                           jobs=args.jobs, progress=False)
        seconds = time.perf_counter() - t0
    name = "bach" if style == "bach" else "tiny (untrained test style)"
    peaks: dict[int, float] = {}
    for r in report.results:
        peaks[r.worker] = max(peaks.get(r.worker, 0.0), r.peak_rss_mib)
    print(f"style {name}, {args.files} files of {BARS} bars, {args.jobs} workers, "
          f"{args.sweeps} sweeps: {report.count('ok')} ok, {report.count('failed')} failed")
    print(f"{seconds:.1f} s wall (worker start-up included): "
          f"{60 * report.count('ok') / seconds:.1f} files/minute "
          f"(target >= {TARGET_FILES_PER_MINUTE:.0f}, i.e. 100 files in 2 min)")
    print("peak RSS per worker: " + ", ".join(f"{v:.0f} MiB" for v in sorted(peaks.values()))
          + f" (target <= {TARGET_PEAK_MIB:.0f} MiB)")
    return 0 if not report.count("failed") else 1


if __name__ == "__main__":
    raise SystemExit(main())
