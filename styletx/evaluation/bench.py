"""``styletx eval --bench STYLE``: the end-to-end benchmark of one style, against an MMA baseline.

Inputs are held-out pieces of the *other* styles (the test splits of their
corpora, and the Bach test chorales), so content has to carry across styles,
which is the real use. For each input it scores:

* the input itself (its own clash, groove, bass, ...);
* styletx's transfer of it into STYLE, at each requested sweep count;
* styletx's harmonisation of its melody alone (the accompaniment dropped);
* the MMA baseline (:mod:`styletx.evaluation.baseline`) on the input and on the melody
  alone, when ``mma`` is installed.

Harmonisations are compared with the *full* input's chords: the question is
whether styletx finds the song's harmony from the tune alone.

The style's own data (test-split pieces of its corpus) give the reference
values for texture, groove, register and NLL. Results go to
``docs/quality/<style>.json`` and ``.md``; :func:`assemble` builds
``docs/quality.md`` from every style's JSON.
"""

from __future__ import annotations

import datetime
import json
import math
import random
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from styletx.errors import StyleTxError
from styletx.evaluation.metrics import (
    METRICS,
    model_nll,
    output_parts,
    piece_metrics,
    piece_of,
    transfer_metrics,
)
from styletx.evaluation.styleclass import CLASSIFIER_NAME, StyleClassifier
from styletx.io.files import replace_file
from styletx.io.reader import read_midi
from styletx.io.writer import midi_bytes
from styletx.music.parts import select_parts
from styletx.music.song import Parts, Song, Track
from styletx.music.timing import bar_starts
from styletx.paths import cache_dir
from styletx.training.recipes import RECIPES, Chorales
from styletx.training.splits import split_of

DEFAULT_N = 20
DEFAULT_MAX_BARS = 16
DATA_PIECES = 8
REPO = Path(__file__).resolve().parents[1]

SongLoader = Callable[[], tuple[Song, Parts]]


@dataclass(frozen=True)
class CorpusPiece:
    """One piece of a style's corpus: ids, split, and how to load it."""

    style: str
    piece_id: str
    source_id: str
    split: str
    load: SongLoader


# --------------------------------------------------------------------------- corpora


def _chorales(style: str) -> bool:
    """Whether ``style``'s corpus is the music21 chorales (its recipe's data source)."""
    return style in RECIPES and isinstance(RECIPES[style].data, Chorales)


def corpus_pieces(style: str, split: str) -> list[CorpusPiece]:
    """The pieces of ``style``'s corpus in ``split``, in a fixed order.

    Bach: the music21 chorales (split by :func:`styletx.training.splits.split_of`). Other styles:
    the MMA renderings listed in ``<cache>/data/<style>/manifest.json``; an empty list
    when that corpus has not been built.
    """
    if _chorales(style):
        from styletx.training.corpus import chorale_ids, chorale_song

        def chorale(cid: str) -> SongLoader:
            return lambda: chorale_song(cid)

        return [CorpusPiece(style, cid, cid, split_of(cid), chorale(cid))
                for cid in dict.fromkeys(chorale_ids()) if split_of(cid) == split]
    folder = cache_dir() / "data" / style
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return []
    entries = json.loads(manifest.read_text()).get("pieces", [])

    def rendering(path: Path) -> SongLoader:
        def load() -> tuple[Song, Parts]:
            song = read_midi(path)
            return song, select_parts(song, "melody")
        return load

    return [CorpusPiece(style, str(e["id"]), str(e["source_id"]), str(e["split"]),
                        rendering(folder / e["file"]))
            for e in entries if e.get("split") == split and (folder / e["file"]).is_file()]


def crop(song: Song, parts: Parts, max_bars: int | None) -> tuple[Song, Parts]:
    """The first ``max_bars`` bars (a pickup counts as one): notes cut at the bar line."""
    if not max_bars:
        return song, parts
    starts = bar_starts(song)
    if len(starts) <= max_bars:
        return song, parts
    cut = starts[max_bars]
    mapping: dict[int, Track] = {}
    tracks = []
    for t in song.tracks:
        notes = [n.__class__(n.start, min(n.end, cut), n.pitch, n.velocity)
                 for n in t.notes if n.start < cut]
        new = Track(t.name, t.program, t.is_drum, notes, t.index, t.channel)
        mapping[id(t)] = new
        tracks.append(new)
    cropped = Song(song.resolution, tracks, [e for e in song.tempos if e.tick < cut],
                   [e for e in song.time_signatures if e.tick < cut],
                   [e for e in song.key_signatures if e.tick < cut], song.midi_type, song.source)
    return cropped, Parts(mapping[id(parts.melody)], [mapping[id(t)] for t in parts.accompaniment],
                          [mapping[id(t)] for t in parts.drums], parts.reason)


def as_file(song: Song, tracks: Sequence[Track], melody: Track) -> tuple[Song, Parts]:
    """Write ``tracks`` as a MIDI file and read it back, so every score is of a real file."""
    kept = [t for t in tracks if t.notes]
    out = read_midi(midi_bytes(song, kept))
    return out, select_parts(out, kept.index(melody))


def pick_inputs(
    style: str, n: int, seed: int, sources: Sequence[str]
) -> list[tuple[CorpusPiece, Song, Parts]]:
    """``n`` test-split pieces of the other styles, loaded, balanced over the sources with data.

    Each source's pieces are shuffled by a seed that depends on the source only, so
    every target style draws the same pieces from a given source. A piece that does
    not load (a chorale that is not in four parts) is replaced by the source's next one.
    """
    pools = {s: corpus_pieces(s, "test") for s in sources if s != style}
    pools = {s: p for s, p in pools.items() if p}
    if not pools:
        raise StyleTxError("no held-out pieces: build the corpora first (styletx data STYLE)")
    for s, pool in pools.items():
        random.Random(f"{seed}:{s}").shuffle(pool)
    order = sorted(pools)
    picked: list[tuple[CorpusPiece, Song, Parts]] = []
    i = 0
    while len(picked) < n and any(pools.values()):
        s = order[i % len(order)]
        i += 1
        while pools[s]:
            cp = pools[s].pop(0)
            try:
                picked.append((cp, *cp.load()))
                break
            except StyleTxError:
                continue
    return picked


# ------------------------------------------------------------------------ scoring


def find_classifier() -> StyleClassifier | None:
    """The style classifier from ``$STYLETX_MODELS`` or the shipped checkpoints, if trained."""
    from styletx.styles import search_roots

    for root, _ in search_roots():
        path = root / CLASSIFIER_NAME
        if path.is_file():
            return StyleClassifier.load(path)
    return None


def score_transfer(
    song_in: Song, parts_in: Parts, song_out: Song, style: Any, classifier: StyleClassifier | None
) -> dict[str, Any]:
    """:func:`~styletx.evaluation.metrics.transfer_metrics` plus the output's style probability
    (NaN without a classifier) and NLL under ``style``: one transfer's scores."""
    parts_out = output_parts(song_out, parts_in.melody)
    m = transfer_metrics(song_in, parts_in, song_out, parts_out)
    out = m["output"]
    like = piece_of(song_in, parts_in)
    piece = piece_of(song_out, parts_out, like=like)
    out["style_prob"] = classifier.style_prob(piece, style.name) if classifier else float("nan")
    out["nll"] = model_nll(style, song_out, parts_out)
    return m


def _git_commit() -> str:
    """The checkout's short commit, with ``+dirty`` when the package or checkpoints differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "styletx", "checkpoints"],
                               cwd=REPO, capture_output=True, timeout=10).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def data_reference(
    style: Any, classifier: StyleClassifier | None, n: int, max_bars: int | None, seed: int
) -> dict[str, Any]:
    """Model-free metrics, style probability and NLL of ``n`` test-split pieces of the style's data."""
    pool = corpus_pieces(style.name, "test")
    random.Random(f"{seed}:data:{style.name}").shuffle(pool)
    rows, ids = [], []
    for cp in pool:
        if len(rows) == n:
            break
        try:
            song, parts = crop(*cp.load(), max_bars)
        except StyleTxError:
            continue
        song, parts = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
        piece = piece_of(song, parts)
        row = piece_metrics(piece)
        row["style_prob"] = classifier.style_prob(piece, style.name) if classifier else float("nan")
        row["nll"] = model_nll(style, song, parts)
        rows.append(row)
        ids.append(cp.piece_id)
    return {"n": len(rows), "pieces": ids, "metrics": _mean(rows)}


def _mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = dict.fromkeys(k for r in rows for k in r)
    out = {}
    for k in keys:
        vals = np.array([r.get(k, math.nan) for r in rows], dtype=float)
        ok = ~np.isnan(vals)
        out[k] = float(vals[ok].mean()) if ok.any() else float("nan")
    return out


def run_bench(
    style_name: str,
    *,
    n: int = DEFAULT_N,
    seed: int = 0,
    sweeps: Sequence[int] = (5,),
    temperature: float | None = None,
    baseline: bool | None = None,
    max_bars: int | None = DEFAULT_MAX_BARS,
    data_pieces: int = DATA_PIECES,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Run the benchmark for one style and return its results (see the module docstring)."""
    import torch
    from tqdm import tqdm

    from styletx.api import TransferOptions, transfer_song
    from styletx.model.settings import SamplerSettings
    from styletx.styles import load_style, styles

    torch.set_num_threads(1)
    commit = _git_commit()  # the code that runs is the code at the start
    style = load_style(style_name)
    classifier = find_classifier()
    skipped: list[str] = []
    if baseline is None or baseline:
        try:
            from styletx.training.mma import mma_binary

            mma_binary()
            use_baseline = True
        except StyleTxError as e:
            if baseline:
                raise
            use_baseline = False
            skipped.append(f"MMA baseline skipped: {e}")
    else:
        use_baseline = False
    if classifier is None:
        skipped.append("style_prob skipped: no style classifier (styletx eval --train-classifier)")
    sources = styles()
    missing = [s for s in sources if s != style_name and not _chorales(s) and not corpus_pieces(s, "test")]
    if missing:
        skipped.append(f"no built corpus for {', '.join(missing)}: their pieces are not inputs")
    inputs = pick_inputs(style_name, n, seed, sources)
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    # A sweep study scores styletx at each sweep count only; the melody-only and
    # baseline runs do not depend on the sweep count and belong to the main bench.
    full = len(sweeps) == 1
    per_piece = len(sweeps) + (1 + (2 if use_baseline else 0) if full else 0)
    bar = tqdm(total=len(inputs) * per_piece, desc=f"bench {style_name}", file=sys.stderr,
               disable=not progress, unit="run")
    for i, (cp, full_song, full_parts) in enumerate(inputs):
        song, parts = crop(full_song, full_parts, max_bars)
        song_in, parts_in = as_file(song, [parts.melody, *parts.accompaniment], parts.melody)
        mel_song, _ = as_file(song, [parts.melody], parts.melody)
        melody_index = song_in.tracks.index(parts_in.melody)
        rec: dict[str, Any] = {"source": cp.style, "id": cp.piece_id,
                               "bars": len(bar_starts(song_in)), "runs": {}}
        for k in sweeps:
            settings = SamplerSettings(seed=seed + i, sweeps=k, temperature=temperature)
            t = time.perf_counter()
            res = transfer_song(song_in, style, TransferOptions(settings, melody_track=melody_index))
            out, _ = as_file(res.song, res.tracks, res.tracks[0])
            m = score_transfer(song_in, parts_in, out, style, classifier)
            rec["runs"][f"styletx_sweeps_{k}"] = {**m["output"], "seconds": time.perf_counter() - t}
            rec["input"] = m["input"]
            if k == sweeps[0]:
                first_roll = res.new_accomp
            bar.update()
        if full:
            settings = SamplerSettings(seed=seed + i, sweeps=sweeps[0], temperature=temperature)
            t = time.perf_counter()
            res = transfer_song(mel_song, style, TransferOptions(settings, melody_track=0))
            out, _ = as_file(res.song, res.tracks, res.tracks[0])
            m = score_transfer(song_in, parts_in, out, style, classifier)
            rec["runs"]["styletx_melody_only"] = {**m["output"], "seconds": time.perf_counter() - t}
            # Sampler health: does the input's accompaniment change the output at all?
            rec["same_as_melody_only"] = bool(np.array_equal(first_roll, res.new_accomp))
            bar.update()
        if use_baseline and full:
            from styletx.evaluation.baseline import baseline_song

            for label, (s_in, p_in) in (("baseline", (song_in, parts_in)),
                                        ("baseline_melody_only", (mel_song, select_parts(mel_song, 0)))):
                try:
                    b = baseline_song(s_in, p_in, style_name)
                    out, _ = as_file(b, b.tracks, b.tracks[0])
                    rec["runs"][label] = score_transfer(
                        song_in, parts_in, out, style, classifier)["output"]
                except StyleTxError as e:
                    rec.setdefault("baseline_skipped", str(e))
                bar.update()
        rec["input"]["nll"] = model_nll(style, song_in, parts_in)
        like = piece_of(song_in, parts_in)
        rec["input"]["style_prob"] = (classifier.style_prob(like, style_name) if classifier
                                      else float("nan"))
        records.append(rec)
    bar.close()
    data = data_reference(style, classifier, data_pieces, max_bars, seed)
    conditions: dict[str, dict[str, Any]] = {"input": _condition([r["input"] for r in records])}
    labels = [f"styletx_sweeps_{k}" for k in sweeps] + (["styletx_melody_only"] if full else [])
    if use_baseline and full:
        labels += ["baseline", "baseline_melody_only"]
    for label in labels:
        conditions[label] = _condition([r["runs"][label] for r in records if label in r["runs"]])
    baseline_skips = sorted({r["baseline_skipped"] for r in records if "baseline_skipped" in r})
    skipped += [f"MMA baseline: {s}" for s in baseline_skips]
    return {
        "style": style_name,
        "command": command,
        "commit": commit,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {"n": len(inputs), "seed": seed, "sweeps": list(sweeps), "max_bars": max_bars,
                     "temperature": temperature if temperature is not None else style.info.temperature,
                     "data_pieces": data["n"]},
        "sources": {s: sum(1 for r in records if r["source"] == s)
                    for s in sorted({r["source"] for r in records})},
        "classifier": classifier.info if classifier else None,
        "data": data,
        "conditions": conditions,
        "skipped": skipped,
        "same_as_melody_only": (sum(r["same_as_melody_only"] for r in records)
                                if full else None),
        "seconds": time.perf_counter() - t0,
        "pieces": records,
    }


def _condition(rows: Sequence[dict[str, float]]) -> dict[str, Any]:
    return {"n": len(rows), "metrics": _mean(rows)}


# ------------------------------------------------------------------------ reports

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chord_agreement", "chord"),
    ("root_agreement", "root"),
    ("bass_on_root", "bass root"),
    ("bass_on_chord_tone", "bass tone"),
    ("clash", "clash"),
    ("groove", "groove"),
    ("empty_bars", "empty bars"),
    ("notes_per_beat", "notes/beat"),
    ("polyphony", "poly"),
    ("in_key", "in key"),
    ("parallels", "par./100b"),
    ("above_melody", "above mel."),
    ("style_prob", "style p"),
    ("nll", "NLL/frame"),
    ("melody_exact", "melody exact"),
    ("meta_kept", "maps kept"),
)

ROW_LABELS = {
    "input": "input (the originals)",
    "data": "style data (test split)",
    "styletx_melody_only": "styletx, melody only",
    "baseline": "MMA baseline",
    "baseline_melody_only": "MMA baseline, melody only",
}


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.2f}" if abs(x) >= 10 else f"{x:.3f}"


def _label(key: str, sweeps: Sequence[int]) -> str:
    if key.startswith("styletx_sweeps_"):
        k = int(key.rsplit("_", 1)[1])
        return "**styletx**" if k == sweeps[0] and len(sweeps) == 1 else f"styletx, {k} sweeps"
    return ROW_LABELS.get(key, key)


def markdown(
    result: dict[str, Any], heading: str | None = None,
    columns: Sequence[tuple[str, str]] = TABLE_COLUMNS,
) -> str:
    """The style's section of ``docs/quality.md``."""
    s = result["settings"]
    sources = ", ".join(f"{k} {v}" for k, v in result["sources"].items())
    lines = [
        heading or f"## {result['style']}",
        "",
        f"`{result['command']}` at commit `{result['commit']}` ({result['date']}, "
        f"{result['seconds'] / 60:.1f} min). {s['n']} held-out inputs ({sources}), first "
        f"{s['max_bars']} bars, seed {s['seed']}, temperature {s['temperature']}; style data: "
        f"{result['data']['n']} test-split pieces of the {result['style']} corpus.",
        "",
        "| | n | " + " | ".join(label for _, label in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    rows = [("input", result["conditions"]["input"]), ("data", result["data"])]
    rows += [(k, v) for k, v in result["conditions"].items() if k != "input"]
    for key, cond in rows:
        m = cond["metrics"]
        cells = [_cell(m.get(c)) for c, _ in columns]
        lines.append(f"| {_label(key, s['sweeps'])} | {cond['n']} | " + " | ".join(cells) + " |")
    same = result.get("same_as_melody_only")
    if same is not None:
        lines += ["", f"Sampler start: for {same} of {s['n']} inputs the transfer of the full input is, "
                  "cell for cell, the harmonisation of its melody alone (same seed); for those, the "
                  "input's accompaniment, where the chain starts, leaves no trace in the output."]
    if result["skipped"]:
        lines += ["", *[f"- {x}" for x in result["skipped"]]]
    return "\n".join(lines) + "\n"


INTRO = """# Quality: styletx against an MMA baseline

Generated by `styletx eval --bench STYLE --out docs/quality` (one section per style, each
with its own command and commit) and assembled by `styletx eval --assemble`: the shipped
models at their default settings (each style's card of sampling defaults). The figures of the 0.1
models, before the chord track, are kept in [quality-before.md](quality-before.md).
**Real pieces** (chorales, piano pieces, songs, quartets and lead sheets that no model was
trained on and MMA never rendered) have their own page, [quality-real.md](quality-real.md)
(`styletx eval --bench STYLE --inputs real`).

**Inputs.** For a style, held-out pieces of the *other* styles: test-split MMA
renderings of the other corpora and the Bach test chorales, balanced over sources, cut
to their first 16 bars. *styletx* transfers each into the style; *styletx, melody only*
harmonises the melody alone. The *MMA baseline* (`benchmarks/baseline_mma.py`) detects
one chord per half bar in the input, plays it with one MMA groove of the style (Bach:
MMA's `Hymn`, 4/4 only; MMA seeded with `RndSeed 1`) in the input's meter and puts the
melody back; inputs in a meter the groove lacks are left out of its rows (see *n*). *Input* scores
the originals themselves; *style data* scores test-split pieces of the style's own
corpus (what the model was trained to imitate). Every row is a mean over pieces.

**Metrics** (`styletx/evaluation/metrics.py`; all from the MIDI files, half bars from the meter map):

| column | what | good |
|---|---|---|
""" + "\n".join(f"| {m.label} | `{m.key}` | {m.good} |" for m in METRICS) + """

- *chord / root*: one chord per half bar for input and output (templates major, minor, 7,
  maj7, m7, 6, dim, m7b5 on a duration-weighted pitch-class profile of every non-drum note,
  melody included, the bass as tiebreak); the share of the input's chorded half bars whose
  output chord has the same root and family, or the same root. Melody-only rows are
  compared with the *full* original's chords.
- *bass root / bass tone*: the output's lowest accompaniment note at each half-bar start
  (or its first onset in the half bar) against the input's chord.
- *clash*: share of 1/12-beat sample points (where melody and accompaniment both sound)
  with an accompaniment pitch class a semitone from a melody pitch class.
- *groove*: per bar, accompaniment onsets on a 1/12-beat grid; each bar's best cosine to
  the bars within ±4; averaged. *empty bars*: share of bars with no accompaniment onset.
- *parallels*: adjacent-voice parallel fifths and octaves per 100 beats; voices are the
  sorted sounding pitches at each onset with the melody on top (slices with a different
  number of voices are not compared).
- *style p*: the probability of the target style from a small classifier
  (`styletx/evaluation/styleclass.py`) trained on 32-beat windows of every style's training split.
  **It measures resemblance to the training renderings (rule-based MMA grooves for
  every style but Bach), not musical quality.**
- *NLL/frame*: the accompaniment's NLL under the style's own model, nats per frame,
  every other bar hidden and scored (as `train.evaluate(blocks=True)`).
"""


def assemble(directory: Path, out: Path) -> Path:
    """Build ``docs/quality.md`` from every ``<style>.json`` in ``directory``."""
    paths = sorted(directory.glob("*.json"))
    results = [json.loads(p.read_text()) for p in paths]
    for path, r in zip(paths, results, strict=True):  # each style's own page, in today's format
        sweep = len(r["settings"]["sweeps"]) > 1
        replace_file(path.with_suffix(".md"), sweep_markdown(r) if sweep else markdown(r))
    if not results:
        raise StyleTxError(f"no bench results in {directory}: run styletx eval --bench STYLE")
    order = list(RECIPES)
    results.sort(key=lambda r: (order.index(r["style"]) if r["style"] in order else 99, r["style"]))
    parts = [INTRO]
    clf = next((r["classifier"] for r in results if r.get("classifier")), None)
    if clf:
        per = ", ".join(f"{k} {v:.2f}" for k, v in clf["cv_accuracy_per_style"].items())
        parts.append(
            f"Style classifier: {clf['folds']}-fold cross-validated accuracy "
            f"**{clf['cv_accuracy']:.3f}** on {clf['windows']} windows of {clf['window_beats']} beats "
            f"(folds by source melody; per style: {per}); seed {clf['seed']}.\n")
    main = [r for r in results if len(r["settings"]["sweeps"]) == 1]
    if main:
        parts.append(summary_markdown(main))
    parts += [markdown(r) for r in main]
    parts += [sweep_markdown(r) for r in results if len(r["settings"]["sweeps"]) > 1]
    replace_file(out, "\n".join(parts))
    return out


SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chord_agreement", "chord"),
    ("bass_on_root", "bass root"),
    ("bass_on_chord_tone", "bass tone"),
    ("clash", "clash"),
    ("groove", "groove"),
    ("parallels", "par./100b"),
    ("style_prob", "style p"),
)


def summary_markdown(results: Sequence[dict[str, Any]]) -> str:
    """One row per style and system: the headline figures of every style's table."""
    lines = ["## Summary", "",
             "styletx (full inputs, default settings) beside the MMA baseline on the same inputs, "
             "with the inputs themselves and the style's own data for reference. Details per style below.",
             "", "| style | system | n | " + " | ".join(label for _, label in SUMMARY_COLUMNS) + " |",
             "|---|---|---|" + "---|" * len(SUMMARY_COLUMNS)]
    for r in results:
        conds = r["conditions"]
        rows = [(k, v) for k, v in conds.items() if k.startswith("styletx_sweeps_")]
        rows += [(k, conds[k]) for k in ("baseline",) if k in conds]
        rows += [("input", conds["input"]), ("data", r["data"])]
        for key, cond in rows:
            name = {"baseline": "MMA baseline", "input": "input", "data": "style data"}.get(key, "styletx")
            cells = [_cell(cond["metrics"].get(c)) for c, _ in SUMMARY_COLUMNS]
            lines.append(f"| {r['style']} | {name} | {cond['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def sweep_markdown(result: dict[str, Any]) -> str:
    """The sampler-health table: every metric at each sweep count."""
    s = result["settings"]
    heading = (f"## Sampler health: {result['style']} at {', '.join(map(str, s['sweeps']))} sweeps\n\n"
               "A sampler that samples the style's distribution keeps these figures steady as the "
               "chain runs longer; a drift means the chain moves away from what the model was "
               "trained on. Melody-only and baseline runs are in the style's main table; *s/piece* is "
               "the wall time of one transfer and its scoring on the shared 2-core CPU.")
    return markdown(result, heading, (*TABLE_COLUMNS, ("seconds", "s/piece")))


def write_results(result: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``<style>.json`` (or ``<style>-sweeps.json`` for a sweep study) and its markdown."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = result["style"] + ("-sweeps" if len(result["settings"]["sweeps"]) > 1 else "")
    js = directory / f"{stem}.json"
    replace_file(js, json.dumps(finite(result), indent=1) + "\n")
    md = directory / f"{stem}.md"
    replace_file(md, sweep_markdown(result) if len(result["settings"]["sweeps"]) > 1 else markdown(result))
    return js, md


def finite(x: Any) -> Any:
    """NaN (a metric with nothing to measure) as JSON null, recursively."""
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [finite(v) for v in x]
    if isinstance(x, float | np.floating):
        return None if math.isnan(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def command_line() -> str:
    return "styletx " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# --------------------------------------------------------------------- classifier


def train_style_classifier(
    seed: int = 0, pieces_per_style: int = 200, progress: bool = True
) -> StyleClassifier:
    """Train the style classifier on the training split of every style with a recipe.

    Its classes are the recipes' styles, whose corpora ``styletx data`` builds. An
    installed user style has no corpus here, so it is no class (its ``style_prob`` is NaN,
    :meth:`~styletx.evaluation.styleclass.StyleClassifier.style_prob`) and does not stop
    the training.
    """
    from tqdm import tqdm

    from styletx.evaluation.styleclass import train_classifier

    def loader(cp: CorpusPiece) -> Callable[[], tuple[str, Any]]:
        def load() -> tuple[str, Any]:
            song, parts = cp.load()
            return cp.source_id, piece_of(song, parts)
        return load

    loaders = {}
    for s in sorted(RECIPES):
        pool = corpus_pieces(s, "train")
        if not pool:
            raise StyleTxError(f"no training corpus for style {s!r}: run `styletx data {s}` first")
        loaders[s] = [loader(cp) for cp in pool]
    bar = tqdm(desc="style classifier", file=sys.stderr, disable=not progress, unit="piece")

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        return train_classifier(loaders, seed=seed, pieces_per_style=pieces_per_style, progress=update)
    finally:
        bar.close()
