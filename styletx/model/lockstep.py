"""Several sampling chains in lockstep, their network calls made as one batch.

A draw of one frame position is ~50 pitch steps of small operations on a few dozen frames;
on CPU most of its cost is per operation, not per frame, so drawing the frames of several
chains in one call costs little more than drawing one chain's. :func:`resample_many` runs
one :func:`~styletx.model.sampler.resample_accompaniment` per settings (say, the
candidates of a render, each with its own seed) in its own thread, each with a
:class:`_ChainModel` in place of the network: a chain's ``encode`` or ``sample_frames``
waits until every live chain has made its call, and the last to arrive makes them as few
batched calls as their shapes allow (draws under the same temperature and the same kind of
policy are one call; encodings of windows of one length are one call).

Each chain keeps its own random streams (the masker's and the network's), and its draws
are made with its own policy tensors, so a chain gives what it gives alone, up to the
rounding of a batched matmul (``tests/test_sampler.py`` checks it on a small model).
Threads only take turns here: the work is one batched call at a time, so the GIL costs
nothing, and the chains' own Python between calls runs one after another as it would in
a loop.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from styletx.model.interface import DrawPolicy, FrameModel
from styletx.model.settings import Progress, SamplerSettings

_Request = tuple[str, tuple[Any, ...]]


class _Batcher:
    """Collects one network call per live chain, then makes them as batched calls."""

    def __init__(self, model: FrameModel, chains: int) -> None:
        self.model = model
        self.live = chains
        self.pending: dict[int, _Request] = {}
        self.results: dict[int, Any] = {}
        self.error: BaseException | None = None
        self.cond = threading.Condition()

    def call(self, chain: int, kind: str, args: tuple[Any, ...]) -> Any:
        with self.cond:
            self.pending[chain] = (kind, args)
            self._run_if_all_waiting()
            self.cond.wait_for(lambda: chain in self.results or self.error is not None)
            if chain not in self.results:
                raise RuntimeError("another sampling chain failed") from self.error
            return self.results.pop(chain)

    def leave(self, error: BaseException | None = None) -> None:
        """A chain is done (or failed): the others no longer wait for it."""
        with self.cond:
            self.live -= 1
            if error is not None and self.error is None:
                self.error = error
                self.cond.notify_all()
                return
            self._run_if_all_waiting()

    def _run_if_all_waiting(self) -> None:
        if not self.pending or len(self.pending) < self.live or self.error is not None:
            return
        pending, self.pending = self.pending, {}
        try:
            with torch.inference_mode():
                self.results.update(self._run(pending))
        except BaseException as e:  # handed to every waiting chain
            self.error = e
        self.cond.notify_all()

    def _run(self, pending: dict[int, _Request]) -> dict[int, Any]:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for chain, (kind, args) in pending.items():
            groups.setdefault(_group_key(kind, args), []).append(chain)
        out: dict[int, Any] = {}
        for key, chains in groups.items():
            calls = [pending[c][1] for c in chains]
            if key[0] == "encode":
                sizes = [a[0].shape[0] for a in calls]
                joined = [None if parts[0] is None else torch.cat(parts)
                          for parts in zip(*calls, strict=True)]
                for c, part in zip(chains, self.model.encode(*joined).split(sizes), strict=True):
                    out[c] = part
            else:
                sizes = [a[0].shape[0] for a in calls]
                joined = [torch.cat(parts) for parts in zip(*(a[:5] for a in calls), strict=True)]
                policy = _join_policies([a[5] for a in calls])
                states, raw = self.model.sample_frames(*joined, policy)
                for c, s, r in zip(chains, states.split(sizes), raw.split(sizes), strict=True):
                    out[c] = (s, r)
        return out


def _group_key(kind: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Calls with the same key can be one batched call."""
    if kind == "encode":
        melody, _, _, masked = args
        return ("encode", tuple(melody.shape[1:]), masked is None)
    policy: DrawPolicy = args[5]
    return ("draw", policy.temperature, policy.gumbel is None, policy.onset_bias is None,
            policy.bass_bias is None, policy.active is None)


def _join_policies(policies: Sequence[DrawPolicy]) -> DrawPolicy:
    """One policy for the frames of several draws (pitch-major tensors join on frames)."""
    def join(field: str, dim: int) -> Tensor | None:
        parts = [getattr(p, field) for p in policies]
        return None if parts[0] is None else torch.cat(parts, dim)

    return DrawPolicy(join("forbidden", 1), policies[0].temperature, join("gumbel", 1),
                      join("onset_bias", 1), join("bass_bias", 1), join("active", 0))


class _ChainModel:
    """The network as one chain sees it: its calls go through the :class:`_Batcher`."""

    def __init__(self, batcher: _Batcher, chain: int) -> None:
        self._batcher = batcher
        self._chain = chain
        self.cfg = batcher.model.cfg

    @property
    def device(self) -> torch.device:
        return self._batcher.model.device

    def eval(self) -> _ChainModel:
        self._batcher.model.eval()
        return self

    def encode(self, melody: Tensor, accomp: Tensor, meta: Tensor, masked: Tensor | None = None) -> Tensor:
        return self._batcher.call(self._chain, "encode", (melody, accomp, meta, masked))

    def sample_frames(
        self, cond: Tensor, melody_tok: Tensor, chord_tok: Tensor, prev: Tensor, nxt: Tensor,
        policy: DrawPolicy,
    ) -> tuple[Tensor, Tensor]:
        return self._batcher.call(self._chain, "draw", (cond, melody_tok, chord_tok, prev, nxt, policy))


def resample_many(
    model: FrameModel, melody: np.ndarray, accomp: np.ndarray, meta: np.ndarray,
    update: np.ndarray | None, settings: Sequence[SamplerSettings], progress: Progress | None = None,
) -> list[np.ndarray]:
    """:func:`~styletx.model.sampler.resample_accompaniment` once per ``settings``, in lockstep.

    The rolls come back in the order of ``settings``; ``progress`` follows the first chain.
    """
    from styletx.model.sampler import resample_accompaniment

    if len(settings) == 1:
        return [resample_accompaniment(model, melody, accomp, meta, update, settings[0], progress)]
    batcher = _Batcher(model, len(settings))
    rolls: list[np.ndarray | None] = [None] * len(settings)
    errors: list[BaseException] = []

    def chain(k: int) -> None:
        try:
            rolls[k] = resample_accompaniment(_ChainModel(batcher, k), melody, accomp, meta, update,
                                              settings[k], progress if k == 0 else None)
        except BaseException as e:
            errors.append(e)
            batcher.leave(e)
        else:
            batcher.leave()

    threads = [threading.Thread(target=chain, args=(k,), daemon=True) for k in range(len(settings))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if batcher.error is not None:  # the network's own error, not a chain's report of it
        raise batcher.error
    if errors:
        raise errors[0]
    return [r for r in rolls if r is not None]
