"""Bach on Bach: transfer and harmonise held-out chorales with the `bach` style.

The main bench (`styletx eval --bench bach`) feeds bach the *other* styles' pieces. The
voice-leading and clash targets are about chorales themselves, so this script takes the
test-split chorales (four-part ones) and reports, per condition, the mean of:

* chord / bass-tone agreement with the original chorale's chords (half bars);
* clash (accompaniment a semitone from the sounding melody);
* adjacent-voice parallel fifths and octaves per 100 beats.

Conditions: the chorales themselves; ``transfer`` (full chorale in, bach out);
``harmonise`` (the soprano alone in, bach out).

    python benchmarks/bach_chorales.py [--n 12] [--seed 0] [--tries 16]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

from styletx.api import TransferOptions, transfer_song
from styletx.evaluation.bench import as_file, corpus_pieces, crop
from styletx.evaluation.metrics import transfer_metrics
from styletx.model.settings import SamplerSettings
from styletx.styles import load_style

KEYS = ("chord_agreement", "bass_on_chord_tone", "clash", "parallels", "notes_per_beat")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="test chorales (four-part ones)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bars", type=int, default=16, help="first bars of each chorale (0 = all)")
    ap.add_argument("--tries", type=int, default=None,
                    help="voice-leading redraws (default: the style's, in style.json)")
    args = ap.parse_args(argv)
    style = load_style("bach")
    rows: dict[str, list[dict]] = {"chorale": [], "transfer": [], "harmonise": []}
    t0 = time.perf_counter()
    used = 0
    for i, cp in enumerate(corpus_pieces("bach", "test")):
        if used == args.n:
            break
        song, parts = cp.load()
        if len(parts.accompaniment) != 3:
            continue
        song, parts = crop(song, parts, args.bars or None)
        used += 1
        settings = SamplerSettings(seed=args.seed + i, voice_leading_tries=args.tries)
        full = transfer_song(song, style, TransferOptions(settings, melody_track=parts.melody.name))
        bare_song = dataclasses.replace(song, tracks=[parts.melody])
        bare = transfer_song(bare_song, style, TransferOptions(settings, melody_track=parts.melody.name))
        m_full = transfer_metrics(song, parts, *as_file(song, full.tracks, full.tracks[0]))
        m_bare = transfer_metrics(song, parts, *as_file(song, bare.tracks, bare.tracks[0]))
        rows["chorale"].append(m_full["input"])
        rows["transfer"].append(m_full["output"])
        rows["harmonise"].append(m_bare["output"])
    print(f"bach on {used} test chorales (first {args.bars or 'all'} bars), seed {args.seed}, "
          f"{time.perf_counter() - t0:.0f} s")
    print("| condition | " + " | ".join(KEYS) + " |")
    print("|---|" + "---|" * len(KEYS))
    for name, rs in rows.items():
        vals = [np.nanmean([r[k] for r in rs]) for k in KEYS]
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
