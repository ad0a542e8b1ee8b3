"""Time ``read_song`` on real scores with repeats, from music21's corpus, and say how they unfold.

Run ``python benchmarks/bench_score_read.py [--scores a.mxl,b.mxl]``. For each score it prints
the bars as written, the bars after unfolding (from the read note, ``repeats unfolded: A bars
become B``), the melody's note count and the seconds ``read_song`` took (one run: the
long ones take a minute or more). To compare with another checkout, copy this file into
its ``benchmarks/`` and run it there.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

SCORES = ("leadSheet/berlinAlexandersRagtime.mxl", "leadSheet/fosterBrownHair.mxl",
          "mozart/k80/movement3.mxl", "beethoven/opus18no4.mxl")
"""Two lead sheets with endings, a minuet and trio whose halves each repeat, and a
four-movement string quartet of 809 bars."""


def main(argv: list[str] | None = None) -> int:
    from music21 import corpus

    from styletx.score.read import read_song

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scores", default=",".join(SCORES), help="music21 corpus paths, comma-separated")
    args = ap.parse_args(argv)
    print(f"{'score':40} {'written':>8} {'unfolded':>9} {'notes':>6} {'seconds':>8}")
    for name in args.scores.split(","):
        path = corpus.getWork(name)
        t0 = time.perf_counter()
        song = read_song(path)
        seconds = time.perf_counter() - t0
        bars = next((re.findall(r"\d+", n) for n in song.read_notes if n.startswith("repeats")), ["-", "-"])
        notes = len(song.tracks[0].notes)
        print(f"{name:40} {bars[0]:>8} {bars[1]:>9} {notes:>6} {seconds:8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
