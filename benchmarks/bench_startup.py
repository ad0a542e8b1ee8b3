"""Time the commands that must start fast: ``import styletx``, ``styletx info`` and ``styletx styles``.

Each runs as a fresh ``python`` subprocess (so every import is paid), once to warm the
file cache and then ``--runs`` times; the table gives the median wall time against the
0.5 s target of issue #11. A second pass with ``-X importtime`` lists which of the heavy
libraries each command imports: none of them needs torch, and only ``info`` needs the
MIDI reader (mido, pretty_midi). ``python -c pass`` is timed too: the interpreter's own
start, which no change in styletx can remove.

Run ``python benchmarks/bench_startup.py [--runs 5] [--out startup.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.5
SAMPLE = ROOT / "midi_samples" / "waltz_in_g.mid"
HEAVY = ("torch", "music21", "matplotlib", "pretty_midi", "mido", "numpy", "safetensors")
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "python -X importtime -c 'import styletx'": ["-X", "importtime", "-c", "import styletx"],
    f"styletx info {SAMPLE.relative_to(ROOT)}": ["-m", "styletx", "info", str(SAMPLE)],
    "styletx styles": ["-m", "styletx", "styles"],
}
BASELINE = "python -c pass"  # context, not held to the target


def _env() -> dict[str, str]:
    """This checkout first on the path, so the styletx being timed is the one beside this file."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def wall_times(args: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh runs of ``python args`` (after one warm-up run)."""
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], env=_env(), cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - t0)
    return times


def imported(args: list[str]) -> list[str]:
    """The top-level packages among :data:`HEAVY` that ``python args`` imports."""
    if "importtime" not in args:
        args = ["-X", "importtime", *args]
    err = subprocess.run([sys.executable, *args], env=_env(), cwd=ROOT, check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0]
             for line in err.splitlines() if line.startswith("import time:")}
    return [h for h in HEAVY if h in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (median reported)")
    ap.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    rows = []
    for label, cmd in COMMANDS.items():
        times = wall_times(cmd, args.runs)
        median = statistics.median(times)
        rows.append({
            "command": label, "median_s": round(median, 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "runs": args.runs, "imports": imported(cmd),
            "meets_target": None if label == BASELINE else median < TARGET_S,
        })
    width = max(len(r["command"]) for r in rows)
    print(f"{'command':<{width}}  median    min    max  target  heavy imports")
    for r in rows:
        ok = {None: "  -  ", True: "  ok ", False: " SLOW"}[r["meets_target"]]
        print(f"{r['command']:<{width}}  {r['median_s']:6.3f} {r['min_s']:6.3f} {r['max_s']:6.3f} "
              f" {ok}  {', '.join(r['imports']) or '-'}")
    print(f"(seconds, median of {args.runs} fresh processes; target {TARGET_S} s; {sys.executable})")
    if args.out is not None:
        args.out.write_text(json.dumps({"target_s": TARGET_S, "python": sys.version.split()[0],
                                        "cpus": os.cpu_count(), "results": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
