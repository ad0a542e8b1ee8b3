"""Measure, per MMA style, which melody clashes its data plays often: the clash cost's exceptions.

The clash cost (:mod:`styletx.model.clash`) charges an accompaniment note whose pitch class
is a semitone from the sounding melody pitch's. Its one exception is a pairing the style's data
plays often against the same chord quality and melody degree. This script renders a sample
of each style's training data (training-split lead sheets only, through the style's own MMA
grooves, as ``styletx data`` does), and for every accompaniment onset under a sounding
melody note counts its context (chord quality, melody degree above the chord root, read by
the evaluation's chord reader per half bar) and its interval to the melody.

A pairing (quality, degree, side -1 or +1) is an exception when it makes up
at least ``--share`` of the onsets in its context and occurs at least ``--min-count`` times:
a rub the grooves play systematically (a sixth or a ninth voiced against a melody note),
not MMA's indifference to the melody, which spreads rubs thinly over every context. The
default share, 0.15, is 1.4 times the jazz data's overall clash (0.107 of sample points):
a threshold at or below the data's own clash rate would turn its indifference into a rule.

    python benchmarks/clash_exceptions.py --pieces 60 --out docs/clash-exceptions.json [--write]

``--write`` stores ``clash_exceptions`` in each shipped ``checkpoints/<style>/style.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from styletx.evaluation.metrics import _melody_at, estimate_chords, piece_of
from styletx.io.reader import read_midi
from styletx.model.settings import CLASH_INTERVALS
from styletx.music.parts import select_parts
from styletx.training.leadsheets import corpus_files, load_leadsheets
from styletx.training.mma import build_style_corpus, mma_specs
from styletx.training.splits import split_of

REPO = Path(__file__).resolve().parents[1]


def sample_sheets(chorales: int, seed: int = 0) -> list:
    """Training-split lead sheets: the first chorale files, one O'Neill and one Essen file."""
    paths = corpus_files("bach")[:chorales] + corpus_files("oneill")[:1] + corpus_files("essen")[:1]
    return [s for s in load_leadsheets(paths=paths, jobs=1) if split_of(s.source_id) == "train"]


def count_pairings(midi: Path) -> tuple[Counter, Counter, int, int]:
    """(context counts, pairing counts, onsets under a melody note, of them at a clash interval)."""
    song = read_midi(midi)
    piece = piece_of(song, select_parts(song, "melody"))
    segs = piece.half_bars()
    chords = estimate_chords(piece, segs)
    contexts: Counter = Counter()
    pairs: Counter = Counter()
    starts = np.array([n.start for n in piece.accomp], dtype=np.int64)
    mel = _melody_at(piece, starts)
    seg = np.clip(np.searchsorted(segs[:, 0], starts, side="right") - 1, 0, len(segs) - 1)
    under = clashing = 0
    for note, m, s in zip(piece.accomp, mel, seg, strict=True):
        chord = chords[s]
        if m < 0 or chord is None:
            continue
        ctx = (chord.quality, int(m - chord.root) % 12)
        contexts[ctx] += 1
        under += 1
        side = next((i for i in CLASH_INTERVALS if (note.pitch - int(m)) % 12 == i % 12), None)
        if side is not None:
            pairs[(*ctx, side)] += 1
            clashing += 1
    return contexts, pairs, under, clashing


def measure(style: str, sheets: list, pieces: int, share: float, min_count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"clash-{style}-") as tmp:
        folder = build_style_corpus(style, limit=pieces, out_dir=Path(tmp), progress=False, sheets=sheets,
                                    jobs=1)
        manifest = json.loads((folder / "manifest.json").read_text())
        contexts: Counter = Counter()
        pairs: Counter = Counter()
        under = clashing = 0
        for e in manifest["pieces"]:
            c, p, u, k = count_pairings(folder / "midi" / Path(e["file"]).name)
            contexts.update(c)
            pairs.update(p)
            under += u
            clashing += k
    rows = sorted(((q, d, i, n, n / contexts[(q, d)]) for (q, d, i), n in pairs.items()),
                  key=lambda r: -r[4])
    exceptions = [[q, d, i] for q, d, i, n, sh in rows if sh >= share and n >= min_count]
    covered = sum(n for q, d, i, n, sh in rows if [q, d, i] in exceptions)
    return {
        "pieces": len(manifest["pieces"]),
        "onsets_under_melody": under,
        "clash_interval_share": clashing / max(under, 1),
        "exceptions": exceptions,
        "exception_share_of_clashes": covered / max(clashing, 1),
        "top": [{"quality": q, "degree": d, "interval": i, "count": n, "share": round(sh, 3)}
                for q, d, i, n, sh in rows[:12]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pieces", type=int, default=60)
    ap.add_argument("--chorales", type=int, default=40, help="chorale files parsed for lead sheets")
    ap.add_argument("--share", type=float, default=0.15)
    ap.add_argument("--min-count", type=int, default=30)
    ap.add_argument("--styles", default=",".join(mma_specs()))
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "clash-exceptions.json")
    ap.add_argument("--write", action="store_true", help="store the exceptions in checkpoints/*/style.json")
    args = ap.parse_args()
    sheets = sample_sheets(args.chorales)
    result = {"command": "python benchmarks/clash_exceptions.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k not in ("out", "write")),
        "sheets": len(sheets), "share": args.share, "min_count": args.min_count, "styles": {}}
    for style in args.styles.split(","):
        result["styles"][style] = r = measure(style, sheets, args.pieces, args.share, args.min_count)
        print(f"{style}: {r['pieces']} pieces, clash-interval onsets {r['clash_interval_share']:.3f}, "
              f"{len(r['exceptions'])} exceptions covering {r['exception_share_of_clashes']:.2f} of them: "
              f"{r['exceptions']}", flush=True)
        if args.write:
            path = REPO / "checkpoints" / style / "style.json"
            info = json.loads(path.read_text())
            info["prior"]["clash_exceptions"] = r["exceptions"]
            path.write_text(json.dumps(info, indent=2) + "\n")
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
