"""Your own style: train from a folder of MIDI files, or adapt a shipped style to examples.

``styletx train --style NAME --data DIR`` reads every MIDI file under ``DIR``
(recursively), takes each file's melody by the same rule as ``render`` and the
other pitched parts (drums aside) as the accompaniment, estimates the key and a
chord track on the grid (:func:`styletx.music.grid.build_grid`), splits the files by the
SHA-1 of their bytes, and trains -- from scratch, or by fine-tuning a shipped
model (``--from``, the default for small data). The result is installed as a
*user style* (:func:`styletx.stylefolder.installed.user_styles_dir`), atomically: the run writes
into a hidden ``.NAME.partial`` folder beside the target, which becomes ``NAME``
only when training and the card are done, so Ctrl-C leaves a resumable run and
never half a style.

``styletx render in.mid --style-from ex.mid [...]`` is the few-shot path
(:func:`adapt`): the shipped style whose model gives the examples the lowest NLL
per beat is fine-tuned on them for a bounded time, then renders.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from styletx.errors import StyleTxError
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.settings import HarmonyPrior
from styletx.music.grid import build_grid
from styletx.stylefolder.format import Style, StyleFolder, StyleInfo
from styletx.training.corpus import FolderCorpus, Gridder, PieceArrays, read_files, read_folder
from styletx.training.feel import fit_files_feel
from styletx.training.recipes import CHUNK_BEATS, UserRecipe

SMALL_DATA_BEATS = 2000
"""Under this many beats of data, ``train --data`` fine-tunes a shipped model by default."""
FINE_TUNE_LR = 2e-3
FINE_TUNE_MINUTES = 10.0
ADAPT_LR = 2e-3
ADAPT_FROZEN = ["accomp_mask", "past_start", "future_end", "mel_kind", "mel_pitch", "beat_step",
                "bar_step", "key", "bar_len", "accomp_in", "frame_in", "lstm_past", "lstm_future"]
"""Few-shot adaptation trains the generator and its conditioning only: the encoder (the
LSTMs and what feeds them) stays the base style's, which halves the cost of a step."""
ADAPT_SECONDS = 40.0


def new_style_grid(steps_per_beat: int) -> Gridder:
    """How a style trained from scratch will grid a song: at ``steps_per_beat``, chords at
    :class:`StyleInfo`'s default harmonic rhythm, which its style card keeps
    (:func:`user_style_info`)."""
    return lambda song, parts: build_grid(song, parts, steps_per_beat, StyleInfo.harmonic_rhythm)


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
    from styletx.stylefolder.installed import load_style, shipped_styles

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
    from styletx.stylefolder.installed import shipped_styles

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

    meters = sorted({m for f in corpus.files for m in f.meters})
    if base_dir is not None:
        base = StyleFolder(base_dir).read_info()
        return replace(base, name=name, description=description,
                       provenance=f"user: {corpus.root}", meters=meters)
    programs = Counter(t.program for f in corpus.files for t in f.parts.accompaniment if t.notes)
    comp = programs.most_common(1)[0][0] if programs else 0
    return StyleInfo(name=name, description=description, provenance=f"user: {corpus.root}",
                     meters=meters, instrumentation=[PartSpec("Comping", comp),
                                                     PartSpec("Bass", 32, role="bass")],
                     prior=HarmonyPrior(non_chord=2.0, bass_root=2.0))


# -------------------------------------------------------------- train --data / --recipe


@dataclass
class OwnTrainOptions:
    """A user recipe (what to train) and how to run it (where, on what, resumed or not)."""

    recipe: UserRecipe
    output: Path | None = None
    force: bool = False
    resume: bool = False
    device: str = "auto"
    progress: bool = True
    command: str = ""


def train_from_folder(opts: OwnTrainOptions, echo: Callable[[str], None] = print) -> Path:
    """``styletx train --recipe FILE`` or ``--style NAME --data DIR``: read, report, train,
    install. The recipe is saved in the style folder. Returns the installed folder."""
    from styletx.stylefolder.installed import load_style, shipped_styles, style_dirs, user_styles_dir
    from styletx.training.card import write_model_card
    from styletx.training.train import train

    r = opts.recipe
    target = Path(opts.output) if opts.output else user_styles_dir() / r.name
    partial = partial_dir(target)
    if not (opts.resume and partial.exists()):
        check_name(r.name, target, opts.force)
    corpus = read_folder(r.data.path, r.data.melody_track)

    base = r.base
    base_note = ""
    if base is None and not r.scratch and corpus.beats < SMALL_DATA_BEATS:
        base, fits = nearest_style(corpus)
        base_note = (f"small data ({corpus.beats:.0f} beats < {SMALL_DATA_BEATS}): fine-tuning "
                     f"the nearest shipped style, {base} (NLL per beat: "
                     + ", ".join(f"{k} {v:.1f}" for k, v in sorted(fits.items(), key=lambda x: x[1]))
                     + "); --scratch trains from scratch")
    base_dir = None
    if base is not None:
        if base not in shipped_styles() and base not in style_dirs():
            raise StyleTxError(f"--from {base!r}: no such style; shipped styles: "
                               f"{', '.join(shipped_styles())}")
        base_style = load_style(base)
        base_dir = base_style.directory
        steps = base_style.steps_per_beat
        if r.steps_per_beat and r.steps_per_beat != steps:
            raise StyleTxError(f"--steps-per-beat {r.steps_per_beat}: the base style {base} "
                               f"has {steps} steps per beat")
        if corpus.steps_per_beat > steps:
            base_note += (f"{'; ' if base_note else ''}the data would want "
                          f"{corpus.steps_per_beat} steps per beat; {base} has {steps}")
        corpus.steps_reason = f"the base style {base}'s; data: {corpus.steps_reason}"
        corpus.steps_per_beat = steps
        lo, hi = base_style.model.cfg.pitch_lo, base_style.model.cfg.pitch_hi
        grid = base_style.grid
    else:
        if r.steps_per_beat:
            corpus.steps_reason = f"--steps-per-beat; data: {corpus.steps_reason}"
            corpus.steps_per_beat = r.steps_per_beat
        steps = corpus.steps_per_beat
        grid = new_style_grid(steps)
    pieces = corpus.pieces(steps, grid)
    for s in corpus.skipped:
        print(f"skipped {s.name}: {s.reason}", file=sys.stderr)
    if not pieces:
        raise StyleTxError(f"--data {r.data.path}: no file fits the grid "
                           f"({'; '.join(s.reason for s in corpus.skipped[-3:])})")
    if base is None:
        lo, hi = pitch_window(pieces)
    echo(corpus.format_summary())
    if base_note:
        echo(base_note)
    echo(f"base model: {base or 'none (from scratch)'}; training into {partial}")

    # a fine-tuned model keeps its base's architecture (train() loads it from init_from)
    model_cfg = ModelConfig.from_dict({"steps_per_beat": steps, "pitch_lo": lo, "pitch_hi": hi,
                                       **((r.model or {}) if base is None else {})})
    cfg = TrainConfig(
        style=r.name, chunk_frames=CHUNK_BEATS * steps, max_transpose=6, seed=r.seed,
        lr=r.lr or (FINE_TUNE_LR if base else 2e-3),
        batch_size=16 if base else 32, freeze=list(ADAPT_FROZEN) if base else [],
        max_minutes=r.max_minutes if r.max_minutes is not None else (
            FINE_TUNE_MINUTES if base else None),
    )
    for key, value in (("epochs", r.epochs), ("max_steps_per_epoch", r.max_steps_per_epoch),
                       ("batch_size", r.batch_size)):
        if value is not None:
            cfg = replace(cfg, **{key: value})
    folder = StyleFolder(partial)
    resume = opts.resume and folder.train_state.exists()
    if opts.resume and not resume:
        echo(f"nothing to resume in {partial}: starting afresh")
    if not resume and partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    folder.write_splits(corpus.split_record())
    folder.write_recipe(r.to_dict())
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
    record = folder.read_record()
    record.finished = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    folder.write_record(record)
    desc = r.description or (f"User style trained on {len(corpus.files)} MIDI files"
                              + (f", fine-tuned from {base}" if base else ""))
    user_style_info(r.name, corpus, base_dir, desc).save(partial)
    fit_files_feel([(f.song, f.parts) for f in corpus.files if f.split == "train"], partial,
                   f"the train split of {r.data.path}",
                   StyleFolder(base_dir).read_feel() if base_dir else None)
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

    from styletx.stylefolder.installed import load_style
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
    info = replace(base_style.info, name=name,
                   description=f"{base} adapted to {len(pieces) // 2} example file(s)",
                   provenance=f"user: {base} fine-tuned on " + ", ".join(f.name for f in corpus.files),
                   meters=sorted({m for f in corpus.files for m in f.meters}
                                 | set(base_style.info.meters)))
    folder = StyleFolder(directory)
    folder.write_info(info)
    # a few examples are too few to count chord habits: keep the base's
    folder.copy_chords_from(StyleFolder(base_style.directory))
    fit_files_feel([(f.song, f.parts) for f in corpus.files], directory,
                   "the examples " + ", ".join(f.name for f in corpus.files), base_style.feel)
    folder.train_state.unlink(missing_ok=True)
    style = load_style(directory)
    return Adapted(style=style, base=base, fits=fits, steps=record.steps,
                   seconds=time.perf_counter() - t0, directory=directory,
                   examples=[f.name for f in corpus.files])


def save_adapted(adapted: Adapted, name: str, force: bool = False) -> Path:
    """Keep an adapted model as the user style ``name`` (``--save-style``)."""
    from styletx.stylefolder.installed import user_styles_dir
    from styletx.training.card import write_model_card

    target = user_styles_dir() / name
    check_name(name, target, force)
    partial = partial_dir(target)
    if partial.exists():
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    folder = StyleFolder(partial)
    folder.copy_run_from(StyleFolder(adapted.directory))
    folder.write_info(replace(folder.read_info(), name=name))
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
    from styletx.stylefolder.installed import user_styles_dir

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
