"""The labelled melody benchmark: does styletx pick the part a musician calls the melody?

    python benchmarks/melody_bench.py            # table, accuracy, confusion
    python benchmarks/melody_bench.py --markdown # the same as Markdown (docs/melody.md)

Each file of ``benchmarks/melody_labels.json`` is collected or generated at run time
(:mod:`melody_sources`: Debian's MMA examples, music21's corpus, realistic files made here
around real tunes) and read with :func:`styletx.io.reader.read_midi`; :func:`select_parts`
chooses the melody or raises :class:`~styletx.errors.NoMelodyError`. A choice is right when
the chosen part (or the part whose skyline was chosen) is one of the labelled indices, and a
no-melody file is right when it is flagged. Targets: at least 95 % right on files with a
melody, and every no-melody file flagged. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from melody_sources import fetch  # noqa: E402

from styletx.errors import NoMelodyError  # noqa: E402
from styletx.io.reader import read_midi  # noqa: E402
from styletx.music.parts import select_parts  # noqa: E402


def role(name: str) -> str:
    """A coarse class for the confusion table, from a part's name."""
    low = name.lower()
    for word, cls in (("bass", "bass"), ("walk", "bass"), ("arp", "arpeggio"), ("chord", "chords"),
                      ("piano", "piano"), ("pad", "pad"), ("string", "pad")):
        if word in low:
            return cls
    return "other"


def run(labels: Path) -> dict:
    rows = []
    for item in json.loads(labels.read_text())["files"]:
        path = fetch(item["source"])
        if path is None:
            rows.append({**item, "status": "unavailable"})
            continue
        song = read_midi(path)
        t0 = time.perf_counter()
        try:
            parts = select_parts(song)
        except NoMelodyError as e:
            chosen, chosen_name, reason = None, "", str(e)
        else:
            m = parts.melody
            chosen = m.index if m.index >= 0 else m.origin
            chosen_name = song.tracks[chosen].name if chosen is not None else m.name
            reason = parts.reason
        ms = (time.perf_counter() - t0) * 1000
        want = item["melody"]
        ok = chosen is None if want is None else chosen in want
        labelled = ", ".join(f"{i} {song.tracks[i].name!r}" for i in want) if want else "none"
        rows.append({**item, "status": "ok" if ok else "wrong", "chosen": chosen,
                     "chosen_name": chosen_name, "labelled": labelled, "reason": reason,
                     "ms": round(ms, 1)})
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    done = [r for r in rows if r["status"] != "unavailable"]
    with_melody = [r for r in done if r["melody"] is not None]
    without = [r for r in done if r["melody"] is None]
    confusion: Counter[str] = Counter()
    for r in done:
        truth = "melody" if r["melody"] is not None else "no melody"
        if r["chosen"] is None:
            got = "flagged: no melody"
        elif r["melody"] is not None and r["chosen"] in r["melody"]:
            got = "the melody"
        else:
            got = f"wrong part ({role(r['chosen_name'])})"
        confusion[f"{truth} -> {got}"] += 1
    right = sum(r["status"] == "ok" for r in with_melody)
    flagged = sum(r["status"] == "ok" for r in without)
    return {
        "rows": rows,
        "files": len(done),
        "unavailable": len(rows) - len(done),
        "melody_files": len(with_melody),
        "melody_right": right,
        "accuracy": right / len(with_melody) if with_melody else 1.0,
        "no_melody_files": len(without),
        "no_melody_flagged": flagged,
        "confusion": dict(sorted(confusion.items())),
        "by_kind": _by_kind(done),
    }


def _by_kind(rows: list[dict]) -> dict[str, str]:
    kinds: dict[str, list[bool]] = {}
    for r in rows:
        kinds.setdefault(r["kind"], []).append(r["status"] == "ok")
    return {k: f"{sum(v)}/{len(v)}" for k, v in sorted(kinds.items())}


def markdown(result: dict) -> str:
    lines = [
        f"- files: {result['files']} ({result['unavailable']} unavailable here)",
        f"- files with a melody: **{result['melody_right']}/{result['melody_files']} right "
        f"({result['accuracy']:.1%})**",
        f"- files with no melody: **{result['no_melody_flagged']}/{result['no_melody_files']} "
        "flagged**",
        "",
        "| truth -> styletx | files |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in result["confusion"].items()],
        "",
        "| kind | right |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in result["by_kind"].items()],
        "",
        "| source | kind | labelled | chosen | ok |", "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if r["status"] == "unavailable":
            lines.append(f"| `{r['source']}` | {r['kind']} | | unavailable | |")
            continue
        chosen = "flagged" if r["chosen"] is None else f"{r['chosen']} {r['chosen_name']!r}"
        lines.append(f"| `{r['source']}` | {r['kind']} | {r['labelled']} | {chosen} | "
                     f"{'yes' if r['status'] == 'ok' else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=HERE / "melody_labels.json")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write the full result here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each file's reason")
    args = ap.parse_args(argv)
    result = run(args.labels)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.markdown:
        print(markdown(result))
    else:
        for r in result["rows"]:
            if r["status"] == "unavailable":
                print(f"----  {r['source']}: unavailable")
                continue
            mark = "ok  " if r["status"] == "ok" else "MISS"
            chosen = "flagged" if r["chosen"] is None else f"{r['chosen']} {r['chosen_name']!r}"
            print(f"{mark}  {r['source']:<55} labelled {r['labelled']:<28} chosen {chosen}")
            if args.verbose or r["status"] != "ok":
                print(f"        {r['reason']}")
        print(f"\nwith a melody: {result['melody_right']}/{result['melody_files']} "
              f"({result['accuracy']:.1%}); no melody flagged: {result['no_melody_flagged']}/"
              f"{result['no_melody_files']}; unavailable: {result['unavailable']}")
        for k, v in result["confusion"].items():
            print(f"  {k}: {v}")
    ok = result["accuracy"] >= 0.95 and result["no_melody_flagged"] == result["no_melody_files"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
