"""How far the two chord readers agree on the real inputs themselves (no model involved).

Run ``python benchmarks/reader_agreement.py`` after ``styletx eval --build-real``.

The real bench reads chord agreement twice: the project's reader
(:func:`styletx.evaluation.metrics.estimate_chords`), which also makes the chord track an
input's accompaniment follows, and the independent music21 reader
(:func:`styletx.evaluation.chordify.read_chords`). Here both read each input, per half bar;
the share of the m21 reader's chorded half bars where the own reader names the same root
and family bounds what an accompaniment that follows its chord track exactly can score on
the m21 reader. The commonest disagreements are listed as "m21 family -> own chord,
own root's interval above m21's".
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np

from styletx.evaluation.bench import as_file
from styletx.evaluation.chordify import read_chords
from styletx.evaluation.metrics import chord_agreement, estimate_chords, piece_of
from styletx.evaluation.realset import real_inputs


def main() -> int:
    by_kind: dict[str, list[float]] = defaultdict(list)
    mismatches: Counter[str] = Counter()
    for real in real_inputs():
        song, parts = as_file(real.song, [real.parts.melody, *real.parts.accompaniment], real.parts.melody)
        piece = piece_of(song, parts)
        segments = piece.half_bars()
        m21, own = read_chords(piece, segments), estimate_chords(piece, segments)
        score = chord_agreement(m21, own).chord
        by_kind[real.entry["kind"]].append(score)
        by_kind["all"].append(score)
        for a, b in zip(m21, own, strict=True):
            if a is not None and (b is None or (b.root, b.family) != (a.root, a.family)):
                mismatches["no chord" if b is None else
                           f"{a.family} -> {b.quality or 'major'}, +{(b.root - a.root) % 12}"] += 1
        print(f"{real.entry['id']:40} {real.entry['kind']:10} {score:.3f}", flush=True)
    for kind, scores in by_kind.items():
        print(f"{kind:10} {len(scores):3} pieces: readers agree on {np.mean(scores):.3f}")
    for what, n in mismatches.most_common(10):
        print(f"{n:5}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
