"""Speed of a transfer against issue #14's targets, and quality of Algorithm 1's schedules.

``python benchmarks/bench_render.py --speed [--styles bach,jazz] [--repeat 3] [--against DIR]``
prints, beside each target of issue #14:

* ``transfer_song`` of 32 bars of 4/4 with the model loaded, default settings, one torch
  thread (median of ``--repeat`` runs after a warm-up), per style (target: 1.0 s for bach,
  1.5 s for jazz);
* the whole CLI process, cold: ``styletx render`` of the same piece written as a MIDI
  file (target 2.5 s), and ``styletx --help`` / ``styles`` / ``info`` (target 0.5 s);
* peak memory of the API process.

``--against DIR`` times the code of another checkout (e.g. ``git worktree add /tmp/old
main``) in the same run, alternating old and new, so that the before/after figures share
the machine's load. Every figure is from a fresh subprocess running that checkout.

``python benchmarks/bench_render.py [--style bach] [--paper]`` (no ``--speed``) prints the
wall time of the default schedule (and with ``--paper`` Lu & Su's) and quality per
schedule on the same piece: the model's mean per-cell NLL of its own result, the share
of onsets in the key, and the chroma similarity to the input accompaniment.

The piece is made of test-split Bach chorales in 4/4 (never trained on),
concatenated to 32 bars, so the quality figures are on held-out music.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

# run from a checkout; a --speed worker runs the checkout it was given (BENCH_CODE)
sys.path.insert(0, os.environ.get("BENCH_CODE") or str(Path(__file__).resolve().parents[1]))

from styletx.api import TransferOptions, transfer_song
from styletx.errors import StyleTxError
from styletx.model.settings import SamplerSettings
from styletx.music.metrics import chroma_similarity, in_key_share
from styletx.music.parts import select_parts
from styletx.music.song import KeySignature, Note, Song, Track
from styletx.styles import Style, load_style
from styletx.training.corpus import chorale_ids, chorale_song
from styletx.training.splits import split_of

ROOT = Path(__file__).resolve().parents[1]
BARS = 32
TARGETS = {"bach": 1.0, "jazz": 1.5}  # seconds, transfer() with the model loaded, 1 thread
TARGET_DEFAULT = 1.5
TARGET_CLI_RENDER = 2.5
TARGET_CLI_LIGHT = 0.5


def test_piece(bars: int = BARS) -> Song:
    """Test-split 4/4 chorales without pickups, back to back, cut to ``bars`` bars."""
    res = 480
    bar = 4 * res
    tracks: list[list[Note]] = [[], [], [], []]
    keys: list[KeySignature] = []
    offset = 0
    for cid in chorale_ids():
        if split_of(cid) != "test":
            continue
        try:
            song, _ = chorale_song(cid)
        except StyleTxError:  # a few corpus entries are not four-part
            continue
        sigs = song.time_signatures
        if len(sigs) != 1 or (sigs[0].numerator, sigs[0].denominator) != (4, 4):
            continue
        length = -(-song.end_tick // bar) * bar
        keys.append(replace(song.key_signatures[0], tick=offset))
        for i, t in enumerate(song.tracks):
            tracks[i] += [Note(n.start + offset, n.end + offset, n.pitch, n.velocity) for n in t.notes]
        offset += length
        if offset >= bars * bar:
            break
    stop = bars * bar
    parts = [
        Track(name, 52, False, [n for n in notes if n.start < stop], index=i)
        for i, (name, notes) in enumerate(zip(("Soprano", "Alto", "Tenor", "Bass"), tracks, strict=True))
    ]
    for t in parts:
        t.notes = [Note(n.start, min(n.end, stop), n.pitch, n.velocity) for n in t.notes]
    return Song(resolution=res, tracks=parts, time_signatures=song.time_signatures,
                key_signatures=[k for k in keys if k.tick < stop], source="test chorales")


@torch.inference_mode()
def model_nll(style: Style, melody: np.ndarray, window: np.ndarray, meta: np.ndarray) -> float:
    """Mean per-cell NLL (nats) of a roll under the style's model, teacher-forced."""
    model = style.model
    logits = model(torch.as_tensor(melody, dtype=torch.long)[None],
                   torch.as_tensor(window, dtype=torch.long)[None],
                   torch.as_tensor(meta, dtype=torch.long)[None])
    logp = torch.log_softmax(logits, -1)
    target = torch.as_tensor(window, dtype=torch.long)[None]
    return float(-logp.gather(-1, target[..., None]).mean())


def run(style: Style, song: Song, settings: SamplerSettings) -> dict[str, float]:
    t0 = time.perf_counter()
    result = transfer_song(song, style, TransferOptions(settings))
    seconds = time.perf_counter() - t0
    cfg = style.model.cfg
    window = result.new_accomp[:, cfg.pitch_lo : cfg.pitch_hi]
    grid = result.grid
    return {
        "seconds": seconds,
        "frames": grid.n_frames,
        "nll": model_nll(style, grid.melody.astype(np.int64), window, grid.meta(cfg.max_bar_steps)),
        "in_key": in_key_share(window, grid.key, cfg.pitch_lo),
        "chroma_sim": chroma_similarity(result.new_accomp, grid.accomp, grid.steps_per_beat),
    }


def api_worker(styles_arg: str, repeat: int, seed: int) -> dict:
    """Time ``transfer_song`` per style in this process (the code on ``sys.path``)."""
    import styletx

    torch.set_num_threads(1)
    song = test_piece()
    out: dict = {"code": str(Path(styletx.__file__).parents[1]), "styles": {}}
    for name in styles_arg.split(","):
        style = load_style(name)
        transfer_song(song, style, TransferOptions(SamplerSettings(seed=seed, sweeps=1)))  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            transfer_song(song, style, TransferOptions(SamplerSettings(seed=seed)))
            times.append(time.perf_counter() - t0)
        out["styles"][name] = times
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _env(code: Path) -> dict[str, str]:
    # each checkout's own models: an older checkout cannot read a newer style.json
    env = dict(os.environ, BENCH_CODE=str(code), STYLETX_MODELS=str(code / "checkpoints"))
    env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


CLI = "import sys; from styletx.cli import main; sys.exit(main())"


def _cold(code: Path, args: list[str], cwd: str) -> float:
    """Wall time of one CLI process (run outside any checkout: ``-c`` puts the cwd first)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", CLI, *args], env=_env(code), check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _api(code: Path, styles_arg: str, repeat: int, seed: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--worker", styles_arg, "--repeat", str(repeat),
                          "--seed", str(seed)], env=_env(code), check=True, capture_output=True,
                         text=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if Path(out["code"]).resolve() != code.resolve():
        raise SystemExit(f"the worker for {code} ran the code in {out['code']}")
    return out


def speed(args: argparse.Namespace) -> int:
    codes = {"new": ROOT}
    if args.against:
        codes = {"old": Path(args.against).resolve(), "new": ROOT}
    names = args.styles.split(",")
    api: dict = {k: {n: [] for n in names} for k in codes}
    peak: dict = {k: 0.0 for k in codes}
    cli: dict = {k: {} for k in codes}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "piece32.mid"
        from styletx.io.writer import write_midi

        song = test_piece()
        write_midi(src, song, song.tracks)
        for _ in range(args.rounds):  # alternate old and new so that both see the same load
            for key, code in codes.items():
                r = _api(code, args.styles, args.repeat, args.seed)
                for n in names:
                    api[key][n] += r["styles"][n]
                peak[key] = max(peak[key], r["peak_mib"])
                for n in names:
                    cli[key].setdefault(f"render {n}", []).append(_cold(code, [
                        "render", str(src), "--style", n, "--seed", str(args.seed), "--force",
                        "-o", str(Path(tmp) / f"out_{key}_{n}.mid")], tmp))
                for light in (["--help"], ["styles"], ["info", str(src)]):
                    cli[key].setdefault(" ".join(light[:1]), []).append(_cold(code, light, tmp))
        outs = {(Path(tmp) / f"out_{k}_{n}.mid").read_bytes() for k in codes for n in names[:1]}
        same = "identical" if len(outs) == 1 else "DIFFERENT"
    print(f"32 bars of 4/4 (test chorales), default settings, 1 torch thread; median of "
          f"{args.rounds} x {args.repeat} API runs, {args.rounds} cold CLI runs each")
    cols = list(codes)
    print(f"{'measure':<38}" + "".join(f"{c:>9}" for c in cols) + f"{'target':>9}")
    for n in names:
        target = TARGETS.get(n, TARGET_DEFAULT)
        print(f"{f'transfer() {n}, model loaded (s)':<38}"
              + "".join(f"{statistics.median(api[c][n]):>9.2f}" for c in cols) + f"{target:>9.1f}")
    for what in cli[cols[0]]:
        target = TARGET_CLI_RENDER if what.startswith("render") else TARGET_CLI_LIGHT
        print(f"{f'styletx {what}, cold process (s)':<38}"
              + "".join(f"{statistics.median(cli[c][what]):>9.2f}" for c in cols) + f"{target:>9.1f}")
    print(f"{'peak RSS of the API process (MiB)':<38}" + "".join(f"{peak[c]:>9.0f}" for c in cols)
          + f"{500:>9}")
    if len(codes) > 1:
        print(f"CLI outputs of old and new for {names[0]}: {same} bytes")
    print("all API runs (s): " + "; ".join(
        f"{c} {n}: " + " ".join(f"{x:.2f}" for x in api[c][n]) for c in cols for n in names))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="bach", help="style name, or a folder as a path (./DIR)")
    parser.add_argument("--paper", action="store_true", help="also run schedule='paper' (minutes)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bars", type=int, default=BARS, help="length of the test piece")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", action="store_true", help="time against issue #14's targets")
    parser.add_argument("--styles", default="bach,jazz", help="--speed: styles to time")
    parser.add_argument("--repeat", type=int, default=3, help="--speed: API runs per round")
    parser.add_argument("--rounds", type=int, default=2, help="--speed: rounds (fresh processes)")
    parser.add_argument("--against", help="--speed: another checkout to time in the same run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(api_worker(args.worker, args.repeat, args.seed)))
        return 0
    if args.speed:
        return speed(args)
    torch.set_num_threads(args.threads)
    style = load_style(args.style)
    song = test_piece(args.bars)
    parts = select_parts(song)
    grid = style.grid(song, parts)
    print(f"piece: {grid.n_bars} bars, {grid.n_frames} frames; style {style.name}; "
          f"{args.threads} torch thread(s)")
    run(style, song, SamplerSettings(seed=args.seed, sweeps=1))  # warm-up
    rows = {"default": run(style, song, SamplerSettings(seed=args.seed))}
    if args.paper:
        rows["paper"] = run(style, song, SamplerSettings(schedule="paper", seed=args.seed))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    input_window = grid.accomp[:, style.model.cfg.pitch_lo : style.model.cfg.pitch_hi]
    ref_nll = model_nll(style, grid.melody.astype(np.int64), input_window,
                        grid.meta(style.model.cfg.max_bar_steps))
    print(f"{'schedule':<9} {'seconds':>8} {'NLL/cell':>9} {'in key':>7} {'chroma sim':>10}")
    for name, r in rows.items():
        print(f"{name:<9} {r['seconds']:>8.2f} {r['nll']:>9.4f} {r['in_key']:>7.3f} {r['chroma_sim']:>10.3f}")
    print(f"{'input':<9} {'':>8} {ref_nll:>9.4f} "
          f"{in_key_share(input_window, grid.key, style.model.cfg.pitch_lo):>7.3f} {1.0:>10.3f}")
    if "paper" in rows:
        print(f"paper / default time ratio: {rows['paper']['seconds'] / rows['default']['seconds']:.1f}x")
    print(f"peak memory (RSS, whole process): {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
