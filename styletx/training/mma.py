"""Training corpora for the non-Bach styles, rendered from lead sheets through MMA.

No real jazz/pop/ragtime accompaniment data is available, so (like Groove2Groove with
Band-in-a-Box) real melodies and harmonies from :mod:`styletx.training.leadsheets` are played by
the rule-based grooves of MMA (Musical MIDI Accompaniment, ``apt-get install mma``).
MMA renders only the accompaniment; the lead sheet's melody is added as a track named
``melody`` on the same tick grid, so it is exactly the lead sheet's melody. Drum tracks
are dropped: styletx models pitched accompaniment only.

MMA is needed to build data, never at run time. ``styletx data STYLE`` builds a corpus.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import mido

from styletx.errors import StyleTxError
from styletx.io.files import replace_file
from styletx.io.reader import ReadWarnings, read_midi
from styletx.io.writer import write_midi
from styletx.music.chords import key_symbol
from styletx.music.song import KeySignature, Note, Song, TempoChange, TimeSignature, Track
from styletx.paths import cache_dir
from styletx.training.leadsheets import LeadSheet, load_leadsheets
from styletx.training.recipes import MmaSpec, mma_specs
from styletx.training.splits import split_of

MMA_RESOLUTION = 192  # MMA writes 192 ticks per (MMA) beat
# MMA beats per bar for the grooves used: the 6/8 grooves (68Swing, Arpeggio68) count
# eighth notes as their beats, so an MMA "quarter" there is an eighth of the lead sheet.
MMA_BEATS_PER_BAR = {4: 4, 3: 3, 6: 6}
MELODY_RANGE = (55, 81)  # mean melody pitch is kept in this range after transposition
MMA_TIMEOUT_S = 60


def mma_binary() -> str:
    """Path of the ``mma`` executable, or a one-line StyleTxError saying how to install it."""
    path = shutil.which("mma")
    if path is None:
        raise StyleTxError("mma (Musical MIDI Accompaniment) is not installed; "
                           "install it with: apt-get install mma")
    return path


def mma_version() -> str:
    """MMA's version string as printed by ``mma -v`` (e.g. ``"21.09"``)."""
    out = subprocess.run([mma_binary(), "-v"], capture_output=True, text=True, timeout=30)
    lines = [ln.strip() for ln in (out.stdout + out.stderr).splitlines()]
    return next((ln for ln in lines if ln and ln[0].isdigit()), "unknown")


def corpus_mma_version(style: str) -> str:
    """The MMA version that rendered a style's cached corpus (from its manifest), else ``"unknown"``.

    Training reads it from the data rather than running ``mma``, so a model can be
    trained on a machine that has the corpus but not MMA.
    """
    path = cache_dir() / "data" / style / "manifest.json"
    try:
        return str(json.loads(path.read_text()).get("mma_version", "unknown"))
    except (OSError, json.JSONDecodeError):
        return "unknown"


def mma_chart(sheet: LeadSheet, groove: str, tempo_qbpm: float, seed: int | None = None) -> str:
    """The MMA source for a lead sheet's accompaniment: tempo, groove, one line per bar.

    Bar 0 of the lead sheet is MMA's bar 1 (MMA adds no count-in); a pickup simply sits
    at the end of it, over the first chord. Chords go into the bar's beat slots ("/"
    keeps the previous chord); tempo is in MMA beats, which are eighths for 6/8 grooves.
    ``seed`` adds MMA's ``RndSeed``, so the grooves' random skips and timing repeat
    (``None``, the corpus builder's choice, leaves MMA unseeded).
    """
    slots_per_bar = MMA_BEATS_PER_BAR[sheet.numerator]
    beat_q = sheet.bar_beats / slots_per_bar  # quarter notes per MMA beat
    bars: list[list[str]] = [["/"] * slots_per_bar for _ in range(sheet.n_bars)]
    for c in sheet.chords:
        slot = round(c.beat / beat_q)
        if not 0 <= c.bar < sheet.n_bars or abs(slot * beat_q - c.beat) > 1e-6:
            raise ValueError(f"chord {c} is off MMA's beat grid")
        bars[c.bar][slot] = c.name
    lines = [f"// styletx: {sheet.piece_id}", *([f"RndSeed {seed}"] if seed is not None else []),
             f"Tempo {tempo_qbpm / beat_q:g}", f"Groove {groove}"]
    lines += [f"{i + 1} {' '.join(b)}" for i, b in enumerate(bars)]
    return "\n".join(lines) + "\n"


def _rescaled(track: Track, scale: float) -> Track:
    """A part of MMA's output with its ticks multiplied by ``scale`` (MMA beats to quarters)."""
    notes = [Note(round(n.start * scale), round(n.end * scale), n.pitch, n.velocity) for n in track.notes]
    events = [(round(tick * scale), raw) for tick, raw in track.events]
    return replace(track, notes=sorted(notes), events=events)


def render_piece(
    sheet: LeadSheet, groove: str, tempo_qbpm: float, out_path: Path, seed: int | None = None
) -> list[dict]:
    """Render one lead sheet with MMA and write the type-1 MIDI file ``out_path``.

    MMA's output is read like any input and written back with :func:`~styletx.io.writer.write_midi`:
    a conductor track (the piece id, tempo, time and key signature at tick 0), ``melody``
    (the lead sheet's notes at 192 ticks per quarter), then MMA's pitched parts with
    their names, channels, programs and controllers; MMA's drum parts are dropped.
    Returns a summary of the accompaniment parts (name, program, notes, pitch range).
    """
    with tempfile.TemporaryDirectory(prefix="styletx-mma-") as tmp:
        src = Path(tmp) / "piece.mma"
        src.write_text(mma_chart(sheet, groove, tempo_qbpm, seed))
        res = subprocess.run([mma_binary(), "-f", "piece.mid", "piece.mma"], cwd=tmp,
                             capture_output=True, text=True, timeout=MMA_TIMEOUT_S)
        mid_path = Path(tmp) / "piece.mid"
        if res.returncode != 0 or not mid_path.exists():
            err = (res.stderr or res.stdout).strip().splitlines()
            raise RuntimeError(f"mma failed on {sheet.piece_id}: {err[-1] if err else '?'}")
        # MMA's strums overlap same-pitch notes by design: counted, not logged with a temp path
        rendered = read_midi(mid_path, warnings=ReadWarnings())
    scale = sheet.bar_beats / MMA_BEATS_PER_BAR[sheet.numerator]  # quarters per MMA beat
    accomp = [_rescaled(t, scale) for t in rendered.tracks
              if t.notes and not t.is_drum and not t.name.lower().startswith("drum")]
    if not accomp:
        raise RuntimeError(f"mma produced no pitched accompaniment for {sheet.piece_id}")
    summary = [{"name": t.name, "program": t.program, "notes": len(t.notes),
                "min_pitch": min(n.pitch for n in t.notes), "max_pitch": max(n.pitch for n in t.notes)}
               for t in accomp]
    ppq = MMA_RESOLUTION
    melody = Track(name="melody", program=0, is_drum=False, notes=[
        Note(round(n.start * ppq), max(round(n.end * ppq), round(n.start * ppq) + 1), n.pitch, n.velocity)
        for n in sheet.notes])
    song = Song(
        resolution=ppq, tracks=[melody, *accomp],
        tempos=[TempoChange(0, mido.bpm2tempo(tempo_qbpm))],
        time_signatures=[TimeSignature(0, sheet.numerator, sheet.denominator)],
        key_signatures=[KeySignature(0, sheet.tonic, sheet.minor)],
        events=[(0, b"\xff\x03" + sheet.piece_id.encode("latin-1", "replace"))],
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_midi(out_path, song, song.tracks, force=True)
    return summary


@dataclass(frozen=True)
class _Job:
    sheet: dict
    piece_id: str
    groove: str
    tempo: int
    transpose: int
    octave_shift: int
    out_path: str


def _plan(
    style: str, spec: MmaSpec, sheets: Sequence[LeadSheet], n: int, seed: int, midi_dir: Path
) -> list[_Job]:
    """Deterministic (from ``seed``) choice of sheet, groove, tempo and key for n pieces.

    Sheets are drawn without replacement (reshuffled each pass when n exceeds them);
    every piece gets a transposition in -5..+6 (all 12 keys), then the melody alone
    is moved by octaves if its mean pitch left MELODY_RANGE.
    """
    eligible = sorted((s for s in sheets if s.numerator in spec.grooves), key=lambda s: s.piece_id)
    if not eligible:
        return []
    rng = random.Random(f"{style}:{seed}")
    jobs: list[_Job] = []
    order: list[LeadSheet] = []
    while len(jobs) < n:
        if not order:
            order = eligible[:]
            rng.shuffle(order)
        sheet = order.pop()
        groove = rng.choice(spec.grooves[sheet.numerator])
        tempo = rng.randint(*spec.tempo[sheet.numerator])
        k = rng.randrange(-5, 7)
        moved = sheet.transposed(k)
        mean = sum(x.pitch for x in moved.notes) / len(moved.notes)
        octave = 12 if mean < MELODY_RANGE[0] else (-12 if mean > MELODY_RANGE[1] else 0)
        piece_id = f"{sheet.piece_id}_{groove}_k{k:+d}_{tempo}"
        jobs.append(_Job(moved.to_dict(), piece_id, groove, tempo, k, octave,
                         str(midi_dir / f"{piece_id}.mid")))
    return jobs


def _run_job(job: _Job) -> dict:
    """Render one planned piece (skipping it if its MIDI exists) and return its manifest entry."""
    sheet = LeadSheet.from_dict(job.sheet)
    if job.octave_shift:
        sheet = LeadSheet.from_dict({**job.sheet, "notes": [
            {**n, "pitch": n["pitch"] + job.octave_shift} for n in job.sheet["notes"]]})
    out = Path(job.out_path)
    entry = {
        "id": job.piece_id, "file": f"midi/{out.name}", "source_id": sheet.source_id,
        "section": sheet.section, "title": sheet.title, "split": split_of(sheet.source_id),
        "groove": job.groove, "tempo_qbpm": job.tempo, "transpose": job.transpose,
        "melody_octave_shift": job.octave_shift,
        "meter": f"{sheet.numerator}/{sheet.denominator}", "pickup_beats": sheet.pickup,
        "key": key_symbol(sheet.tonic, sheet.minor),
        "n_bars": sheet.n_bars,
        "bar_beats": sheet.bar_beats,
        # the chart that was rendered: exact chord labels for training (bar, quarter beat, name)
        "chords": [[c.bar, c.beat, c.name] for c in sheet.chords],
    }
    sidecar = out.with_suffix(".json")
    if out.exists() and sidecar.exists():
        old = json.loads(sidecar.read_text())
        if "chords" not in old:  # a corpus rendered before charts were recorded
            old.update(chords=entry["chords"], bar_beats=entry["bar_beats"])
            replace_file(sidecar, json.dumps(old))
        return old
    try:
        entry["tracks"] = render_piece(sheet, job.groove, job.tempo, out)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return {**entry, "error": str(e)}
    replace_file(sidecar, json.dumps(entry))
    return entry


def build_style_corpus(
    style: str,
    *,
    limit: int | None = None,
    seed: int = 0,
    jobs: int = 2,
    out_dir: Path | None = None,
    progress: bool = True,
    sheets: Sequence[LeadSheet] | None = None,
) -> Path:
    """Render a style's training corpus and return its directory.

    Writes ``<out_dir>/midi/<piece-id>.mid`` (default out_dir: ``cache_dir()/data/<style>``)
    and ``manifest.json`` (MMA version, arguments, and per piece: groove, tempo,
    transposition, meter, source id, split). Pieces already rendered are reused, so a
    second build with the same arguments is near-instant. ``limit`` caps the piece count
    (default: the spec's ``pieces``); ``sheets`` replaces the music21 lead sheets (tests).
    """
    specs = mma_specs()
    if style not in specs:
        raise StyleTxError(f"{style!r} is not an MMA style; choose from {', '.join(specs)}")
    spec = specs[style]
    version = mma_version()
    out_dir = Path(out_dir) if out_dir is not None else cache_dir() / "data" / style
    midi_dir = out_dir / "midi"
    midi_dir.mkdir(parents=True, exist_ok=True)
    if sheets is None:
        sheets = load_leadsheets(jobs=jobs, progress=progress)
    n = limit if limit is not None else spec.pieces
    plan = _plan(style, spec, sheets, n, seed, midi_dir)
    t0 = time.time()
    entries: list[dict] = []
    with ProcessPoolExecutor(max(1, jobs)) as pool:
        for i, entry in enumerate(pool.map(_run_job, plan, chunksize=4)):
            entries.append(entry)
            if progress and (i + 1) % 100 == 0:
                print(f"{style}: {i + 1}/{len(plan)} pieces, {time.time() - t0:.0f} s", flush=True)
    good = [e for e in entries if "error" not in e]
    pitches = [(t["min_pitch"], t["max_pitch"]) for e in good for t in e["tracks"]]
    manifest = {
        "style": style,
        "mma_version": version,
        "command": sys.argv,
        "arguments": {"style": style, "limit": limit, "seed": seed, "jobs": jobs,
                      "out_dir": str(out_dir), "n_sheets": len(sheets)},
        "spec": {**asdict(spec), "grooves": {str(k): v for k, v in spec.grooves.items()},
                 "tempo": {str(k): v for k, v in spec.tempo.items()}},
        "drums": "dropped (styletx models pitched accompaniment only)",
        "n_pieces": len(good),
        "errors": [e for e in entries if "error" in e],
        "splits": dict(Counter(e["split"] for e in good)),
        "grooves": dict(Counter(e["groove"] for e in good)),
        "meters": dict(Counter(e["meter"] for e in good)),
        "accompaniment_pitch_range": [min((p[0] for p in pitches), default=None),
                                      max((p[1] for p in pitches), default=None)],
        "pieces": good,
    }
    replace_file(out_dir / "manifest.json", json.dumps(manifest, indent=1))
    if progress:
        print(f"{style}: {len(good)} pieces ({len(manifest['errors'])} failed) in "
              f"{time.time() - t0:.0f} s -> {out_dir}", flush=True)
    return out_dir
