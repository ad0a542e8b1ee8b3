"""The performance layer's measures (issue #20), before (``--quantized``) and after (the feel).

``python benchmarks/feel_bench.py [--styles bossa,jazz] [--inputs 6] [--write]`` transfers,
for each style, held-out pieces it was never trained on (Bach test chorales and test-split
renderings of the *other* MMA styles found in the data cache, first 16 bars) with seed 0,
once with the layer off and once with the style's feel, and prints per style:

* velocity histogram total-variation distance to the style data's (its test-split
  renderings), per role (bass = the lowest line, :func:`styletx.music.arrange.bass_line`;
  comping = the rest); target <= 0.25;
* the onsets' position in the beat on a 1/48-beat grid, TV distance to the data's; <= 0.25;
* balance: the accompaniment's mean velocity under the melody's with ``--balance`` 10 and 30
  (target: the gap asked, +-3), and the style's default gap beside the data's;
* the frozen style classifier's probability of the style (``checkpoints/style_classifier.json``);
* speed: the layer's own time (:func:`styletx.music.performance.perform`) as a share of the
  32-bar render's (``benchmarks/bench_render.py``'s piece); target < 5 %.

``--write`` replaces the section between the feel-bench markers of ``docs/quality.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from styletx.api import TransferOptions, TransferResult, transfer_song  # noqa: E402
from styletx.evaluation.bench import find_classifier  # noqa: E402
from styletx.evaluation.metrics import piece_of  # noqa: E402
from styletx.music.arrange import bass_line  # noqa: E402
from styletx.music.grid import frame_to_tick, tick_to_frame  # noqa: E402
from styletx.music.parts import select_parts  # noqa: E402
from styletx.music.performance import perform  # noqa: E402
from styletx.music.song import Note, Parts, Song, Track  # noqa: E402
from styletx.paths import cache_dir  # noqa: E402
from styletx.styles import Style, load_style  # noqa: E402
from styletx.training.feel import style_songs  # noqa: E402

STYLES = ["bach", "jazz", "bossa", "pop", "folk", "ragtime"]
MMA = [s for s in STYLES if s != "bach"]
BARS = 16
PHASE_BINS = 48
DATA_FILES = 30
BEGIN, END = "<!-- feel-bench: begin -->", "<!-- feel-bench: end -->"


def cut(song: Song, parts: Parts, bars: int = BARS) -> tuple[Song, Parts]:
    """The first ``bars`` bars (of the first meter) of a song, the melody as its first track."""
    sig = song.time_signatures[0] if song.time_signatures else None
    end = round(bars * song.resolution * 4 * (sig.numerator / sig.denominator if sig else 1))

    def keep(t: Track, index: int) -> Track:
        return Track(t.name, t.program, t.is_drum, [n for n in t.notes if n.start < end], index, t.channel)

    tracks = [keep(t, i) for i, t in enumerate([parts.melody, *parts.accompaniment, *parts.drums])]
    new = Song(song.resolution, tracks, song.tempos, song.time_signatures, song.key_signatures,
               source=song.source)
    n_acc = len(parts.accompaniment)
    return new, Parts(tracks[0], tracks[1:1 + n_acc], tracks[1 + n_acc:], parts.reason)


def inputs(style: str, n: int) -> list[tuple[str, Song, Parts]]:
    """Held-out inputs for ``style``: Bach test chorales and the other styles' test renderings."""
    others = [s for s in MMA if s != style and (cache_dir() / "data" / s / "manifest.json").is_file()]
    sources = (["bach"] if style != "bach" else []) + others
    per = max(1, -(-n // max(len(sources), 1)))
    out: list[tuple[str, Song, Parts]] = []
    for s in sources:
        for song, parts in style_songs(s, "test", per):
            out.append((s, *cut(song, parts)))
    return out[:n]


def roles(notes: list[Note], resolution: int, steps: int, bass_max: int) -> np.ndarray:
    """1 for the bass (lowest line on the grid), 0 for comping, as the feel reads them."""
    grid = [Note(frame_to_tick(tick_to_frame(x.start, resolution, steps), resolution, steps),
                 frame_to_tick(max(tick_to_frame(x.end, resolution, steps),
                                   tick_to_frame(x.start, resolution, steps) + 1), resolution, steps),
                 x.pitch, x.velocity) for x in notes]
    out = np.zeros(len(notes), dtype=int)
    out[list(bass_line(grid, bass_max))] = 1
    return out


def histograms(pieces: list[tuple[int, list[Note], list[Note]]], steps: int, bass_max: int,
               melody_level: float | None = None) -> dict:
    """Velocity histograms per role, the onsets' phase histogram and the gap under the melody.

    With ``melody_level``, each piece's velocities are first moved by the difference between
    that level and its melody's mean (rounded): the histogram the piece would have with a
    melody as loud as the data's, since the feel follows the melody."""
    vel = {0: np.zeros(128), 1: np.zeros(128)}
    phase = np.zeros(PHASE_BINS)
    gaps = []
    for res, melody, acc in pieces:
        if not acc:
            continue
        r = roles(acc, res, steps, bass_max)
        shift = 0 if melody_level is None else round(melody_level - np.mean([x.velocity for x in melody]))
        for role in (0, 1):
            np.add.at(vel[role], [np.clip(x.velocity + shift, 0, 127)
                                  for x, k in zip(acc, r, strict=True) if k == role], 1)
        np.add.at(phase, [round((x.start % res) * PHASE_BINS / res) % PHASE_BINS for x in acc], 1)
        gaps.append(np.mean([x.velocity for x in melody]) - np.mean([x.velocity for x in acc]))
    norm = {k: v / max(v.sum(), 1) for k, v in vel.items()}
    return {"vel": norm, "phase": phase / max(phase.sum(), 1), "gap": float(np.mean(gaps)),
            "melody": float(np.mean([x.velocity for _, m, _ in pieces for x in m]))}


def tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum())


def output_notes(result: TransferResult) -> tuple[int, list[Note], list[Note]]:
    return (result.song.resolution, result.tracks[0].notes,
            sorted(n for t in result.tracks[1:] if not t.is_drum for n in t.notes))


def style_prob(clf, result: TransferResult, style: str) -> float:
    song = Song(result.song.resolution, result.tracks, result.song.tempos, result.song.time_signatures,
                result.song.key_signatures)
    parts = Parts(result.tracks[0], [t for t in result.tracks[1:] if not t.is_drum], [], "output")
    return clf.style_prob(piece_of(song, parts), style) if clf else float("nan")


def layer_share(style: Style) -> tuple[float, float]:
    """(render seconds of the 32-bar piece with the feel, share of them spent in the layer)."""
    from bench_render import test_piece

    song = test_piece()
    parts = select_parts(song)
    options = TransferOptions().replace(seed=0)
    transfer_song(song, style, options)  # warm-up
    t0 = time.perf_counter()
    result = transfer_song(song, style, options.replace(quantized=True))
    render = time.perf_counter() - t0
    voiced = result.tracks[1:]
    t0 = time.perf_counter()
    for _ in range(5):
        perform(voiced, result.grid, parts.melody, style.feel, np.random.default_rng(0),
                bass_max_pitch=style.info.bass_max_pitch)
    layer = (time.perf_counter() - t0) / 5
    return render + layer, layer / render


def bench(style_name: str, n: int) -> dict:
    style = load_style(style_name)
    steps, bass_max = style.steps_per_beat, style.info.bass_max_pitch
    data = [(s.resolution, p.melody.notes, sorted(n for t in p.accompaniment for n in t.notes))
            for s, p in (cut(*x) for x in style_songs(style_name, "test", DATA_FILES))]
    ref = histograms(data, steps, bass_max)
    clf = find_classifier()
    rows: dict[str, list] = {"off": [], "on": []}
    probs: dict[str, list[float]] = {"off": [], "on": []}
    balance: dict[float, list[float]] = {10.0: [], 30.0: []}
    base = TransferOptions(melody_track=0).replace(seed=0)
    ins = inputs(style_name, n)
    for k, (_, song, _) in enumerate(ins):
        for key, opts in (("off", base.replace(quantized=True)), ("on", base)):
            result = transfer_song(song, style, opts)
            rows[key].append(output_notes(result))
            probs[key].append(style_prob(clf, result, style_name))
        if k < 2:
            for gap in balance:
                result = transfer_song(song, style, base.replace(balance=gap))
                _, mel, acc = output_notes(result)
                balance[gap].append(np.mean([x.velocity for x in mel]) - np.mean([x.velocity for x in acc]))
    out = {"style": style_name, "inputs": len(ins), "data_files": len(data), "data_gap": ref["gap"],
           "feel_gap": style.feel.gap if style.feel else float("nan"),
           "data_prob": float(np.nanmean([clf.style_prob(piece_of(*cut(*x)), style_name)
                                          for x in style_songs(style_name, "test", 8)])) if clf else None}
    for key in ("off", "on"):
        h = histograms(rows[key], steps, bass_max)
        rel = histograms(rows[key], steps, bass_max, ref["melody"])
        out[key] = {"tv_bass": tv(h["vel"][1], ref["vel"][1]), "tv_comp": tv(h["vel"][0], ref["vel"][0]),
                    "rel_bass": tv(rel["vel"][1], ref["vel"][1]),
                    "rel_comp": tv(rel["vel"][0], ref["vel"][0]),
                    "tv_phase": tv(h["phase"], ref["phase"]), "gap": h["gap"],
                    "prob": float(np.nanmean(probs[key]))}
    out["balance"] = {str(int(g)): float(np.mean(v)) for g, v in balance.items()}
    out["render_s"], out["layer_share"] = layer_share(style) if style.feel else (float("nan"), 0.0)
    return out


def table(results: list[dict], command: str) -> str:
    lines = [
        BEGIN, "## Feel: the performance layer (#20)", "",
        f"Generated by `{command}` (`benchmarks/feel_bench.py`): each style's held-out inputs "
        "(Bach test chorales and test-split renderings of the other MMA styles, first 16 bars, seed 0) "
        "transferred with the layer off (`--quantized`, *before*) and with the style's feel "
        "(*after*), against the style's own test-split data. TV: total-variation distance of "
        "the velocity histogram per role (bass: the lowest line) and of the onsets' position in "
        "the beat on a 1/48-beat grid (targets <= 0.25); *at data level*: the after histogram "
        "with the input's melody moved to the data's melody velocity (the feel follows the "
        "melody, and the inputs' melodies are softer or louder than the data's). "
        "*gap*: the melody's mean velocity minus "
        "the accompaniment's (data: the style data's). *balance 10 / 30*: the gap measured with "
        "`--balance 10` / `30` (target +-3). *style p*: the frozen classifier's probability of the "
        "style (data: its own test renderings). *layer*: the layer's share of a 32-bar render.", "",
        "| style | n | TV bass before / after / at data level | TV comping before / after / at data level "
        "| TV onset phase before / after "
        "| gap data / before / after | balance 10 / 30 | style p data / before / after | layer |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, a = r["off"], r["on"]
        data_p = "—" if r["data_prob"] is None else f"{r['data_prob']:.2f}"
        lines.append(
            f"| {r['style']} | {r['inputs']} | "
            f"{b['tv_bass']:.2f} / {a['tv_bass']:.2f} / {a['rel_bass']:.2f} | "
            f"{b['tv_comp']:.2f} / {a['tv_comp']:.2f} / {a['rel_comp']:.2f} | "
            f"{b['tv_phase']:.2f} / {a['tv_phase']:.2f} | "
            f"{r['data_gap']:.1f} / {b['gap']:.1f} / {a['gap']:.1f} | "
            f"{r['balance']['10']:.1f} / {r['balance']['30']:.1f} | "
            f"{data_p} / {b['prob']:.2f} / {a['prob']:.2f} | {100 * r['layer_share']:.1f} % |")
    return "\n".join([*lines, "", END])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--styles", default=",".join(STYLES))
    ap.add_argument("--inputs", type=int, default=6)
    ap.add_argument("--write", action="store_true", help="replace the section in docs/quality.md")
    args = ap.parse_args()
    command = "python benchmarks/feel_bench.py " + " ".join(sys.argv[1:])
    results = []
    for s in args.styles.split(","):
        t0 = time.perf_counter()
        results.append(bench(s, args.inputs))
        print(f"{s}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    text = table(results, command.strip())
    print(text)
    if args.write:
        path = ROOT / "docs" / "quality.md"
        doc = path.read_text()
        if BEGIN in doc:
            doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
        else:
            doc = doc.rstrip("\n") + "\n\n" + text + "\n"
        path.write_text(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
