"""The melody-aware clash cost: which accompaniment onsets rub against the sounding melody.

MMA never looks at the melody, so the styles' data clash with it (jazz data: 0.107 of
sample points), and a model that imitates its data clashes as much. The harmony prior
(:class:`~styletx.model.settings.HarmonyPrior`) therefore charges ``clash`` nats on an
onset or a hold whose pitch class is a semitone above or below that of the melody pitch
sounding in that frame (a semitone, a minor ninth, a major seventh away...), except for
the pairings the style's data plays often against the same chord quality and melody
degree (``clash_exceptions``, measured by ``benchmarks/clash_exceptions.py`` and stored
in ``style.json``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from styletx.model.settings import CLASH_INTERVALS, HarmonyPrior
from styletx.music.chords import QUALITIES
from styletx.music.encoding import chord_root_quality, melody_pitches


def clash_onsets(pitches: Tensor, melody_tok: Tensor, chord_tok: Tensor, prior: HarmonyPrior) -> Tensor:
    """``bool [N, P]``: the pitches whose onset the clash cost charges in each of ``N`` frames.

    ``pitches [P]`` are the window's MIDI pitches, ``melody_tok [N]`` and ``chord_tok [N]``
    the frames' melody and chord tokens. A frame where the melody rests charges nothing.
    """
    sounding = melody_tok > 0
    mpitch = melody_pitches(melody_tok)
    diff = pitches[None, :] - mpitch[:, None]  # [N, P]
    table = torch.as_tensor(prior.exception_table(), device=pitches.device)  # [Q + 1, 12, I]
    has_chord = chord_tok > 0
    root, quality = chord_root_quality(chord_tok)
    quality = torch.where(has_chord, quality, torch.full_like(quality, len(QUALITIES)))
    degree = torch.where(has_chord, (mpitch - root) % 12, torch.zeros_like(mpitch))
    allowed = table[quality, degree]  # [N, I]
    out = torch.zeros(diff.shape, dtype=torch.bool, device=pitches.device)
    for j, side in enumerate(CLASH_INTERVALS):
        out |= (diff % 12 == side % 12) & ~allowed[:, j : j + 1]
    return out & sounding[:, None]
