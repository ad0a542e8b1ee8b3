"""The style network: a DeepBach-style context encoder plus a WaveNet over the pitch axis.

Lu & Su (ISMIR 2018) model one frame ``t`` of the accompaniment given everything else
in the piece: an encoder summarises the past and the future frames, and an
autoregressive generator produces frame ``t`` pitch by pitch, low to high. This module
keeps that split but changes what it costs:

* The encoder is two separate unidirectional LSTMs run once over a whole chunk (past,
  and the time-reversed future, as in DeepBach), so one pass conditions every frame of
  the chunk instead of one sliding window per frame.
* Cells have three states (off / onset / hold), so repeated notes and ties survive.
* The generator sees per-pitch facts it can not infer cheaply (melody at this pitch, the
  neighbouring frames' state at this pitch, whether the pitch is a tone or the root of the
  frame's chord), which is what makes holds learnable and the song's harmony binding.
* A chord track (one chord per frame, fixed during sampling) is an input beside the
  melody: the harmony is content the transfer must keep, not something to re-invent.
* Sampling is incremental (fast-WaveNet style): each layer's activations are cached and
  step ``k`` computes position ``k`` only.

Tensor interface (produced by the grid code)::

    accomp  LongTensor [B, T, P]   0 = off, 1 = onset, 2 = hold; p <-> MIDI pitch_lo + p
    melody  LongTensor [B, T]      0 = rest, 1 + pitch = onset, 129 + pitch = hold
    meta    LongTensor [B, T, 5]   step in beat, step in bar, key (tonic + 12*minor), bar length,
                                   chord token (styletx.music.chords; 0 = no chord)
    mask    BoolTensor [B, T]      True on real frames (padding is left out of the loss)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import Tensor, nn

from styletx.errors import StyleTxError
from styletx.model.clash import clash_onsets
from styletx.model.config import ModelConfig
from styletx.model.settings import HarmonyPrior
from styletx.music.chords import chord_tone_mask
from styletx.music.encoding import (
    HOLD,
    MELODY_HOLD,
    META_BAR_LEN,
    META_BAR_STEP,
    META_BEAT_STEP,
    META_CHORD,
    META_KEY,
    N_BAR_LENGTHS,
    N_CHORD_QUALITIES,
    N_CHORD_TOKENS,
    N_KEYS,
    N_STATES,
    OFF,
    ONSET,
    UNKNOWN,
    chord_root_quality,
    melody_pitches,
)

assert OFF == 0  # _generate writes it as a literal



def _melody_parts(melody: Tensor) -> tuple[Tensor, Tensor]:
    """Split melody tokens into (kind 0 rest / 1 onset / 2 hold, MIDI pitch; 0 for rests)."""
    is_hold = melody >= MELODY_HOLD
    kind = torch.where(is_hold, HOLD, (melody > 0).long() * ONSET)
    pitch = melody_pitches(melody)
    return kind, pitch


class _GatedLayer(nn.Module):
    """One gated, dilated, causal kernel-2 layer working on ``[N, P, C]`` (channels last).

    ``pre[p] = W0 h[p - d] + W1 h[p] + V f[p] + g`` with ``f`` the per-pitch features
    and ``g`` the frame's global conditioning. Channels-last linears let training
    (whole pitch axis) and incremental sampling (one position) share the same weights, and
    conditioning per layer (rather than all layers at once) keeps big temporaries small.
    """

    def __init__(self, channels: int, n_feat: int, dilation: int, last: bool) -> None:
        super().__init__()
        self.dilation = dilation
        self.channels = channels
        self.last = last
        self.tap_prev = nn.Linear(channels, 2 * channels, bias=False)
        self.tap_here = nn.Linear(channels, 2 * channels)
        self.feat_in = nn.Linear(n_feat, 2 * channels, bias=False)
        # the last layer's residual output would be unused, so it only feeds the skip sum
        self.out = nn.Linear(channels, channels if last else 2 * channels)

    def gate(self, pre: Tensor) -> Tensor:
        """WaveNet gate ``tanh(a/2) * sigmoid(b)``, written ``(2 sigmoid(a) - 1) * sigmoid(b)``.

        One sigmoid over the whole contiguous pre-activation is ~4x cheaper on CPU than a
        tanh over a strided half; the factor 1/2 is absorbed by the learned weights.
        """
        s = torch.sigmoid(pre)
        a, b = s.split(self.channels, dim=-1)
        return (2 * a - 1) * b

    def forward(self, h: Tensor, feat: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        """Full pitch axis: ``h [N, P, C]``, ``feat [N, P, F]``, ``bias [N, 1, 2C]`` -> (h, skip)."""
        d = self.dilation
        pre = self.tap_here(h) + self.feat_in(feat) + bias
        if d < h.shape[1]:
            # full-length matmul then a shifted add: avoids copying a strided slice
            pre[:, d:] += self.tap_prev(h)[:, :-d]
        o = self.out(self.gate(pre))
        if self.last:
            return h, o
        res, skip = o.split(self.channels, dim=-1)
        return h + res, skip


class StyleNet(nn.Module):
    """Conditional model of one accompaniment frame given the rest of the piece.

    ``p(frame_t | melody, meta, accomp_{!=t}) = prod_p p(x_{t,p} | x_{t,<p}, context)``, with
    the context computed for every frame of a chunk in one encoder pass.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        P, C, L = cfg.n_pitches, cfg.gen_channels, len(cfg.gen_dilations)
        self.n_layers = L

        # --- frame features -------------------------------------------------------------
        # melody embedding is factored (kind + pitch) so onset and hold of a pitch share
        self.mel_kind = nn.Embedding(N_STATES, cfg.melody_dim)
        self.mel_pitch = nn.Embedding(128, cfg.melody_dim)
        self.beat_step = nn.Embedding(cfg.steps_per_beat, cfg.beat_step_dim)
        self.bar_step = nn.Embedding(cfg.max_bar_steps, cfg.bar_step_dim)
        self.key = nn.Embedding(N_KEYS, cfg.key_dim)
        self.bar_len = nn.Embedding(N_BAR_LENGTHS, cfg.bar_len_dim)
        # chord = root (12 + "none") and quality (8 + "none"), factored so roots share
        self.chord_root = nn.Embedding(13, cfg.chord_dim)
        self.chord_quality = nn.Embedding(N_CHORD_QUALITIES + 1, cfg.chord_dim)
        meta_dim = (cfg.beat_step_dim + cfg.bar_step_dim + cfg.key_dim + cfg.bar_len_dim
                    + cfg.chord_dim)
        self.accomp_in = nn.Linear(P * N_STATES, cfg.accomp_dim)
        # stands in for the accompaniment of frames that are being resampled together
        self.accomp_mask = nn.Parameter(torch.zeros(cfg.accomp_dim))
        self.frame_in = nn.Linear(cfg.melody_dim + cfg.accomp_dim + meta_dim, cfg.frame_dim)
        self.drop = nn.Dropout(cfg.dropout)

        # --- encoder: two separate unidirectional LSTMs (past, reversed future) + center --
        lstm_drop = cfg.dropout if cfg.lstm_layers > 1 else 0.0
        self.lstm_past = nn.LSTM(
            cfg.frame_dim, cfg.lstm_hidden, cfg.lstm_layers, batch_first=True, dropout=lstm_drop
        )
        self.lstm_future = nn.LSTM(
            cfg.frame_dim, cfg.lstm_hidden, cfg.lstm_layers, batch_first=True, dropout=lstm_drop
        )
        self.past_start = nn.Parameter(torch.zeros(cfg.lstm_hidden))
        self.future_end = nn.Parameter(torch.zeros(cfg.lstm_hidden))
        self.center = nn.Sequential(
            nn.Linear(cfg.melody_dim + meta_dim, cfg.center_dim), nn.ReLU()
        )
        self.cond_mlp = nn.Sequential(
            nn.Linear(2 * cfg.lstm_hidden + cfg.center_dim, cfg.cond_dim),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.cond_dim, cfg.cond_dim),
        )

        # --- generator over the pitch axis ------------------------------------------------
        # input token at position p = state of pitch p-1; token 3 = "nothing below" (p = 0)
        self.gen_in = nn.Embedding(N_STATES + 1, C)
        self.cond_global = nn.Linear(cfg.cond_dim, L * 2 * C)
        self.cond_to_pitch = nn.Linear(cfg.cond_dim, cfg.pitch_cond_channels * P)
        pitches = torch.arange(cfg.pitch_lo, cfg.pitch_hi)
        self.register_buffer("pitches", pitches, persistent=False)
        self.register_buffer(
            "pitch_class", F.one_hot(pitches % 12, 12).float(), persistent=False
        )
        self.pitch_emb = nn.Parameter(torch.randn(P, cfg.pitch_emb_dim) * 0.1)
        # per-pitch features: pitch-aligned cond, 4 melody flags, 2 chord flags (tone, root),
        # prev/next one-hots, pitch class one-hot, pitch embedding
        n_feat = cfg.pitch_cond_channels + 4 + 2 + 2 * N_STATES + 1 + 12 + cfg.pitch_emb_dim
        tones = torch.as_tensor(chord_tone_mask())[:, pitches % 12]
        roots = torch.zeros_like(tones)
        roots[1:] = chord_root_quality(torch.arange(1, N_CHORD_TOKENS))[0][:, None] == (pitches % 12)
        self.register_buffer("chord_flags", torch.stack([tones, roots], -1).float(),
                             persistent=False)
        self.layers = nn.ModuleList(
            _GatedLayer(C, n_feat, d, last=i == L - 1) for i, d in enumerate(cfg.gen_dilations)
        )
        self.head_hidden = nn.Linear(C, C)
        self.head_out = nn.Linear(C, N_STATES)

    # ------------------------------------------------------------------ encoder
    def _melody_meta(self, melody: Tensor, meta: Tensor) -> tuple[Tensor, Tensor]:
        """Embeddings of the melody token and of the 5 meta fields (clamped to their tables)."""
        cfg = self.cfg
        kind, pitch = _melody_parts(melody)
        mel = self.mel_kind(kind) + self.mel_pitch(pitch)
        chord = meta[..., META_CHORD].clamp(0, N_CHORD_TOKENS - 1)
        has = chord > 0
        root, quality = chord_root_quality(chord)
        root = torch.where(has, root, 12)
        quality = torch.where(has, quality, N_CHORD_QUALITIES)
        # the grid clips these already; clamping keeps odd input from crashing a lookup
        m = torch.cat(
            [
                self.beat_step(meta[..., META_BEAT_STEP].clamp(0, cfg.steps_per_beat - 1)),
                self.bar_step(meta[..., META_BAR_STEP].clamp(0, cfg.max_bar_steps - 1)),
                self.key(meta[..., META_KEY].clamp(0, N_KEYS - 1)),
                self.bar_len(meta[..., META_BAR_LEN].clamp(0, N_BAR_LENGTHS - 1)),
                self.chord_root(root) + self.chord_quality(quality),
            ],
            dim=-1,
        )
        return mel, m

    def encode(
        self, melody: Tensor, accomp: Tensor, meta: Tensor, masked: Tensor | None = None
    ) -> Tensor:
        """Context ``cond [B, T, cond_dim]`` for every frame; ``accomp[:, t]`` never reaches ``cond[:, t]``.

        Past = forward LSTM output at ``t-1``; future = reversed LSTM output at ``t+1``
        (learned vectors at the chunk edges); center = melody and meta at ``t`` only.
        Padding at the end of a chunk is read by the future LSTM as silence. Frames where
        ``masked [B, T]`` is True are read as "being resampled": their accompaniment is
        replaced by a learned vector, so a block of frames can be redrawn without its
        old notes leaking into the context (Coconet-style blocked Gibbs).
        """
        B = melody.shape[0]
        mel, m = self._melody_meta(melody, meta)
        acc = self.accomp_in(F.one_hot(accomp, N_STATES).flatten(-2).float())
        if masked is not None:
            acc = torch.where(masked[..., None], self.accomp_mask, acc)
        frame = self.drop(F.relu(self.frame_in(torch.cat([mel, acc, m], dim=-1))))
        past, _ = self.lstm_past(frame)
        future, _ = self.lstm_future(frame.flip(1))
        future = future.flip(1)
        H = self.cfg.lstm_hidden
        past = torch.cat([self.past_start.expand(B, 1, H), past[:, :-1]], dim=1)
        future = torch.cat([future[:, 1:], self.future_end.expand(B, 1, H)], dim=1)
        center = self.center(torch.cat([mel, m], dim=-1))
        return self.cond_mlp(torch.cat([self.drop(past), self.drop(future), center], dim=-1))

    # ------------------------------------------------------------------ generator
    def _conditioning(
        self, cond: Tensor, melody_tok: Tensor, chord_tok: Tensor, prev: Tensor, nxt: Tensor
    ) -> tuple[Tensor, list[Tensor]]:
        """Non-autoregressive inputs of the generator: per-pitch features and per-layer globals.

        Returns ``feat [N, P, F]`` (cond projected onto the pitch axis as Lu & Su's Dense(88),
        melody at / same class as / above this pitch, chord tone / root at this pitch,
        neighbouring frames' state at this pitch, pitch class, pitch embedding) and one
        ``[N, 1, 2C]`` global term per layer.
        """
        N, P = prev.shape
        kind, mpitch = _melody_parts(melody_tok)
        sounding = (kind > 0)[:, None]
        here = mpitch[:, None] == self.pitches[None, :]
        flags = torch.stack(
            [
                here & (kind == ONSET)[:, None],
                here & (kind == HOLD)[:, None],
                (mpitch[:, None] % 12 == self.pitches[None, :] % 12) & sounding,
                (mpitch[:, None] > self.pitches[None, :]) & sounding,
            ],
            dim=-1,
        ).float()
        static = torch.cat([self.pitch_class, self.pitch_emb], dim=-1)
        feat = torch.cat(
            [
                self.cond_to_pitch(cond).view(N, -1, P).transpose(1, 2),
                flags,
                self.chord_flags[chord_tok.clamp(0, N_CHORD_TOKENS - 1)],
                F.one_hot(prev, N_STATES).float(),
                F.one_hot(nxt, N_STATES + 1).float(),
                static.expand(N, -1, -1),
            ],
            dim=-1,
        )
        glob = self.cond_global(cond)[:, None].chunk(self.n_layers, dim=-1)
        return feat, list(glob)

    def _head(self, skip: Tensor) -> Tensor:
        """Skip sum -> 3 calibrated logits, the same in training and in evaluation mode.

        The class weights live in the loss only (:meth:`loss` adds their logs to these
        logits), so nothing here depends on ``.train()`` / ``.eval()``.
        """
        return self.head_out(F.relu(self.head_hidden(F.relu(skip))))

    def generator_logits(
        self, cond: Tensor, melody_tok: Tensor, chord_tok: Tensor, prev: Tensor, nxt: Tensor,
        frame: Tensor,
    ) -> Tensor:
        """Teacher-forced logits ``[N, P, 3]`` for frames ``frame [N, P]``, all pitches in one pass.

        Position ``p`` sees ``frame[:, :p]`` only (input shifted up by one pitch).
        """
        N = frame.shape[0]
        start = frame.new_full((N, 1), N_STATES)
        h = self.gen_in(torch.cat([start, frame[:, :-1]], dim=1))
        feat, glob = self._conditioning(cond, melody_tok, chord_tok, prev, nxt)
        skip = h.new_zeros(())
        for layer, g in zip(self.layers, glob, strict=True):
            h, s = layer(h, feat, g)
            skip = skip + s
        return self._head(skip)

    def forward(
        self,
        melody: Tensor,
        accomp: Tensor,
        meta: Tensor,
        frames: Tensor | None = None,
        masked: Tensor | None = None,
    ) -> Tensor:
        """Logits ``[B, T, P, 3]`` for every frame of the chunk (encoder once, generator once).

        ``frames`` (BoolTensor ``[B, T]``) restricts the generator to the selected frames and
        returns ``[K, P, 3]`` for them (score against ``accomp[frames]``). The encoder still
        reads every frame, so training on a random subset of frames keeps all the context
        while cutting the generator's cost, which dominates on CPU.

        ``masked`` (BoolTensor ``[B, T]``) marks frames as being resampled together, as the
        block sampler does: the encoder does not see them, and a frame whose successor is
        masked sees its ``nxt`` as :data:`UNKNOWN`. ``prev`` stays the true previous frame,
        which is what the sampler has drawn when it goes through a block left to right.
        """
        B, T, P = accomp.shape
        cond = self.encode(melody, accomp, meta, masked)
        prev = F.pad(accomp[:, :-1], (0, 0, 1, 0))
        nxt = F.pad(accomp[:, 1:], (0, 0, 0, 1))
        if masked is not None:
            after = F.pad(masked[:, 1:], (0, 1))
            nxt = torch.where(after[..., None], torch.full_like(nxt, UNKNOWN), nxt)
        if frames is None:
            frames = torch.ones((B, T), dtype=torch.bool, device=accomp.device)
            shape: tuple[int, ...] = (B, T, P, N_STATES)
        else:
            shape = (-1, P, N_STATES)
        logits = self.generator_logits(
            cond[frames], melody[frames], meta[..., META_CHORD][frames], prev[frames], nxt[frames],
            accomp[frames],
        )
        return logits.view(shape)

    # ------------------------------------------------------------------ loss / scoring
    @staticmethod
    def loss(
        logits: Tensor, accomp: Tensor, class_weights: Sequence[float], mask: Tensor | None = None
    ) -> tuple[Tensor, dict[str, float]]:
        """Class-weighted, logit-adjusted cross-entropy, ``sum(w_y * nll_adj) / sum(w_y)`` over real cells.

        Most cells are off, so an unweighted loss rewards silence; ``class_weights``
        (``TrainConfig.class_weights``, for off / onset / hold) up-weight onsets and holds.
        Weighted cross-entropy is minimised by ``q(y) ∝ w_y p(y)``, so it is taken on
        ``logits + log w``: the network's own logits then learn ``log p``, calibrated for
        sampling and held-out NLL without any correction at inference (logit adjustment,
        Menon et al. 2021). Normalising by the weight sum keeps the scale independent of
        how busy a batch is. ``stats`` reports the *unweighted* mean NLL per cell (nats)
        of the calibrated logits and the onset accuracy (argmax == onset among onset
        targets), which are what to compare across runs.
        """
        w_y = torch.tensor(class_weights, dtype=logits.dtype, device=logits.device)
        adjusted = logits + w_y.log()
        nll = F.cross_entropy(adjusted.flatten(0, -2), accomp.flatten(), reduction="none")
        nll = nll.view_as(accomp)
        w = w_y[accomp]
        if mask is not None:
            w = w * mask[..., None]
            real = mask[..., None].expand_as(accomp)
        else:
            real = torch.ones_like(accomp, dtype=torch.bool)
        loss = (w * nll).sum() / w.sum().clamp(min=1e-8)
        with torch.no_grad():
            n_cells = int(real.sum())
            onset = (accomp == ONSET) & real
            n_onsets = int(onset.sum())
            hit = int(((logits.argmax(-1) == ONSET) & onset).sum())
            stats = {
                "loss": loss.item(),
                "nll": float(F.cross_entropy(logits[real], accomp[real], reduction="sum")) / max(n_cells, 1),
                "onset_acc": hit / n_onsets if n_onsets else math.nan,
                "n_cells": float(n_cells),
                "n_onsets": float(n_onsets),
            }
        return loss, stats

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample_frames(
        self,
        cond: Tensor,
        melody_tok: Tensor,
        chord_tok: Tensor,
        prev: Tensor,
        nxt: Tensor,
        *,
        temperature: float,
        generator: torch.Generator | None,
        greedy: bool = False,
        prior: HarmonyPrior | None = None,
        segment_start: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Sample ``N`` frames ``[N, P]`` pitch by pitch (low -> high), all frames at once,
        and return them with the model's logits ``[N, P, 3]``.

        ``cond [N, cond_dim]`` comes from :meth:`encode`; ``prev`` / ``nxt`` are the
        neighbouring frames' current states. A hold is never drawn where ``prev`` is off.
        ``temperature`` divides the logits (Gumbel-max draw, reproducible with
        ``generator``); ``greedy`` takes the argmax (Lu & Su's rule).
        ``prior`` (with ``segment_start [N]``, the frames that start a chord segment) adds
        the style's harmony prior to the onset logits (:class:`HarmonyPrior`).
        The returned logits are before the hold mask, temperature and prior, i.e. exactly
        what :meth:`generator_logits` gives for the returned frames (scoring, tests).
        """
        if not greedy and not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        N, P = prev.shape
        C = self.cfg.gen_channels
        # Every op below is the one the straightforward loop would run, on the same values
        # in the same order (tests/test_identity.py): the speed comes from fewer Python
        # steps and allocations per position, not from different arithmetic.
        # every layer's non-autoregressive term for every position, computed once and
        # stored position-major so that step k reads a contiguous [N, 2C] block
        feat, glob = self._conditioning(cond, melody_tok, chord_tok, prev, nxt)
        conds = [
            (layer.feat_in(feat) + g + layer.tap_here.bias).transpose(0, 1).contiguous()
            for layer, g in zip(self.layers, glob, strict=True)
        ]
        device = prev.device
        gumbel = None
        if not greedy:
            u = torch.rand((P, N, N_STATES), generator=generator, device=device)
            gumbel = -torch.log(-torch.log(u))
        is_hold = torch.arange(N_STATES, device=device) == HOLD
        is_onset = torch.arange(N_STATES, device=device) == ONSET
        is_off = torch.arange(N_STATES, device=device) == OFF
        # a hold is impossible where the previous frame is off: [P, N, 3]
        hold_mask = (prev == OFF).t()[:, :, None] & is_hold
        neg_inf = torch.tensor(-math.inf, device=device)
        onset_bias = bass_bias = active = None
        if prior is not None and (prior.non_chord or prior.bass_root or prior.above_melody or prior.clash):
            kind, mpitch = _melody_parts(melody_tok)
            above = (kind > 0)[:, None] & (self.pitches[None, :] > mpitch[:, None])
            clashing = clash_onsets(self.pitches, melody_tok, chord_tok, prior) if prior.clash else None
            bias = prior.onset_bias(self.chord_flags[chord_tok.clamp(0, N_CHORD_TOKENS - 1)],
                                    chord_tok > 0, above, clashing)
            # the same products the loop took per position, for all positions at once
            onset_bias = (bias[0][:, :, None] * is_onset).transpose(0, 1)  # [P, N, 3]
            if clashing is not None:  # a clashing pitch costs as much held as struck
                held = (-prior.clash * clashing.float())[:, :, None] * is_hold
                onset_bias = onset_bias + held.transpose(0, 1)
            bass_bias = (bias[1][:, :, None] * ~is_off).transpose(0, 1)
            starts = (segment_start if segment_start is not None
                      else torch.zeros(N, dtype=torch.bool, device=device))
            # frames whose lowest sounding note is still to come (at a segment start)
            active = starts[:, None].clone()
        # per layer: (dilation, last, W_here^T, W_prev^T, W_out^T, b_out), the same views
        # the layers' own linears use
        taps = [(layer.dilation, layer.last, layer.tap_here.weight.t(), layer.tap_prev.weight.t(),
                 layer.out.weight.t(), layer.out.bias) for layer in self.layers]
        emb = self.gen_in.weight
        w_hid, b_hid = self.head_hidden.weight, self.head_hidden.bias
        w_head, b_head = self.head_out.weight, self.head_out.bias
        token = prev.new_full((N,), N_STATES)
        # no graph optimisation: the scripted loop runs exactly the ops written (TorchScript's
        # optimiser would, e.g., split addmm into mm + add, a different computation)
        with torch.jit.optimized_execution(False):
            return _generate_loop(device)(
                token, emb, conds, taps, w_hid, b_hid, w_head, b_head,
                hold_mask, neg_inf, float(temperature), greedy, onset_bias, bass_bias, active,
                gumbel, C, P,
            )


def _generate(
    token: Tensor, emb: Tensor, conds: list[Tensor],
    taps: list[tuple[int, bool, Tensor, Tensor, Tensor, Tensor]],
    w_hid: Tensor, b_hid: Tensor, w_head: Tensor, b_head: Tensor,
    hold_mask: Tensor, neg_inf: Tensor, temperature: float, greedy: bool,
    onset_bias: Tensor | None, bass_bias: Tensor | None, active: Tensor | None,
    gumbel: Tensor | None, C: int, P: int,
) -> tuple[Tensor, Tensor]:
    """The pitch-by-pitch loop of :meth:`StyleNet.sample_frames` (TorchScript-able)."""
    hist: list[list[Tensor]] = [[] for _ in range(len(taps))]  # each layer's inputs, by position
    # 0-dim float32 constants: the same float32 products as the scalars 2 and 1, without
    # TorchScript converting a Python number to a tensor at every call
    two = torch.full((), 2.0, dtype=emb.dtype, device=emb.device)
    one = torch.full((), 1.0, dtype=emb.dtype, device=emb.device)
    outs: list[Tensor] = []
    raws: list[Tensor] = []
    for k in range(P):
        h = F.embedding(token, emb)
        skip = torch.empty(0)
        for i in range(len(taps)):
            d, last, w_here, w_prev, w_out, b_out = taps[i]
            seen = hist[i]
            seen.append(h)
            pre = torch.addmm(conds[i][k], h, w_here)
            if k >= d:
                pre.addmm_(seen[k - d], w_prev)
            # the gate of _GatedLayer, (2 sigmoid(a) - 1) * sigmoid(b), op for op
            sg = torch.sigmoid(pre)
            o = torch.addmm(b_out, sg[:, :C].mul(two).sub_(one).mul_(sg[:, C:]), w_out)
            if last:
                s = o
            else:
                s = o[:, C:]
                h = h + o[:, :C]
            skip = s if i == 0 else skip + s
        logits = F.linear(F.relu(F.linear(F.relu(skip), w_hid, b_hid)), w_head, b_head)
        raws.append(logits)
        logits = torch.where(hold_mask[k], neg_inf, logits)
        if not greedy:
            logits = logits / temperature
        if onset_bias is not None and bass_bias is not None and active is not None:
            # the lowest sounding note at a segment start, struck or held, is the bass
            logits = logits + onset_bias[k] + torch.where(active, bass_bias[k], 0.0)
        if gumbel is None:
            state = logits.argmax(-1)
        else:
            state = (logits + gumbel[k]).argmax(-1)
        outs.append(state)
        token = state
        if active is not None:
            active = active & (state == 0)[:, None]  # 0 = OFF (TorchScript reads no globals)
    return torch.stack(outs, 1), torch.stack(raws, 1)


_SCRIPTED: list[Any] = []


def _generate_loop(device: torch.device) -> Any:
    """:func:`_generate`, compiled with TorchScript once per process, where that is exact.

    TorchScript runs the same ATen kernels as eager mode, one op at a time, unless a fuser
    merges ops into generated kernels (whose arithmetic may differ). CPU fusion is off in
    torch by default; on other devices, or when someone turned it on, the eager loop runs.
    """
    if device.type != "cpu" or torch._C._jit_can_fuse_on_cpu():
        return _generate
    if not _SCRIPTED:
        with warnings.catch_warnings():  # torch.jit.script is deprecated, not removed
            warnings.simplefilter("ignore")
            _SCRIPTED.append(torch.jit.script(_generate))
    return _SCRIPTED[0]


# ---------------------------------------------------------------------- utilities
def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA if available else CPU; ``"cpu"`` / ``"cuda"`` as asked (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise StyleTxError("device 'cuda' requested but CUDA is not available")
        return torch.device("cuda")
    raise StyleTxError(f"unknown device {name!r} (use auto, cpu or cuda)")


def weights_bytes(model: StyleNet) -> bytes:
    """The model's weights as safetensors bytes (a plain ``state_dict``, no pickle).

    Which file they go in, beside which config, is the style folder's business
    (:mod:`styletx.stylefolder.format`); the model layer sees bytes, not folders.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return save(state)


def load_model(cfg: ModelConfig, weights: str | Path, device: str | torch.device = "cpu") -> StyleNet:
    """A :class:`StyleNet` of ``cfg`` with the safetensors ``weights`` (weights only, no pickle),
    in eval mode."""
    model = StyleNet(cfg)
    try:
        model.load_state_dict(load_file(str(weights), device="cpu"))
    except (RuntimeError, OSError) as e:
        raise StyleTxError(f"cannot load weights from {weights}: {e}") from e
    return model.to(torch.device(device)).eval()
