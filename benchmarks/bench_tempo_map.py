"""Time ``styletx info`` and the grid on a file with 20,000 tempo changes (issue #13).

    python benchmarks/bench_tempo_map.py [N]

Files from notation programs carry thousands of tempo events. Before the tempo map was
indexed, ``styletx info`` recomputed the map for every event it printed: quadratic, 167 s
for 20,000 changes on the 2-core machine. The script prints the time of reading, of the
whole ``info`` report (text), and of building the grid, without Python's start-up and
imports.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import mido

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.cli import format_info
from styletx.describe import describe
from styletx.io.reader import read_midi
from styletx.music.grid import build_grid
from styletx.music.parts import select_parts


def many_tempos(n: int = 20_000, step: int = 24) -> bytes:
    """A 140 KB type-1 file: n tempo changes every ``step`` ticks, a melody and chords."""
    mid = mido.MidiFile(ticks_per_beat=480)
    conductor = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4)])
    conductor += [mido.MetaMessage("set_tempo", tempo=400_000 + (i % 200) * 1_000,
                                   time=0 if i == 0 else step) for i in range(n)]
    melody, chords = mido.MidiTrack(), mido.MidiTrack()
    total = n * step
    for t in range(0, total, 480):
        melody += [mido.Message("note_on", note=67 + (t // 480) % 7, velocity=90),
                   mido.Message("note_off", note=67 + (t // 480) % 7, velocity=0, time=470)]
        melody[-2].time = 10 if t else 0
    for _ in range(0, total, 1920):
        chords += [mido.Message("note_on", channel=1, note=p, velocity=60) for p in (48, 52, 55)]
        chords += [mido.Message("note_off", channel=1, note=p, velocity=0, time=1920 if i == 0 else 0)
                   for i, p in enumerate((48, 52, 55))]
    mid.tracks += [conductor, melody, chords]
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    data = many_tempos(n)
    t0 = time.perf_counter()
    song = read_midi(data)
    t1 = time.perf_counter()
    text = format_info(describe(song, select_parts(song)))
    t2 = time.perf_counter()
    grid = build_grid(song, select_parts(song), 4)
    t3 = time.perf_counter()
    print(f"{n} tempo changes, {len(data) / 1000:.0f} KB, {len(text.splitlines())} lines of info, "
          f"{grid.n_frames} frames: read {t1 - t0:.2f} s, info {t2 - t1:.2f} s, "
          f"grid {t3 - t2:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
