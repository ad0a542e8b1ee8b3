"""The MMA baseline on one file: detected chords played by one MMA groove of a style.

Run ``python benchmarks/baseline_mma.py IN.mid OUT.mid --style jazz``. It estimates one
chord per half bar of IN.mid (the evaluation's chord estimator), renders them with the
first MMA groove of the style in IN.mid's meter and tempo (Bach: MMA's ``Hymn``, 4/4
only), drops MMA's drums and writes the original melody track back unchanged, under
IN.mid's resolution and tempo, meter and key maps. ``styletx eval --bench STYLE`` scores
the same baseline beside styletx. It needs Debian's ``mma`` (``apt-get install mma``) and
stops with a one-line message when it is missing. The code is :mod:`styletx.evaluation.baseline`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from styletx.errors import StyleTxError
from styletx.evaluation.baseline import BASELINE_GROOVES, baseline_song
from styletx.io.reader import read_midi
from styletx.io.writer import write_midi
from styletx.music.parts import select_parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--style", required=True, choices=sorted(BASELINE_GROOVES))
    parser.add_argument("--melody-track", default=None, help="melody part index or name")
    parser.add_argument("--force", action="store_true", help="replace an existing output")
    args = parser.parse_args()
    melody = args.melody_track
    if melody is not None and melody.isdigit():
        melody = int(melody)
    try:
        song = read_midi(args.input)
        out = baseline_song(song, select_parts(song, melody), args.style)
        write_midi(args.output, out, out.tracks, force=args.force, protect=[args.input])
    except StyleTxError as e:
        print(f"baseline_mma: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
