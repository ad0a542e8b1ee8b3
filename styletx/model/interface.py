"""The model's small interface to the sampler: encode a piece, then draw frames under a policy.

A generator network only has to be a :class:`FrameModel`: it encodes a piece (or a window
of it) into one context vector per frame, and draws frames pitch by pitch, low to high,
giving at each pitch the logits of the three cell states. What is done with those logits
(the hold rule, the temperature, the style's harmony prior, the random draw) is sampling
policy, the sampler's: it reaches the model as the tensors of a :class:`DrawPolicy`,
built once per draw by :func:`draw_policy`, and :func:`choose` applies it at each pitch.
A compiled pitch loop calls :func:`choose` inside itself (it is TorchScript-able), so the
bass prior, which depends on what the lower pitches drew, costs no Python call per pitch.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import torch
from torch import Tensor

from styletx.model.config import ModelConfig
from styletx.model.settings import HarmonyPrior
from styletx.music.chords import chord_tone_mask
from styletx.music.encoding import (
    HOLD,
    MELODY_HOLD,
    N_CHORD_TOKENS,
    N_STATES,
    OFF,
    ONSET,
    chord_root_quality,
    melody_pitches,
)

assert OFF == 0  # choose() writes it as a literal


class DrawPolicy(NamedTuple):
    """How states are chosen from a frame's logits, as tensors indexed by pitch position ``k``.

    ``forbidden [P, N, 3]`` marks the states that may not be drawn (a hold where the
    previous frame is off); ``gumbel [P, N, 3]`` is the noise of a Gumbel-max draw
    (``None``: the argmax, Lu & Su's rule, and ``temperature`` is not applied);
    ``onset_bias`` and ``bass_bias [P, N, 3]`` are the harmony prior's logit terms, the
    second one applied while ``active [N, 1]`` (a frame at a chord segment's start whose
    lowest sounding note is still to come); all three ``None`` without a prior.
    """

    forbidden: Tensor
    temperature: float
    gumbel: Tensor | None
    onset_bias: Tensor | None
    bass_bias: Tensor | None
    active: Tensor | None


class FrameModel(Protocol):
    """What the sampler needs of a network (:class:`styletx.model.network.StyleNet` is one)."""

    cfg: ModelConfig

    @property
    def device(self) -> torch.device: ...

    def eval(self) -> Any: ...

    def encode(self, melody: Tensor, accomp: Tensor, meta: Tensor, masked: Tensor | None = None) -> Tensor:
        """Context ``[B, T, D]`` of every frame of ``[B, T]`` inputs; ``masked`` frames hidden."""

    def sample_frames(
        self, cond: Tensor, melody_tok: Tensor, chord_tok: Tensor, prev: Tensor, nxt: Tensor,
        policy: DrawPolicy,
    ) -> tuple[Tensor, Tensor]:
        """``N`` frames ``[N, P]`` drawn pitch by pitch under ``policy``; their raw logits ``[N, P, 3]``."""


def melody_parts(melody: Tensor) -> tuple[Tensor, Tensor]:
    """Split melody tokens into (kind 0 rest / 1 onset / 2 hold, MIDI pitch; 0 for rests)."""
    is_hold = melody >= MELODY_HOLD
    kind = torch.where(is_hold, HOLD, (melody > 0).long() * ONSET)
    return kind, melody_pitches(melody)


def chord_flag_table(pitches: Tensor) -> Tensor:
    """``float [N_CHORD_TOKENS, P, 2]``: whether each pitch is a tone, and the root, of each chord token."""
    tones = torch.as_tensor(chord_tone_mask())[:, pitches % 12]
    roots = torch.zeros_like(tones)
    roots[1:] = chord_root_quality(torch.arange(1, N_CHORD_TOKENS))[0][:, None] == (pitches % 12)
    return torch.stack([tones, roots], -1).float()


def draw_policy(
    prev: Tensor, *, temperature: float | None, generator: torch.Generator | None,
    prior: HarmonyPrior | None = None, flags: Tensor | None = None, has_chord: Tensor | None = None,
    above: Tensor | None = None, segment_start: Tensor | None = None, clashing: Tensor | None = None,
    missing: Tensor | None = None, onset_shift: float = 0.0, allowed: Tensor | None = None,
) -> DrawPolicy:
    """The policy of one draw of ``N`` frames with ``prev [N, P]`` before them.

    ``temperature=None`` takes the argmax; otherwise the logits are divided by it and a
    Gumbel-max draw from ``generator`` picks the state. ``prior`` (with the frames' chord
    ``flags [N, P, 2]``, ``has_chord [N]``, the pitches ``above [N, P]`` the sounding
    melody note, ``segment_start [N]``, the pitches ``clashing [N, P]`` with the melody,
    :func:`styletx.model.clash.clash_onsets`, and those ``missing [N, P]`` from their chord
    segment, :func:`styletx.model.coverage.missing_tones`) adds the style's harmony prior
    (:class:`HarmonyPrior`). A clashing pitch costs as much held as struck.

    The controls enter here too: ``onset_shift`` nats are added to every onset logit
    (``--density``: a positive shift strikes more often), and a pitch outside ``allowed [P]``
    (``--range``) may only be off, so no draw can put a note there.
    """
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    N, P = prev.shape
    device = prev.device
    gumbel = None
    if temperature is not None:
        u = torch.rand((P, N, N_STATES), generator=generator, device=device)
        gumbel = -torch.log(-torch.log(u))
    states = torch.arange(N_STATES, device=device)
    forbidden = (prev == OFF).t()[:, :, None] & (states == HOLD)
    if allowed is not None:
        forbidden = forbidden | (~allowed[:, None, None] & (states != OFF))
    onset_bias = bass_bias = active = None
    if prior is not None and (prior.non_chord or prior.bass_root or prior.above_melody or prior.clash
                              or prior.complete or prior.tacet):
        assert flags is not None and has_chord is not None and above is not None
        bias = prior.onset_bias(flags, has_chord, above, clashing, missing)
        # the same products the loop took per position, for all positions at once
        onset_bias = (bias[0][:, :, None] * (states == ONSET)).transpose(0, 1)  # [P, N, 3]
        if clashing is not None:
            held = (-prior.clash * clashing.float())[:, :, None] * (states == HOLD)
            onset_bias = onset_bias + held.transpose(0, 1)
        bass_bias = (bias[1][:, :, None] * ~(states == OFF)).transpose(0, 1)
        starts = (segment_start if segment_start is not None
                  else torch.zeros(N, dtype=torch.bool, device=device))
        active = starts[:, None].clone()
    if onset_shift:
        shift = (onset_shift * (states == ONSET)).expand(P, N, N_STATES)
        if onset_bias is None:  # no prior: the shift alone, with a bass term that never acts
            onset_bias, bass_bias = shift, torch.zeros_like(shift)
            active = torch.zeros(N, 1, dtype=torch.bool, device=device)
        else:
            onset_bias = onset_bias + shift
    return DrawPolicy(forbidden, 1.0 if temperature is None else float(temperature), gumbel,
                      onset_bias, bass_bias, active)


def choose(
    logits: Tensor, k: int, forbidden: Tensor, neg_inf: Tensor, temperature: float,
    gumbel: Tensor | None, onset_bias: Tensor | None, bass_bias: Tensor | None, active: Tensor | None,
) -> tuple[Tensor, Tensor | None]:
    """The states ``[N]`` drawn at pitch position ``k`` from ``logits [N, 3]``, and ``active`` after it.

    TorchScript-able, so that a compiled pitch loop runs it without leaving the graph;
    ``neg_inf`` is ``-inf`` as a 0-dim tensor (made once per draw, not once per pitch).
    """
    logits = torch.where(forbidden[k], neg_inf, logits)
    if gumbel is not None:
        logits = logits / temperature
    if onset_bias is not None and bass_bias is not None and active is not None:
        # the lowest sounding note at a segment start, struck or held, is the bass
        logits = logits + onset_bias[k] + torch.where(active, bass_bias[k], 0.0)
    if gumbel is None:
        state = logits.argmax(-1)
    else:
        state = (logits + gumbel[k]).argmax(-1)
    if active is not None:
        active = active & (state == 0)[:, None]  # 0 = OFF (TorchScript reads no globals)
    return state, active

