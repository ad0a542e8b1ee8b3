"""Your own style: train from a folder of MIDI files, or adapt a shipped style to examples.

``styletx train --style NAME --data DIR`` reads every MIDI file under ``DIR``
(recursively), takes each file's melody by the same rule as ``render`` and the
other pitched parts (drums aside) as the accompaniment, estimates the key and a
chord track on the grid (:func:`styletx.music.grid.build_grid`), splits the files by the
SHA-1 of their bytes, and trains -- from scratch, or by fine-tuning a shipped
model (``--from``, the default for small data). The result is installed as a
*user style* (:func:`styletx.styles.user_styles_dir`), atomically: the run writes
into a hidden ``.NAME.partial`` folder beside the target, which becomes ``NAME``
only when training and the card are done, so Ctrl-C leaves a resumable run and
never half a style.

``styletx render in.mid --style-from ex.mid [...]`` is the few-shot path
(:func:`adapt`): the shipped style whose model gives the examples the lowest NLL
per beat is fine-tuned on them for a bounded time, then renders.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from styletx.errors import BadMidiError, NoMelodyError, StyleTxError
from styletx.io.files import replace_file
from styletx.model.config import TRAIN_RECORD_NAME, ModelConfig, TrainConfig
from styletx.model.settings import HarmonyPrior
from styletx.music.encoding import MAX_BAR_STEPS, N_BAR_LENGTHS
from styletx.music.grid import Grid, build_grid
from styletx.music.song import Parts, Song
from styletx.score.read import SONG_SUFFIXES, read_song
from styletx.styles import Style, StyleInfo
from styletx.training.corpus import PieceArrays, piece_from_grid
from styletx.training.recipes import CHUNK_BEATS
from styletx.training.splits import Split, split_of

MIN_BEATS = 8
"""A file with fewer quarter notes of music than this is skipped as too short."""
SMALL_DATA_BEATS = 2000
"""Under this many beats of data, ``train --data`` fine-tunes a shipped model by default."""
MAX_BAR_BEATS = N_BAR_LENGTHS - 1  # the model's bar-length embedding holds bars of 1..15 quarter notes
FINE_TUNE_LR = 2e-3
FINE_TUNE_MINUTES = 10.0
ADAPT_LR = 2e-3
ADAPT_FROZEN = ["accomp_mask", "past_start", "future_end", "mel_kind", "mel_pitch", "beat_step",
                "bar_step", "key", "bar_len", "accomp_in", "frame_in", "lstm_past", "lstm_future"]
"""Few-shot adaptation trains the generator and its conditioning only: the encoder (the
LSTMs and what feeds them) stays the base style's, which halves the cost of a step."""
ADAPT_SECONDS = 40.0
SPLITS_NAME = "splits.json"

Gridder = Callable[[Song, Parts], Grid]
"""How a style grids a song (:meth:`Style.grid <styletx.styles.Style.grid>`)."""


def new_style_grid(steps_per_beat: int) -> Gridder:
    """How a style trained from scratch will grid a song: at ``steps_per_beat``, chords at
    :class:`StyleInfo`'s default harmonic rhythm, which its ``style.json`` keeps
    (:func:`user_style_info`)."""
    return lambda song, parts: build_grid(song, parts, steps_per_beat, StyleInfo.harmonic_rhythm)


# ------------------------------------------------------------------ reading a folder


@dataclass
class FolderFile:
    """One usable file of a user's folder."""

    path: Path
    name: str  # path relative to the folder (or the path itself for loose files)
    digest: str  # SHA-1 of the file's bytes: its split and its source id
    song: Song
    parts: Parts
    beats: float  # quarter notes from the start to the last note's end
    meters: list[str]
    split: Split = "train"


@dataclass
class Skipped:
    name: str
    reason: str


@dataclass
class FolderCorpus:
    """The usable files of a folder, the skipped ones with their reasons, and the grid choice."""

    root: Path
    files: list[FolderFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    steps_per_beat: int = 4
    steps_reason: str = ""

    @property
    def beats(self) -> float:
        return float(sum(f.beats for f in self.files))

    def summary(self) -> dict:
        """JSON-ready facts about the data: files, skips, meters, beats, density, split."""
        acc_notes = sum(len(t.notes) for f in self.files for t in f.parts.accompaniment)
        mel_notes = sum(len(f.parts.melody.notes) for f in self.files)
        meters = Counter(m for f in self.files for m in f.meters)
        beats = max(self.beats, 1e-9)
        return {
            "folder": str(self.root),
            "files_used": len(self.files),
            "files_skipped": len(self.skipped),
            "skipped": [{"file": s.name, "reason": s.reason} for s in self.skipped],
            "meters": dict(meters.most_common()),
            "beats": round(self.beats, 2),
            "accompaniment_notes_per_beat": round(acc_notes / beats, 3),
            "melody_notes_per_beat": round(mel_notes / beats, 3),
            "steps_per_beat": self.steps_per_beat,
            "steps_reason": self.steps_reason,
            "split": {s: sum(f.split == s for f in self.files) for s in ("train", "valid", "test")},
        }

    def format_summary(self) -> str:
        """The one-screen summary ``train --data`` prints."""
        s = self.summary()
        meters = ", ".join(f"{m} ({n} files)" for m, n in s["meters"].items()) or "none"
        reasons = Counter(k.reason.split(":")[0] for k in self.skipped)
        lines = [
            f"data: {s['folder']}",
            f"  files: {s['files_used']} used, {s['files_skipped']} skipped"
            + (f" ({', '.join(f'{n} {r}' for r, n in reasons.most_common())})" if reasons else ""),
            f"  meters: {meters}",
            f"  total: {s['beats']:.0f} beats; per beat {s['accompaniment_notes_per_beat']:.2f} "
            f"accompaniment notes, {s['melody_notes_per_beat']:.2f} melody notes",
            f"  grid: {s['steps_per_beat']} steps per beat ({s['steps_reason']})",
            f"  split by file: {s['split']['train']} train, {s['split']['valid']} valid, "
            f"{s['split']['test']} test",
        ]
        return "\n".join(lines)

    def split_record(self) -> dict:
        """``splits.json``: which file went where, and the rule."""
        out: dict = {"rule": "SHA-1 of the file's bytes modulo 10: 8 = valid, 9 = test, else train "
                             "(styletx/training/splits.py); with fewer than 10 files at least one file is "
                             "moved to valid, and to test from 5 files on"}
        for s in ("train", "valid", "test"):
            out[s] = [{"file": f.name, "sha1": f.digest} for f in self.files if f.split == s]
        return out

    def pieces(self, steps_per_beat: int, grid: Gridder) -> list[PieceArrays]:
        """The files on the grid; files whose meter the grid cannot hold move to ``skipped``.

        ``grid`` is how the style the pieces are for grids a song (:meth:`Style.grid
        <styletx.styles.Style.grid>`, or :func:`new_style_grid` for a style still to be
        trained), at ``steps_per_beat``."""
        out: list[PieceArrays] = []
        keep: list[FolderFile] = []
        for f in self.files:
            problem = meter_problem(f.song, steps_per_beat)
            if problem:
                self.skipped.append(Skipped(f.name, f"meter the grid cannot hold: {problem}"))
                continue
            out.append(piece_from_grid(f.name, f.digest, grid(f.song, f.parts), split=f.split))
            keep.append(f)
        self.files = keep
        return out


def midi_files(folder: Path) -> list[Path]:
    """Every MIDI file and score under ``folder``, recursively, sorted (hidden folders left out)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SONG_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def meter_problem(song: Song, steps_per_beat: int) -> str | None:
    """Why the grid cannot hold one of the song's meters, or ``None``."""
    from styletx.music.timing import meter_map

    for ts in meter_map(song):
        quarters = 4 * ts.numerator / ts.denominator
        steps = quarters * steps_per_beat
        if quarters > MAX_BAR_BEATS:
            return f"{ts.numerator}/{ts.denominator} bars are longer than {MAX_BAR_BEATS} beats"
        if steps > MAX_BAR_STEPS:
            return (f"{ts.numerator}/{ts.denominator} bars hold {steps:g} steps at "
                    f"{steps_per_beat} steps per beat (at most {MAX_BAR_STEPS})")
        if abs(steps - round(steps)) > 1e-9:
            return (f"{ts.numerator}/{ts.denominator} bars are not a whole number of steps at "
                    f"{steps_per_beat} steps per beat")
    return None


def _meters(song: Song) -> list[str]:
    from styletx.music.timing import meter_map

    return sorted({f"{ts.numerator}/{ts.denominator}" for ts in meter_map(song)})


def read_one(path: Path, name: str, melody_track: int | str | None = None) -> FolderFile | Skipped:
    """Read one file for training, or say why it cannot be used."""
    from styletx.music.parts import select_parts

    try:
        data = path.read_bytes()
        song = read_song(path)
        parts = select_parts(song, melody_track)
    except NoMelodyError as e:
        return Skipped(name, f"no melody: {_first_clause(e)}")
    except BadMidiError as e:
        text = str(e)
        if "only drums" in text or "drums only" in text:
            return Skipped(name, "drums only")
        return Skipped(name, f"unreadable: {_first_clause(e)}")
    except (StyleTxError, OSError) as e:
        return Skipped(name, f"unreadable: {_first_clause(e)}")
    if not any(t.notes for t in parts.accompaniment):
        return Skipped(name, "no accompaniment: only a melody, nothing to learn from")
    end = max(n.end for t in [parts.melody, *parts.accompaniment] for n in t.notes)
    beats = end / song.resolution
    if beats < MIN_BEATS:
        return Skipped(name, f"too short: {beats:.1f} beats of music (at least {MIN_BEATS})")
    return FolderFile(path=path, name=name, digest=hashlib.sha1(data).hexdigest(), song=song,
                      parts=parts, beats=beats, meters=_meters(song))


def _first_clause(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text.split(";")[0]


def read_files(
    paths: Sequence[Path], root: Path | None = None, melody_track: int | str | None = None,
) -> FolderCorpus:
    """Read files (a folder's, or given ones), split them by hash and choose the grid."""
    corpus = FolderCorpus(root=root or Path("."))
    for path in paths:
        name = str(path.relative_to(root)) if root else str(path)
        got = read_one(path, name, melody_track)
        (corpus.skipped if isinstance(got, Skipped) else corpus.files).append(got)
    assign_splits(corpus.files)
    corpus.steps_per_beat, corpus.steps_reason = detect_steps_per_beat(corpus.files)
    return corpus


def read_folder(folder: Path, melody_track: int | str | None = None) -> FolderCorpus:
    """Read a folder for ``train --data``; raises when there is nothing usable in it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StyleTxError(f"--data {folder}: not a folder")
    paths = midi_files(folder)
    if not paths:
        raise StyleTxError(f"--data {folder}: no MIDI files or scores (.mid, .midi, .musicxml, .mxl) "
                           "in it or below it")
    corpus = read_files(paths, folder, melody_track)
    if not corpus.files:
        reasons = Counter(s.reason.split(":")[0] for s in corpus.skipped)
        raise StyleTxError(
            f"--data {folder}: no usable MIDI file among {len(paths)} "
            f"({', '.join(f'{n} {r}' for r, n in reasons.most_common())})")
    return corpus


def assign_splits(files: list[FolderFile]) -> None:
    """Split by the SHA-1 of each file (:func:`styletx.training.splits.split_of`), then make sure a
    small folder still has a validation file (from 2 files) and a test file (from 5)."""
    for f in files:
        f.split = split_of(f.digest)
    by_hash = sorted(files, key=lambda f: f.digest)
    for split, minimum in (("valid", 2), ("test", 5)):
        if len(files) >= minimum and not any(f.split == split for f in files):
            train = [f for f in by_hash if f.split == "train"]
            if len(train) > 1:
                train[-1].split = split  # type: ignore[assignment]


def detect_steps_per_beat(files: Sequence[FolderFile]) -> tuple[int, str]:
    """4, 6 or 12 steps per beat: what the data's onsets need.

    Each onset's position in its beat is classed as straight (a multiple of 1/4 beat) or
    triplet (1/3, 2/3, 1/6 or 5/6). Triplets on at least 5 % of the onsets need 6 steps;
    if sixteenths off the eighths (1/4, 3/4) are also that common, 12.
    """
    straight16 = triplet = total = 0
    for f in files:
        res = f.song.resolution
        tol = res / 48
        for t in [f.parts.melody, *f.parts.accompaniment]:
            for n in t.notes:
                pos = (n.start % res) / res
                total += 1
                if any(abs(pos - x) <= tol / res for x in (0.25, 0.75)):
                    straight16 += 1
                elif any(abs(pos - x) <= tol / res for x in (1 / 6, 1 / 3, 2 / 3, 5 / 6)):
                    triplet += 1
    if total == 0:
        return 4, "no onsets"
    t_share, s_share = triplet / total, straight16 / total
    why = f"{t_share:.0%} of onsets on triplet positions, {s_share:.0%} on sixteenths"
    if t_share >= 0.05:
        return (12 if s_share >= 0.05 else 6), why
    return 4, why


def pitch_window(pieces: Sequence[PieceArrays]) -> tuple[int, int]:
    """``(lo, hi)`` (hi exclusive) covering the data's accompaniment, at least three octaves."""
    used = np.nonzero(np.any([p.accomp.any(axis=0) for p in pieces], axis=0))[0]
    lo, hi = (int(used.min()), int(used.max()) + 1) if used.size else (48, 72)
    while hi - lo < 36:
        lo, hi = max(lo - 1, 21), min(hi + 1, 109)
    return max(lo, 21), min(hi, 109)


# ------------------------------------------------------------------- nearest style


def style_fit(style: Style, pieces: Sequence[PieceArrays]) -> float:
    """Nats per beat of ``pieces`` under ``style``'s model (:func:`styletx.training.train.frame_nll`
    per frame, times the frames of a beat). Lower fits better."""
    from styletx.training.train import frame_nll

    return frame_nll(style.model, list(pieces)) * style.steps_per_beat


def nearest_style(
    corpus: FolderCorpus, candidates: Sequence[str] | None = None, max_pieces: int = 4,
    max_beats: int = 64,
) -> tuple[str, dict[str, float]]:
    """The shipped style whose model fits the files best (lowest NLL per beat), and every fit.

    Scored on the first ``max_beats`` beats of at most ``max_pieces`` files."""
    from styletx.styles import load_style, shipped_styles

    names = list(candidates) if candidates else shipped_styles()
    if not names:
        raise StyleTxError("no shipped style to adapt from")
    fits: dict[str, float] = {}
    for name in names:
        style = load_style(name)
        trial = FolderCorpus(root=corpus.root, files=list(corpus.files[:max_pieces]))
        pieces = trial.pieces(style.steps_per_beat, style.grid)
        # the first bars of each file are enough to tell the styles apart, at a fraction
        # of the cost (this runs inside render --style-from's time budget)
        limit = max_beats * style.steps_per_beat
        pieces = [replace(p, melody=p.melody[:limit], accomp=p.accomp[:limit], meta=p.meta[:limit])
                  for p in pieces]
        fits[name] = style_fit(style, pieces) if pieces else math.inf
    return min(fits, key=fits.__getitem__), fits


# ------------------------------------------------------------------- installing


def partial_dir(target: Path) -> Path:
    """The hidden folder a run into ``target`` writes before it is renamed into place."""
    return target.parent / f".{target.name}.partial"


def install(partial: Path, target: Path) -> Path:
    """Rename a finished run into place, replacing an older ``target`` (atomic on one disk)."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old"
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    partial.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def check_name(name: str, target: Path, force: bool) -> None:
    """Refuse a name that shadows a shipped style, or an existing style, without ``force``."""
    from styletx.styles import shipped_styles

    if not name or name.startswith(".") or any(c in name for c in "/\\:") or name in (".", ".."):
        raise StyleTxError(f"bad style name {name!r}: use letters, digits, '-' or '_'")
    if name in shipped_styles() and not force:
        raise StyleTxError(f"{name!r} is a shipped style; choose another name, or --force to "
                           "install a user style that hides it")
    if target.exists() and not force:
        raise StyleTxError(f"a style is already installed at {target}; use --force to replace it")


def user_style_info(name: str, corpus: FolderCorpus, base_dir: Path | None,
                    description: str) -> StyleInfo:
    """``StyleInfo`` of a user style: the base's instruments and sampling settings when
    fine-tuned, else a comping part and a bass with the data's most common programs."""
    from styletx.music.arrange import PartSpec
    from styletx.styles import read_info

    meters = sorted({m for f in corpus.files for m in f.meters})
    if base_dir is not None:
        base = read_info(base_dir)
        return replace(base, name=name, description=description,
                       provenance=f"user: {corpus.root}", meters=meters)
    programs = Counter(t.program for f in corpus.files for t in f.parts.accompaniment if t.notes)
    comp = programs.most_common(1)[0][0] if programs else 0
    return StyleInfo(name=name, description=description, provenance=f"user: {corpus.root}",
                     meters=meters, instrumentation=[PartSpec("Comping", comp),
                                                     PartSpec("Bass", 32, role="bass")],
                     prior=HarmonyPrior(non_chord=2.0, bass_root=2.0))


# -------------------------------------------------------------- train --data


@dataclass
class OwnTrainOptions:
    name: str
    data: Path
    output: Path | None = None
    base: str | None = None  # --from STYLE
    scratch: bool = False
    melody_track: int | str | None = None
    steps_per_beat: int | None = None
    epochs: int | None = None
    max_minutes: float | None = None
    max_steps_per_epoch: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    model: dict | None = None
    seed: int = 0
    force: bool = False
    resume: bool = False
    device: str = "auto"
    progress: bool = True
    command: str = ""


def train_from_folder(opts: OwnTrainOptions, echo: Callable[[str], None] = print) -> Path:
    """``styletx train --style NAME --data DIR``: read, report, train, install. Returns the
    installed folder."""
    from styletx.styles import load_style, shipped_styles, user_styles_dir
    from styletx.training.card import write_model_card
    from styletx.training.train import train

    target = Path(opts.output) if opts.output else user_styles_dir() / opts.name
    partial = partial_dir(target)
    if not (opts.resume and partial.exists()):
        check_name(opts.name, target, opts.force)
    corpus = read_folder(opts.data, opts.melody_track)

    base = opts.base
    base_note = ""
    if base is None and not opts.scratch and corpus.beats < SMALL_DATA_BEATS:
        base, fits = nearest_style(corpus)
        base_note = (f"small data ({corpus.beats:.0f} beats < {SMALL_DATA_BEATS}): fine-tuning "
                     f"the nearest shipped style, {base} (NLL per beat: "
                     + ", ".join(f"{k} {v:.1f}" for k, v in sorted(fits.items(), key=lambda x: x[1]))
                     + "); --scratch trains from scratch")
    base_dir = None
    if base is not None:
        if base not in shipped_styles():
            from styletx.styles import style_dirs

            if base not in style_dirs():
                raise StyleTxError(f"--from {base!r}: no such style; shipped styles: "
                                   f"{', '.join(shipped_styles())}")
        base_style = load_style(base)
        base_dir = base_style.directory
        steps = base_style.steps_per_beat
        if opts.steps_per_beat and opts.steps_per_beat != steps:
            raise StyleTxError(f"--steps-per-beat {opts.steps_per_beat}: the base style {base} "
                               f"has {steps} steps per beat")
        if corpus.steps_per_beat > steps:
            base_note += (f"{'; ' if base_note else ''}the data would want "
                          f"{corpus.steps_per_beat} steps per beat; {base} has {steps}")
        corpus.steps_reason = f"the base style {base}'s; data: {corpus.steps_reason}"
        corpus.steps_per_beat = steps
        lo, hi = base_style.model.cfg.pitch_lo, base_style.model.cfg.pitch_hi
        grid = base_style.grid
    else:
        if opts.steps_per_beat:
            corpus.steps_reason = f"--steps-per-beat; data: {corpus.steps_reason}"
            corpus.steps_per_beat = opts.steps_per_beat
        steps = corpus.steps_per_beat
        grid = new_style_grid(steps)
    pieces = corpus.pieces(steps, grid)
    for s in corpus.skipped:
        print(f"skipped {s.name}: {s.reason}", file=sys.stderr)
    if not pieces:
        raise StyleTxError(f"--data {opts.data}: no file fits the grid "
                           f"({'; '.join(s.reason for s in corpus.skipped[-3:])})")
    if base is None:
        lo, hi = pitch_window(pieces)
    echo(corpus.format_summary())
    if base_note:
        echo(base_note)
    echo(f"base model: {base or 'none (from scratch)'}; training into {partial}")

    # a fine-tuned model keeps its base's architecture (train() loads it from init_from)
    model_cfg = ModelConfig.from_dict({"steps_per_beat": steps, "pitch_lo": lo, "pitch_hi": hi,
                                       **((opts.model or {}) if base is None else {})})
    cfg = TrainConfig(
        style=opts.name, chunk_frames=CHUNK_BEATS * steps, max_transpose=6, seed=opts.seed,
        lr=opts.lr or (FINE_TUNE_LR if base else 2e-3),
        batch_size=16 if base else 32, freeze=list(ADAPT_FROZEN) if base else [],
        max_minutes=opts.max_minutes if opts.max_minutes is not None else (
            FINE_TUNE_MINUTES if base else None),
    )
    for key, value in (("epochs", opts.epochs), ("max_steps_per_epoch", opts.max_steps_per_epoch),
                       ("batch_size", opts.batch_size)):
        if value is not None:
            cfg = replace(cfg, **{key: value})
    resume = opts.resume and (partial / "train_state.pt").exists()
    if opts.resume and not resume:
        echo(f"nothing to resume in {partial}: starting afresh")
    if not resume and partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    replace_file(partial / SPLITS_NAME, json.dumps(corpus.split_record(), indent=1) + "\n")
    extra = {"user_data": corpus.summary(), "base_style": base, "base_note": base_note,
             "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    try:
        train(model_cfg, cfg, partial, device=opts.device, resume=resume, progress=opts.progress,
              command=opts.command, pieces=pieces, init_from=None if resume else base_dir,
              extra=extra)
    except KeyboardInterrupt:
        print(f"styletx: training interrupted; the best checkpoint so far is in {partial}: run "
              "the same command with --resume to continue (nothing was installed)", file=sys.stderr)
        raise
    record_path = partial / TRAIN_RECORD_NAME
    record = json.loads(record_path.read_text())
    record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    replace_file(record_path, json.dumps(record, indent=1))
    desc = (f"User style trained on {len(corpus.files)} MIDI files"
            + (f", fine-tuned from {base}" if base else ""))
    user_style_info(opts.name, corpus, base_dir, desc).save(partial)
    write_model_card(partial)
    return install(partial, target)


# -------------------------------------------------------------- few-shot


@dataclass
class Adapted:
    """A style adapted to examples (:func:`adapt`)."""

    style: Style
    base: str
    fits: dict[str, float]
    steps: int
    seconds: float
    directory: Path
    """The work folder the weights were trained in (:func:`adapt_style` removes it once loaded)."""
    examples: list[str]
    saved: Path | None = None
    """The user style's folder, when :func:`adapt_style` kept it (``save_as``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what was adapted from what, how long it took and where it was saved
        (a fit not measured, when the base was given, is null)."""
        fits = {k: None if math.isnan(v) else v for k, v in self.fits.items()}
        return {"style": self.style.name, "base": self.base, "fits": fits, "steps": self.steps,
                "seconds": self.seconds, "examples": self.examples,
                "saved": None if self.saved is None else str(self.saved), "summary": self.describe()}

    def describe(self) -> str:
        ranked = ", ".join(f"{k} {v:.1f}" for k, v in sorted(self.fits.items(), key=lambda x: x[1]))
        how = f"nearest shipped style: {self.base}" if len(self.fits) > 1 else f"base style: {self.base}"
        return (f"{how} (NLL per beat of the example{'s' if len(self.examples) > 1 else ''}: "
                f"{ranked}); fine-tuned {self.steps} steps in {self.seconds:.1f} s")


def adapt(
    examples: Sequence[str | Path],
    *,
    base: str | None = None,
    seconds: float = ADAPT_SECONDS,
    max_steps: int | None = None,
    melody_track: int | str | None = None,
    seed: int = 0,
    workdir: Path | None = None,
    name: str = "adapted",
) -> Adapted:
    """Fine-tune the nearest shipped style (or ``base``) on a few example files.

    The examples are read like ``train --data`` files; every one is a training piece
    (and the validation set: there is nothing to hold out). Training stops after
    ``seconds`` or ``max_steps`` optimizer steps, whichever comes first; each step is a
    batch of 16 random chunks, transposed within ±6 semitones, and updates the generator
    side only (:data:`ADAPT_FROZEN`). The base style's instruments, sampling settings and
    chord model are kept.
    """
    import torch

    from styletx.styles import load_style, read_info
    from styletx.training.train import train

    t0 = time.perf_counter()
    paths = [Path(p) for p in examples]
    corpus = read_files(paths)
    if corpus.skipped:
        s = corpus.skipped[0]
        raise StyleTxError(f"--style-from {s.name}: {s.reason}")
    if base is None:
        base, fits = nearest_style(corpus)
    else:
        fits = {base: float("nan")}
    base_style = load_style(base)
    for f in corpus.files:
        f.split = "train"
    pieces = corpus.pieces(base_style.steps_per_beat, base_style.grid)
    if not pieces:
        raise StyleTxError(f"--style-from: {corpus.skipped[0].name}: {corpus.skipped[0].reason}")
    pieces += [replace(p, split="valid") for p in pieces]
    cfg = base_style.model.cfg
    per_epoch = 8  # steps between checkpoints (each one scores the examples once)
    # keep a tenth of what is left for the last checkpoint's scoring and the reload
    budget_min = max(0.9 * (seconds - (time.perf_counter() - t0)), 1.0) / 60
    steps_cap = max_steps if max_steps is not None else 100_000
    tc = TrainConfig(
        style=name, chunk_frames=CHUNK_BEATS * cfg.steps_per_beat, batch_size=16, lr=ADAPT_LR,
        max_transpose=6,
        epochs=max(1, math.ceil(steps_cap / per_epoch)), patience=100_000,
        steps_per_epoch=min(per_epoch, steps_cap), max_steps=steps_cap, max_minutes=budget_min,
        seed=seed, freeze=list(ADAPT_FROZEN), final_test=False,
    )
    directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="styletx-adapt-"))
    threads = torch.get_num_threads()
    try:
        record = train(cfg, tc, directory, device="cpu", progress=False,
                       command="styletx render --style-from " + " ".join(str(p) for p in paths),
                       pieces=pieces, init_from=base_style.directory,
                       extra={"base_style": base, "base_fits": fits,
                              "examples": [f.name for f in corpus.files]})
    finally:
        torch.set_num_threads(threads)
    n_steps = int(record["history"][-1].get("steps", 0)) if record["history"] else 0
    info = replace(read_info(base_style.directory), name=name,
                   description=f"{base} adapted to {len(pieces) // 2} example file(s)",
                   provenance=f"user: {base} fine-tuned on " + ", ".join(f.name for f in corpus.files),
                   meters=sorted({m for f in corpus.files for m in f.meters}
                                 | set(base_style.info.meters)))
    info.save(directory)
    if (base_style.directory / "chords.json").exists():
        # a few examples are too few to count chord habits: keep the base's
        shutil.copyfile(base_style.directory / "chords.json", directory / "chords.json")
    (directory / "train_state.pt").unlink(missing_ok=True)
    style = load_style(directory)
    return Adapted(style=style, base=base, fits=fits, steps=n_steps,
                   seconds=time.perf_counter() - t0, directory=directory,
                   examples=[f.name for f in corpus.files])


def save_adapted(adapted: Adapted, name: str, force: bool = False) -> Path:
    """Keep an adapted model as the user style ``name`` (``--save-style``)."""
    from styletx.styles import read_info, user_styles_dir
    from styletx.training.card import write_model_card

    target = user_styles_dir() / name
    check_name(name, target, force)
    partial = partial_dir(target)
    if partial.exists():
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(adapted.directory, partial)
    info = read_info(partial)
    replace(info, name=name).save(partial)
    write_model_card(partial)
    return install(partial, target)


def adapt_style(
    examples: Sequence[str | Path],
    *,
    base: str | None = None,
    seconds: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    save_as: str | None = None,
    force: bool = False,
    threads: int = 1,
) -> Adapted:
    """``render --style-from``: :func:`adapt` with its checks and clean-up, for every caller.

    A bad ``save_as`` is refused before any time is spent (:func:`check_name`).
    ``seconds`` defaults to :data:`ADAPT_SECONDS`. Training, unlike sampling, gains from
    a second thread, so it runs on ``threads`` or two, whichever is more (where the
    machine has two), and the caller's setting is restored. With ``save_as`` the model is
    kept as that user style (:func:`save_adapted`, into ``saved``); either way the work
    folder is removed once the weights are loaded, so nothing is left behind.
    """
    import os

    from styletx.model.threads import torch_threads
    from styletx.styles import user_styles_dir

    if save_as:
        check_name(save_as, user_styles_dir() / save_as, force)
    with torch_threads(max(threads, min(2, os.cpu_count() or 1))):
        adapted = adapt(examples, base=base, seconds=ADAPT_SECONDS if seconds is None else seconds,
                        max_steps=max_steps, seed=seed or 0, name=save_as or "adapted")
    try:
        saved = save_adapted(adapted, save_as, force=force) if save_as else None
    finally:
        shutil.rmtree(adapted.directory, ignore_errors=True)  # the weights are loaded
    return replace(adapted, saved=saved)
