"""The chord-coverage term of the harmony prior: which chord tones a segment does not sound yet.

Real lead sheets showed the gap (``benchmarks/leadsheet_chords.py``): the jazz model
voices a C7 as E-G-B♭ with no C anywhere in the half bar (a rootless voicing over a
walking bass that left the root), and folk plays a half bar of F as the dyad F-A. Both
readers then hear another chord (E dim) or none. The network reads the chord; nothing
asks that the segment, as a whole, sound it. So the prior
(:class:`~styletx.model.settings.HarmonyPrior`) gives ``complete`` nats to the onset of a
chord tone whose pitch class sounds nowhere else in the frame's chord segment: not in
the accompaniment's other frames (as they stand in the current roll, the Gibbs state)
and not in the melody.
"""

from __future__ import annotations

import torch
from torch import Tensor

from styletx.music.encoding import melody_pitches


def missing_tones(
    frames: Tensor, accomp: Tensor, melody_tok: Tensor, segment: Tensor, pitches: Tensor
) -> Tensor:
    """``bool [N, P]``: the pitches whose pitch class the segment of each of ``frames`` lacks.

    ``accomp [T, P]`` is the current roll, ``melody_tok [T]`` the melody tokens,
    ``segment [T]`` each frame's chord-segment index (non-decreasing) and ``pitches [P]``
    the roll's MIDI pitches. A frame's own cells do not count: it is being redrawn.
    Which of the lacking pitches are chord tones is the caller's (the chord flags).
    """
    pc = pitches % 12
    onehot = (pc[:, None] == torch.arange(12, device=pc.device)).float()  # [P, 12]
    frame_pc = (accomp > 0).float() @ onehot  # [T, 12] sounding accompaniment per pitch class
    mel = melody_tok > 0
    mel_pc = torch.zeros_like(frame_pc)
    mel_pc[mel, melody_pitches(melody_tok[mel]) % 12] = 1.0
    n_seg = int(segment[-1]) + 1
    seg_pc = torch.zeros(n_seg, 12, device=pc.device).index_add_(0, segment, frame_pc + mel_pc)
    others = seg_pc[segment[frames]] - frame_pc[frames]  # [N, 12]
    return (others <= 0)[:, pc]
