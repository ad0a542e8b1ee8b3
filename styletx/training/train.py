"""Training one style model: chunks of corpus grids, teacher forcing, early stopping.

Every optimisation step scores all pitches of all frames of a batch of chunks in
one forward pass (the generator is teacher-forced over the pitch axis). Each
chunk is transposed by a random shift that keeps its accompaniment inside the
model's pitch range, so one epoch sees the corpus in many keys.

The run writes a style folder (:class:`styletx.stylefolder.format.StyleFolder`), each
file atomically: the best weights on the validation split and the :class:`ModelConfig`,
the chord habits of the training data, the :class:`~styletx.stylefolder.format.TrainRecord`
(the :class:`TrainConfig`, the command line, data counts, timings, held-out metrics)
and the optimizer state and epoch (plain tensors, for ``--resume``).
"""

from __future__ import annotations

import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from styletx.errors import StyleTxError
from styletx.io.files import replace_file
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.network import StyleNet, resolve_device, weights_bytes
from styletx.music.chords import NO_CHORD, ChordModel, transpose_track
from styletx.music.encoding import (
    META_BAR_STEP,
    META_CHORD,
    META_KEY,
    N_META,
    OFF,
    ONSET,
    transpose_key,
    transpose_melody,
)
from styletx.music.metrics import in_key_share
from styletx.stylefolder.format import StyleFolder, TrainRecord
from styletx.training.corpus import PieceArrays, load_corpus


@dataclass
class Batch:
    melody: torch.Tensor
    accomp: torch.Tensor
    meta: torch.Tensor
    mask: torch.Tensor  # real (not padding) frames
    masked: torch.Tensor | None = None  # frames hidden from the context, as in a block update


def crop_accomp(accomp: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``[T, 128]`` → ``[T, hi - lo]``: the model's pitch window (notes outside are dropped)."""
    return accomp[:, lo:hi]


def valid_shifts(piece: PieceArrays, lo: int, hi: int, max_shift: int) -> list[int]:
    """Transpositions that keep every accompaniment note inside ``[lo, hi)``.

    A piece whose accompaniment never fits gets ``[0]`` and loses its outliers.
    """
    used = np.nonzero(piece.accomp.any(axis=0))[0]
    if used.size == 0:
        return [0]
    low, high = int(used.min()), int(used.max())
    shifts = [s for s in range(-max_shift, max_shift + 1) if low + s >= lo and high + s < hi]
    return shifts or [0]


def transpose_piece(piece: PieceArrays, shift: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Melody tokens, full roll and meta of a piece moved by ``shift`` semitones."""
    melody = transpose_melody(piece.melody, shift)
    accomp = piece.accomp
    meta = piece.meta.copy()
    if shift:
        accomp = np.roll(accomp, shift, axis=1)
        if shift > 0:
            accomp[:, :shift] = OFF
        else:
            accomp[:, shift:] = OFF
        meta[:, META_KEY] = transpose_key(meta[:, META_KEY], shift)
        meta[:, META_CHORD] = transpose_track(meta[:, META_CHORD], shift)
    return melody, accomp, meta


def make_batch(items: list[tuple[np.ndarray, np.ndarray, np.ndarray]], lo: int, hi: int) -> Batch:
    """Pad chunks of unequal length into tensors, with a mask of real frames."""
    length = max(m.shape[0] for m, _, _ in items)
    n = len(items)
    melody = np.zeros((n, length), dtype=np.int64)
    accomp = np.zeros((n, length, hi - lo), dtype=np.int64)
    meta = np.zeros((n, length, N_META), dtype=np.int64)
    mask = np.zeros((n, length), dtype=bool)
    for i, (m, a, me) in enumerate(items):
        t = m.shape[0]
        melody[i, :t] = m
        accomp[i, :t] = crop_accomp(a, lo, hi)
        meta[i, :t] = me
        mask[i, :t] = True
    return Batch(
        torch.from_numpy(melody), torch.from_numpy(accomp), torch.from_numpy(meta), torch.from_numpy(mask)
    )


class ChunkSampler:
    """Random training chunks: piece chosen by length, random start, random valid shift."""

    def __init__(
        self, pieces: list[PieceArrays], grid: ModelConfig, cfg: TrainConfig, rng: np.random.Generator
    ):
        self.pieces = pieces
        self.grid = grid
        self.cfg = cfg
        self.rng = rng
        lengths = np.array([p.n_frames for p in pieces], dtype=float)
        self.weights = lengths / lengths.sum()
        self.shifts = [valid_shifts(p, grid.pitch_lo, grid.pitch_hi, cfg.max_transpose) for p in pieces]
        self.total_frames = int(lengths.sum())

    def steps_per_epoch(self) -> int:
        if self.cfg.steps_per_epoch:
            return self.cfg.steps_per_epoch
        steps = math.ceil(self.total_frames / (self.cfg.batch_size * self.cfg.chunk_frames))
        return min(steps, self.cfg.max_steps_per_epoch or steps)

    def batch(self) -> Batch:
        items = []
        for idx in self.rng.choice(len(self.pieces), size=self.cfg.batch_size, p=self.weights):
            piece = self.pieces[idx]
            shift = int(self.rng.choice(self.shifts[idx]))
            start = int(self.rng.integers(0, max(1, piece.n_frames - self.cfg.chunk_frames + 1)))
            stop = start + self.cfg.chunk_frames
            melody, accomp, meta = transpose_piece(piece, shift)
            meta = meta[start:stop]
            if self.rng.random() < self.cfg.chord_dropout:
                meta[:, META_CHORD] = NO_CHORD
            items.append((melody[start:stop], accomp[start:stop], meta))
        batch = make_batch(items, self.grid.pitch_lo, self.grid.pitch_hi)
        batch.masked = torch.from_numpy(self.spans(batch.mask.shape)) & batch.mask
        return batch

    def spans(self, shape: tuple[int, int]) -> np.ndarray:
        """Random masked spans (1 to 3 per chunk, up to ``max_span_beats`` long).

        The sampler redraws whole blocks of frames with the block hidden from the
        context; training on the same kind of gaps teaches the model to fill them,
        instead of only copying a note across from its fixed neighbours.
        """
        masked = np.zeros(shape, dtype=bool)
        longest = max(1, self.cfg.max_span_beats * self.grid.steps_per_beat)
        for row in range(shape[0]):
            if self.rng.random() >= self.cfg.mask_prob:
                continue
            for _ in range(int(self.rng.integers(1, 4))):
                length = int(self.rng.integers(1, longest + 1))
                start = int(self.rng.integers(0, max(1, shape[1] - length + 1)))
                masked[row, start : start + length] = True
        return masked


def alternate_bars(meta: np.ndarray) -> np.ndarray:
    """``bool [T]``: every other bar (odd bars), from the bar-step column of ``meta``."""
    bar = np.cumsum(meta[:, META_BAR_STEP] == 0)
    return bar % 2 == 1


@torch.inference_mode()
def evaluate(
    model: StyleNet, pieces: list[PieceArrays], device: torch.device, blocks: bool = False
) -> dict[str, float]:
    """Held-out metrics on whole pieces (untransposed), teacher-forced.

    Returns the per-cell NLL in nats (unweighted), the accuracy on onset cells,
    and the share of predicted onsets (argmax) whose pitch class is in the key,
    beside the same share for the true accompaniment.

    With ``blocks``, every other bar is hidden from the context, as the block
    sampler hides what it redraws, and only those bars are scored: the frames
    of a whole bar must be predicted from the melody and the bars around it,
    a harder and more telling measure than the one-frame conditional (where
    the neighbouring frames nearly give a held note away).
    """
    model.eval()
    cfg = model.cfg
    nll_sum = cells = onset_hits = onsets = 0.0
    pred_in_key: list[float] = []
    true_in_key: list[float] = []
    for piece in pieces:
        batch = make_batch([transpose_piece(piece, 0)], cfg.pitch_lo, cfg.pitch_hi)
        masked = torch.from_numpy(alternate_bars(piece.meta))[None].to(device) if blocks else None
        logits = model(batch.melody.to(device), batch.accomp.to(device), batch.meta.to(device),
                       masked=masked)
        target = batch.accomp.to(device)
        if masked is not None:
            logits, target = logits[masked][None], target[masked][None]
            key = piece.meta[:, META_KEY][masked[0].cpu().numpy()]
        else:
            key = piece.meta[:, META_KEY]
        logp = torch.log_softmax(logits.float(), dim=-1)
        nll_sum += -logp.gather(-1, target.unsqueeze(-1)).sum().item()
        cells += target.numel()
        pred = logits.argmax(-1)
        is_onset = target == ONSET
        onset_hits += (pred[is_onset] == ONSET).sum().item()
        onsets += is_onset.sum().item()
        share = in_key_share(pred[0].cpu().numpy(), key, cfg.pitch_lo)
        if not math.isnan(share):
            pred_in_key.append(share)
        true_in_key.append(in_key_share(target[0].cpu().numpy(), key, cfg.pitch_lo))
    return {
        "nll_per_cell": nll_sum / max(cells, 1),
        "onset_accuracy": onset_hits / max(onsets, 1),
        "pred_onsets_in_key": float(np.nanmean(pred_in_key)) if pred_in_key else float("nan"),
        "true_onsets_in_key": float(np.nanmean(true_in_key)) if true_in_key else float("nan"),
        "pieces": len(pieces),
    }


def frame_nll(model: StyleNet, pieces: list[PieceArrays]) -> float:
    """The pieces' accompaniment NLL under ``model`` in nats per frame: the one score of how
    typical music is for a style (``eval``'s NLL, the nearest style for your own data).

    The block condition of :func:`evaluate` (every other bar hidden and scored), its
    per-cell NLL times the pitch window's width, on the model's own device.
    """
    result = evaluate(model, pieces, next(model.parameters()).device, blocks=True)
    return float(result["nll_per_cell"]) * model.cfg.n_pitches


def split_pieces(pieces: list[PieceArrays]) -> dict[str, list[PieceArrays]]:
    out: dict[str, list[PieceArrays]] = {"train": [], "valid": [], "test": []}
    for p in pieces:
        out[p.split].append(p)
    return out


def train(
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    out_dir: Path,
    *,
    device: str = "auto",
    resume: bool = False,
    progress: bool = True,
    command: str | None = None,
    pieces: list[PieceArrays] | None = None,
    init_from: Path | None = None,
    extra: dict | None = None,
) -> TrainRecord:
    """Train a style model and write it to ``out_dir``; returns the training record.

    ``model_cfg`` is the architecture of a new model; a resumed run (``resume``) or a
    fine-tuning one (``init_from``, a checkpoint folder whose weights start the run) takes
    its checkpoint's own. ``pieces`` replaces the style's corpus (a user's MIDI folder,
    :mod:`styletx.training.own`); ``extra`` holds the run's own record fields
    (:class:`TrainRecord`'s data summary, base, examples).
    The time budget (``max_minutes``) is checked after every step, not only per epoch.
    """
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dev = resolve_device(device)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = StyleFolder(out_dir)
    resume = resume and folder.train_state.exists() and folder.has_record()
    previous = folder.read_record() if resume else None
    commands = [*(previous.commands if previous else []), command]
    start_epoch = 0
    best = math.inf
    history: list[dict] = []
    if previous is not None:
        model = folder.load_model(dev)
        model_cfg = model.cfg
        state = torch.load(folder.train_state, weights_only=True)
        start_epoch = int(state["epoch"]) + 1
        best = float(state["best"])
        history = previous.history
    elif init_from is not None:
        model = StyleFolder(init_from).load_model(dev)
        model_cfg = model.cfg
    else:
        model = StyleNet(model_cfg).to(dev)
    # the corpus on the grid of the model that trains (a loaded one's own)
    if pieces is None:
        pieces = load_corpus(cfg.style, model_cfg, limit=cfg.limit)
    splits = split_pieces(pieces)
    if (cfg.limit is not None or init_from is not None) and not splits["valid"]:
        # A tiny corpus may have no valid piece by the hash rule; validate on train then.
        splits["valid"] = splits["train"][:1]
    if not splits["train"] or not splits["valid"]:
        raise StyleTxError(f"the {cfg.style!r} corpus needs train and valid pieces")
    for name, param in model.named_parameters():
        param.requires_grad_(not any(name.startswith(prefix) for prefix in cfg.freeze))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                            weight_decay=cfg.weight_decay)
    if previous is not None:
        opt.load_state_dict(state["optimizer"])

    folder.write_chords(ChordModel.fit([p.meta for p in splits["train"]], model_cfg.steps_per_beat))
    sampler = ChunkSampler(splits["train"], model_cfg, cfg, rng)
    steps = sampler.steps_per_epoch()
    # On resume the clock continues from the recorded time, so budgets and records are totals.
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    deadline = t0 + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    total_steps = int(history[-1].get("steps", 0)) if history else 0
    step_cap = cfg.max_steps or math.inf
    bad_epochs = 0
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress,
                   file=sys.stderr, leave=False)
        running = 0.0
        for step in bar:
            if (step and time.perf_counter() > deadline) or total_steps >= step_cap:
                break
            batch = sampler.batch()
            # The generator scores a random share of the real frames (the encoder reads
            # them all): its cost dominates a step on CPU, and neighbouring frames are
            # nearly redundant as targets.
            # Masked frames are the ones the block sampler fills, so they are scored more often.
            accomp, mask = batch.accomp.to(dev), batch.mask.to(dev)
            masked = batch.masked.to(dev) if batch.masked is not None else None
            fraction = cfg.frame_fraction
            draw = torch.rand(mask.shape, device=dev)
            chosen = draw < fraction if masked is None else torch.where(masked, draw < 2 * fraction,
                                                                          draw < fraction / 2)
            frames = mask & chosen
            logits = model(batch.melody.to(dev), accomp, batch.meta.to(dev), frames=frames,
                           masked=masked)
            loss, stats = model.loss(logits, accomp[frames], cfg.class_weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total_steps += 1
            running = 0.9 * running + 0.1 * float(stats["nll"]) if step else float(stats["nll"])
            bar.set_postfix(nll=f"{running:.4f}")
        val = evaluate(model, splits["valid"], dev)
        elapsed = time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "train_nll": running, "valid": val, "seconds": elapsed,
                        "steps": total_steps})
        improved = val["nll_per_cell"] < best
        if improved:
            best = val["nll_per_cell"]
            bad_epochs = 0
            save_checkpoint(model, out_dir)
        else:
            bad_epochs += 1
        state_bytes = io.BytesIO()
        torch.save({"epoch": torch.tensor(epoch), "best": torch.tensor(best),
                    "optimizer": opt.state_dict()}, state_bytes)
        replace_file(folder.train_state, state_bytes.getvalue())
        if progress:
            print(f"epoch {epoch + 1}: train nll {running:.4f}  valid nll {val['nll_per_cell']:.4f}  "
                  f"onset acc {val['onset_accuracy']:.3f}{'  *' if improved else ''}  "
                  f"[{elapsed / 60:.1f} min]", file=sys.stderr)
        _write_record(out_dir, cfg, commands, splits, history, None, elapsed, extra)
        if bad_epochs >= cfg.patience:
            break
        if (cfg.max_minutes and time.perf_counter() > deadline) or total_steps >= step_cap:
            break

    if not cfg.final_test:
        return _write_record(out_dir, cfg, commands, splits, history, None,
                             time.perf_counter() - t0, extra)
    best_model = folder.load_model(dev)
    test = evaluate(best_model, splits["test"] or splits["valid"], dev)
    record = _write_record(out_dir, cfg, commands, splits, history, test,
                           time.perf_counter() - t0, extra)
    if progress:
        print(f"test: nll/cell {test['nll_per_cell']:.4f}  onset acc {test['onset_accuracy']:.3f}  "
              f"predicted onsets in key {test['pred_onsets_in_key']:.3f} "
              f"(data {test['true_onsets_in_key']:.3f})  on {test['pieces']} pieces", file=sys.stderr)
    return record


def save_checkpoint(model: StyleNet, directory: Path) -> None:
    """Write the weights and the architecture into the style folder ``directory``, atomically.

    A run rewrites them after every better epoch; an interrupted write leaves the
    previous best in place, never half a file.
    """
    StyleFolder(directory).write_model(weights_bytes(model), model.cfg)


def _device_name() -> str:
    """What trained the model, for the card: the GPU's name, or the CPU's core count."""
    import os

    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)}"
    return f"CPU: {os.cpu_count()} cores"


def _write_record(
    out_dir: Path, cfg: TrainConfig, commands: list[str | None], splits: dict[str, list[PieceArrays]],
    history: list[dict], test: dict | None, seconds: float, extra: dict | None = None,
) -> TrainRecord:
    import styletx

    record = TrainRecord(
        train_config=cfg,
        command=commands[-1],
        commands=[c for c in commands if c],
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        device=_device_name(),
        data={
            name: {"pieces": len(ps), "frames": int(sum(p.n_frames for p in ps)),
                   "sources": len({p.source_id for p in ps})}
            for name, ps in splits.items()
        },
        test_pieces=sorted({p.source_id for p in splits["test"]}),
        history=history,
        test_metrics=test,
        train_seconds=seconds,
        styletx_version=styletx.__version__,
        **(extra or {}),
    )
    StyleFolder(out_dir).write_record(record)
    return record


def write_style_info(style: str, out_dir: Path) -> None:
    """Write the style card of a style trained from its recipe (:mod:`styletx.training.recipes`).

    The MMA version in an MMA style's provenance is the one that rendered its corpus.
    """
    from styletx.training.mma import corpus_mma_version
    from styletx.training.recipes import MmaSpec, recipe

    r = recipe(style)
    r.style_info(corpus_mma_version(style) if isinstance(r.data, MmaSpec) else "").save(out_dir)


def train_recipe(
    style: str,
    out_dir: Path,
    *,
    model: dict | None = None,
    overrides: dict | None = None,
    device: str = "auto",
    resume: bool = False,
    progress: bool = True,
    command: str | None = None,
) -> Path:
    """``styletx train --style NAME``: train a shipped style from its recipe into ``out_dir``.

    ``model`` overrides fields of the recipe's :class:`ModelConfig`, ``overrides`` fields
    of its :class:`TrainConfig` (``None`` values are left to the recipe). Writes the
    performance feel (:mod:`styletx.training.feel`), the weights, the record, the style card
    and the model card; returns ``out_dir``.
    """
    import dataclasses

    from styletx.training.card import write_model_card
    from styletx.training.recipes import recipe

    style_recipe = recipe(style)
    model_cfg = ModelConfig.from_dict({**style_recipe.model_config().to_dict(), **(model or {})})
    cfg = dataclasses.replace(style_recipe.train_config(),
                              **{k: v for k, v in (overrides or {}).items() if v is not None})
    from styletx.training.feel import FIT_FILES, write_style_feel

    out_dir.mkdir(parents=True, exist_ok=True)
    write_style_feel(style, out_dir, limit=cfg.limit or FIT_FILES)  # checks the data before training
    train(model_cfg, cfg, out_dir, device=device, resume=resume, progress=progress, command=command)
    write_style_info(style, out_dir)
    write_model_card(out_dir)
    return out_dir
