"""Time ``read_midi`` + ``select_parts`` + ``build_grid`` on a 5-minute, 8-track, ~20k-note MIDI file.

Run ``python benchmarks/bench_read.py``; it prints the median of several runs.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts
from styletx.music.song import KeySignature, Note, Song, TempoChange, TimeSignature, Track

RES = 480
BARS = 150  # at ~120 bpm in 4/4: about 5 minutes


def build_song(seed: int = 0) -> tuple[Song, list[Track]]:
    """A synthetic 8-part piece: a melody in eighths, 6 accompaniment parts and drums."""
    rng = random.Random(seed)
    bar = 4 * RES
    tracks = [Track("Melody", 73, False, [
        Note(t, t + RES // 2, rng.randrange(67, 84), 90) for t in range(0, BARS * bar, RES // 2)
    ])]
    for k in range(6):
        step = RES // (1 + k % 3)  # quarters, eighths, triplets
        notes = [Note(t, t + step, p, 60) for t in range(0, BARS * bar, step)
                 for p in rng.sample(range(40 + 4 * k, 64 + 4 * k), 2 + k % 2)]
        tracks.append(Track(f"Part {k}", 8 * k, False, notes))
    kicks = [Note(t, t + 60, 36 + t // RES % 4, 100) for t in range(0, BARS * bar, RES)]
    tracks.append(Track("Drums", 0, True, kicks))
    tempos = [TempoChange(b * bar, rng.randrange(450_000, 550_000)) for b in range(0, BARS, 8)]
    song = Song(RES, [], tempos, [TimeSignature(0, 4, 4)], [KeySignature(0, 7, False)])
    return song, tracks


def main(runs: int = 7) -> int:
    song, tracks = build_song()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.mid"
        path.write_bytes(midi_bytes(song, tracks))
        times, grid_times = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            parsed = read_midi(path)
            parts = select_parts(parsed)
            t1 = time.perf_counter()
            grid = build_grid(parsed, parts, steps_per_beat=4)
            times.append(time.perf_counter() - t0)
            grid_times.append(time.perf_counter() - t1)
        size = path.stat().st_size
    n_notes = sum(len(t.notes) for t in parsed.tracks)
    seconds = parsed.end_tick / RES * 0.5
    print(f"read_midi + select_parts + build_grid: {len(parsed.tracks)} parts, {n_notes} notes, "
          f"~{seconds / 60:.1f} min, {grid.n_frames} frames, {size / 1024:.0f} KiB: "
          f"median {statistics.median(times) * 1000:.0f} ms over {runs} runs "
          f"(grid alone {statistics.median(grid_times) * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
