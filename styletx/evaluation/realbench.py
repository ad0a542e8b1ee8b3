"""``styletx eval --bench STYLE --inputs real``: the benchmark on real pieces.

The pieces are those of :mod:`~styletx.evaluation.realset`.

The MMA-rendering bench (:mod:`~styletx.evaluation.bench`) feeds a style the
distribution it was trained on. This one feeds it what a musician brings: chorales,
piano pieces, songs, quartets and lead sheets, none rendered by MMA and none in a
training split. For every piece it scores three rows on the same file:

* ``styletx``: the transfer of the whole piece into STYLE;
* ``baseline``: the MMA baseline (:mod:`~styletx.evaluation.baseline`) on the piece,
  when its meter is one the baseline plays (4/4, 3/4, 6/8);
* ``input``: the piece itself;

and for Bach one more, ``styletx_melody_only``: the chorales' melodies harmonised
alone, the issue's "harmonising real chorale melodies".

Chord agreement is read twice: by the project's reader (which the baseline plays
from, so it agrees with itself there) and by the independent music21 reader
(:mod:`~styletx.evaluation.chordify`), the one the comparison with the baseline
counts on. ``styletx_on_baseline_pieces`` repeats the styletx row on the pieces the
baseline could play, so the two compare on the same pieces. Results go to
``docs/quality-real/<style>.json`` and ``.md``; :func:`assemble_real` builds
``docs/quality-real.md``.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from styletx.errors import StyleTxError
from styletx.evaluation.bench import (
    REPO,
    _cell,
    _condition,
    _git_commit,
    as_file,
    data_reference,
    find_classifier,
    finite,
    score_transfer,
)
from styletx.evaluation.chordify import read_chords
from styletx.evaluation.metrics import chord_agreement, model_nll, output_parts, piece_of
from styletx.evaluation.realset import RealInput, real_inputs
from styletx.io.files import replace_file
from styletx.music.parts import select_parts
from styletx.music.song import Song

LABELS = {
    "styletx": "**styletx**",
    "styletx_on_baseline_pieces": "styletx, on the baseline's pieces",
    "styletx_melody_only": "styletx, chorale melodies alone",
    "baseline": "MMA baseline",
    "input": "input (the pieces)",
    "input_chorales": "input, chorales only",
    "data": "style data",
}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("chord_agreement", "chord (own)"),
    ("chord_m21", "chord (m21)"),
    ("chroma", "chroma"),
    ("clash", "clash"),
    ("groove", "groove"),
    ("bass_on_chord_tone", "bass tone"),
    ("notes_per_beat", "notes/beat"),
    ("polyphony", "poly"),
    ("style_prob", "style p"),
    ("parallels", "par./100b"),
    ("bass_register", "bass reg."),
    ("held_long", "held >2b"),
    ("nll", "NLL/frame"),
    ("melody_exact", "melody exact"),
)


def _independent(song_in: Song, parts_in: Any, song_out: Song) -> float:
    """Chord agreement of the output with the input on the music21 reader."""
    p_in = piece_of(song_in, parts_in)
    p_out = piece_of(song_out, output_parts(song_out, parts_in.melody), like=p_in)
    segs = p_in.half_bars()
    return chord_agreement(read_chords(p_in, segs), read_chords(p_out, segs)).chord


def _data(style: Any, classifier: Any, seed: int) -> dict[str, Any]:
    """The style data's reference values: measured when its corpus is built, else from docs/quality."""
    ref = data_reference(style, classifier, 8, 16, seed)
    if ref["n"]:
        return ref
    saved = REPO.parent / "docs" / "quality" / f"{style.name}.json"
    if saved.is_file():
        old = json.loads(saved.read_text())
        return {**old["data"], "from": f"docs/quality/{style.name}.json at {old.get('commit', '?')}"}
    return {"n": 0, "metrics": {}}


def run_real_bench(
    style_name: str,
    *,
    seed: int = 0,
    sweeps: int = 5,
    limit: int | None = None,
    kinds: Sequence[str] | None = None,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Run the real-input bench for one style (see the module docstring)."""
    import torch
    from tqdm import tqdm

    from styletx.api import TransferOptions, transfer_song
    from styletx.evaluation.baseline import baseline_song
    from styletx.model.settings import SamplerSettings
    from styletx.styles import load_style
    from styletx.training.mma import mma_binary

    torch.set_num_threads(1)
    commit = _git_commit()
    style = load_style(style_name)
    classifier = find_classifier()
    mma_binary()  # the baseline is a row of this bench: a one-line error without MMA
    inputs: list[RealInput] = spread(real_inputs(kinds=kinds), limit)
    bach = style_name == "bach"
    t0 = time.perf_counter()
    records = []
    for i, real in enumerate(tqdm(inputs, desc=f"real bench {style_name}", file=sys.stderr,
                                  disable=not progress, unit="piece")):
        parts = real.parts
        song_in, parts_in = as_file(real.song, [parts.melody, *parts.accompaniment], parts.melody)
        melody_index = song_in.tracks.index(parts_in.melody)
        rec: dict[str, Any] = {"id": real.entry["id"], "kind": real.entry["kind"],
                               "meter": real.entry["meter"], "runs": {}}
        settings = SamplerSettings(seed=seed + i, sweeps=sweeps)
        t = time.perf_counter()
        res = transfer_song(song_in, style, TransferOptions(settings, melody_track=melody_index))
        out, _ = as_file(res.song, res.tracks, res.tracks[0])
        m = score_transfer(song_in, parts_in, out, style, classifier)
        rec["runs"]["styletx"] = {**m["output"], "chord_m21": _independent(song_in, parts_in, out),
                                  "seconds": time.perf_counter() - t}
        rec["input"] = {**m["input"], "chord_m21": 1.0}
        if bach and real.entry["kind"] == "chorale":
            mel_song, _ = as_file(song_in, [parts_in.melody], parts_in.melody)
            res = transfer_song(mel_song, style, TransferOptions(settings, melody_track=0))
            out, _ = as_file(res.song, res.tracks, res.tracks[0])
            mm = score_transfer(song_in, parts_in, out, style, classifier)
            rec["runs"]["styletx_melody_only"] = {**mm["output"],
                                                  "chord_m21": _independent(song_in, parts_in, out)}
        try:
            b = baseline_song(song_in, parts_in, style_name)
            out, _ = as_file(b, b.tracks, b.tracks[0])
            mb = score_transfer(song_in, parts_in, out, style, classifier)
            rec["runs"]["baseline"] = {**mb["output"], "chord_m21": _independent(song_in, parts_in, out)}
        except StyleTxError as e:
            rec["baseline_skipped"] = str(e)
        rec["input"]["nll"] = model_nll(style, song_in, parts_in)
        like = piece_of(song_in, select_parts(song_in, melody_index))
        rec["input"]["style_prob"] = classifier.style_prob(like, style_name) if classifier else float("nan")
        records.append(rec)
    return {
        "style": style_name,
        "command": command,
        "commit": commit,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {"n": len(records), "of": len(real_inputs(kinds=kinds)), "seed": seed, "sweeps": sweeps,
                     "temperature": style.info.temperature},
        "data": _data(style, classifier, seed),
        "conditions": conditions(records),
        "kinds": {k: conditions([r for r in records if r["kind"] == k])
                  for k in dict.fromkeys(r["kind"] for r in records)},
        "seconds": time.perf_counter() - t0,
        "pieces": records,
    }


def spread(items: Sequence[RealInput], n: int | None) -> list[RealInput]:
    """``n`` of ``items`` evenly spaced over the whole list (every kind has its share), or all."""
    if not n or n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def conditions(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every row's mean over ``records`` (the rows of :data:`LABELS` that have pieces)."""
    from styletx.evaluation.bench import _mean

    out = {"input": _condition([r["input"] for r in records])}
    for label in ("styletx", "baseline", "styletx_melody_only"):
        rows = [r["runs"][label] for r in records if label in r["runs"]]
        if rows:
            out[label] = _condition(rows)
    with_base = [r["runs"]["styletx"] for r in records if "baseline" in r["runs"]]
    if with_base and len(with_base) < len(records):
        out["styletx_on_baseline_pieces"] = _condition(with_base)
    chorales = [r["input"] for r in records if r["kind"] == "chorale"]
    if chorales and len(chorales) < len(records):
        out["input_chorales"] = {"n": len(chorales), "metrics": _mean(chorales)}
    return out


def _table(rows: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = ["| | n | " + " | ".join(label for _, label in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for key, cond in rows:
        cells = [_cell(cond["metrics"].get(c)) for c, _ in COLUMNS]
        lines.append(f"| {LABELS.get(key, key)} | {cond['n']} | " + " | ".join(cells) + " |")
    return lines


def real_markdown(result: dict[str, Any]) -> str:
    """The style's section of ``docs/quality-real.md``: all pieces, then one short table per kind."""
    s = result["settings"]
    kinds = ", ".join(f"{k} {v['input']['n']}" for k, v in result["kinds"].items())
    data = result["data"]
    of = s.get("of", s["n"])
    spread_note = f" (evenly spread over the {of} of the set)" if of > s["n"] else ""
    lines = [f"## {result['style']}", "",
             f"`{result['command']}` at commit `{result['commit']}` ({result['date']}, "
             f"{result['seconds'] / 60:.1f} min). {s['n']} real pieces"
             f"{spread_note}"
             f" ({kinds}), seed {s['seed']}, "
             f"{s['sweeps']} sweeps, temperature {s['temperature']}; style data: {data.get('n', 0)} "
             f"test-split pieces{' (' + data['from'] + ')' if 'from' in data else ''}.", ""]
    rows = list(result["conditions"].items())
    rows.insert(1, ("data", data))
    lines += _table(rows)
    for kind, conds in result["kinds"].items():
        lines += ["", f"*{kind}*", ""]
        lines += _table([(k, v) for k, v in conds.items() if k in ("styletx", "baseline",
                                                                     "styletx_melody_only", "input")])
    skipped = sorted({r["baseline_skipped"] for r in result["pieces"] if "baseline_skipped" in r})
    if skipped:
        lines += ["", *[f"- MMA baseline: {x}" for x in skipped]]
    return "\n".join(lines) + "\n"


INTRO = """# Quality on real pieces

Generated by `styletx eval --build-real` (once, builds the set into the cache) and
`styletx eval --bench STYLE --inputs real --out docs/quality-real` for each style;
`styletx eval --assemble --inputs real` rebuilds this page. The set
(`styletx/evaluation/realset.py`, each piece's source and licence in its manifest) is
real music from music21's corpus: Bach chorales of the valid and test splits, piano
pieces, songs with piano, string quartet movements and lead sheets, first 16 bars; none is
rendered by MMA and no melody is in a training split.

Columns as in [quality.md](quality.md), plus: *chord (m21)*, chord agreement read by the
independent music21 reader (`styletx/evaluation/chordify.py`: chordify, chord-symbol
names per slice, a duration vote per half bar; same root and family); *chroma*, the
estimator-free content similarity of the full output to the full input (2-beat windows,
1-beat hop; a window silent on one side scores 0); *bass reg.*, share of beats with an
accompaniment note at or below E3; *held >2b*, share of accompaniment notes longer than
two beats. The MMA baseline plays the chords the project's own reader hears, so on
*chord (own)* it agrees with itself; compare it with styletx on *chord (m21)*, on the same
pieces (*styletx, on the baseline's pieces*).
"""


def write_real(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    js = directory / f"{result['style']}.json"
    replace_file(js, json.dumps(finite(result), indent=1) + "\n")
    replace_file(js.with_suffix(".md"), real_markdown(result))
    return js


def assemble_real(directory: Path, out: Path) -> Path:
    """Build ``docs/quality-real.md`` from every ``<style>.json`` in ``directory``."""
    from styletx.training.recipes import RECIPES

    results = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    if not results:
        raise StyleTxError(f"no real-bench results in {directory}: "
                           "run styletx eval --bench STYLE --inputs real")
    order = list(RECIPES)
    results.sort(key=lambda r: order.index(r["style"]) if r["style"] in order else 99)
    replace_file(out, "\n".join([INTRO, *(real_markdown(r) for r in results)]))
    return out
