"""What a checkpoint folder holds, readable without torch.

A checkpoint is a folder with the weights (:data:`WEIGHTS_NAME`, a safetensors
``state_dict``) and the architecture beside them (:data:`CONFIG_NAME`, a
:class:`ModelConfig` as JSON). The CLI's ``styles`` and ``info`` read these files
without importing the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from styletx.errors import StyleTxError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

N_STATES = 3
"""Cell states of the accompaniment grid: off, onset, hold."""


@dataclass
class ModelConfig:
    """Hyper-parameters of :class:`~styletx.model.network.StyleNet`; saved as JSON beside the weights.

    The defaults are sized so that a batch of 32 chunks x 64 frames (P = 48) trains in
    about 0.3 s on two CPU cores (see the module tests / report for the measurement).
    """

    style: str = "bach"
    steps_per_beat: int = 4
    pitch_lo: int = 36
    pitch_hi: int = 84  # exclusive
    max_bar_steps: int = 96
    # frame features
    melody_dim: int = 32
    accomp_dim: int = 64
    beat_step_dim: int = 8
    bar_step_dim: int = 16
    key_dim: int = 16
    bar_len_dim: int = 4
    chord_dim: int = 16
    frame_dim: int = 128
    # encoder
    lstm_hidden: int = 128
    lstm_layers: int = 2
    center_dim: int = 64
    cond_dim: int = 128
    # generator
    gen_channels: int = 32
    gen_dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    pitch_cond_channels: int = 8
    pitch_emb_dim: int = 8
    dropout: float = 0.1
    # share of frames the generator scores per training step (``forward(frames=...)``):
    # the encoder still reads every frame; the generator is the CPU bottleneck
    train_frame_fraction: float = 0.25
    # loss weights for (off, onset, hold): most cells are off, onsets matter most
    class_weights: tuple[float, float, float] = (1.0, 4.0, 1.5)

    def __post_init__(self) -> None:
        self.gen_dilations = tuple(int(d) for d in self.gen_dilations)
        self.class_weights = tuple(float(w) for w in self.class_weights)  # type: ignore[assignment]
        if self.pitch_hi <= self.pitch_lo or self.pitch_lo < 0 or self.pitch_hi > 128:
            raise StyleTxError(f"bad pitch range {self.pitch_lo}..{self.pitch_hi}")
        if len(self.class_weights) != N_STATES or min(self.class_weights) <= 0:
            raise StyleTxError(f"class_weights must be 3 positive numbers: {self.class_weights}")
        if not 0 < self.train_frame_fraction <= 1:
            raise StyleTxError(f"train_frame_fraction must be in (0, 1]: {self.train_frame_fraction}")
        if not self.gen_dilations or min(self.gen_dilations) < 1:
            raise StyleTxError(f"gen_dilations must be positive: {self.gen_dilations}")

    @property
    def n_pitches(self) -> int:
        """Number of accompaniment pitch rows ``P``."""
        return self.pitch_hi - self.pitch_lo

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        d = asdict(self)
        d["gen_dilations"] = list(self.gen_dilations)
        d["class_weights"] = list(self.class_weights)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are rejected so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise StyleTxError(f"unknown model config keys: {', '.join(unknown)}")
        return cls(**d)

    def save_json(self, path: str | Path) -> None:
        """Write the config as indented JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load_json(cls, path: str | Path) -> ModelConfig:
        """Read a config written by :meth:`save_json`."""
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise StyleTxError(f"cannot read model config {path}: {e}") from e
        if not isinstance(d, dict):
            raise StyleTxError(f"model config {path} is not a JSON object")
        return cls.from_dict(d)
