"""The network's architecture and its training configuration, readable without torch.

A :class:`ModelConfig` is saved beside the weights of a style folder and a
:class:`TrainConfig` in its training record; which files those are is
:mod:`styletx.stylefolder.format`'s business. The CLI's ``styles`` and ``info``
read them without importing the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from styletx.errors import StyleTxError
from styletx.music.encoding import MAX_BAR_STEPS, N_STATES


@dataclass
class ModelConfig:
    """The architecture of :class:`~styletx.model.network.StyleNet`, nothing else; saved beside the weights.

    Everything here changes the shape or the arithmetic of the network; how it was
    optimised is the :class:`TrainConfig`. The defaults are sized so that a batch of
    32 chunks x 64 frames (P = 48) trains in about 0.3 s on two CPU cores.
    """

    steps_per_beat: int = 4
    pitch_lo: int = 36
    pitch_hi: int = 84  # exclusive
    max_bar_steps: int = MAX_BAR_STEPS
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

    def __post_init__(self) -> None:
        self.gen_dilations = tuple(int(d) for d in self.gen_dilations)
        if self.pitch_hi <= self.pitch_lo or self.pitch_lo < 0 or self.pitch_hi > 128:
            raise StyleTxError(f"bad pitch range {self.pitch_lo}..{self.pitch_hi}")
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
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are rejected so typos do not pass silently.

        A checkpoint from before the architecture/training split still names ``style``,
        ``train_frame_fraction`` and ``class_weights`` here: it is converted once by
        ``benchmarks/convert_checkpoints.py``, not read leniently.
        """
        unknown = _unknown_keys(cls, d)
        if unknown:
            hint = ("; convert the checkpoint with benchmarks/convert_checkpoints.py"
                    if "class_weights" in unknown else "")
            raise StyleTxError(f"unknown model config keys: {', '.join(unknown)}{hint}")
        return cls(**d)

    def to_json(self) -> str:
        """The config as indented JSON text, the form it is saved in beside the weights."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def load_json(cls, path: str | Path) -> ModelConfig:
        """Read a config written from :meth:`to_json`."""
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise StyleTxError(f"cannot read model config {path}: {e}") from e
        if not isinstance(d, dict):
            raise StyleTxError(f"model config {path} is not a JSON object")
        return cls.from_dict(d)


def _unknown_keys(cls: type, d: dict[str, Any]) -> list[str]:
    """Keys of ``d`` that are not fields of the dataclass ``cls``, sorted."""
    return sorted(set(d) - {f.name for f in fields(cls)})


@dataclass
class TrainConfig:
    """How a model is optimised, and on what; saved as the training record's ``train_config``.

    Nothing here is needed to run the network: the grid and the layers are the
    :class:`ModelConfig`. The class weights are a loss matter only, since the network
    is trained with their logs added to its logits (:meth:`~styletx.model.network.StyleNet.loss`), so its own
    logits are calibrated in training and in evaluation alike.
    """

    style: str = "bach"  # the corpus (a recipe's name, or a user style's)
    chunk_frames: int = 64
    batch_size: int = 32
    epochs: int = 30
    patience: int = 4
    lr: float = 2e-3
    weight_decay: float = 1e-5
    max_transpose: int = 6
    mask_prob: float = 0.75  # share of chunks with masked spans (block-update training)
    max_span_beats: int = 8  # longest masked span, in quarter beats
    chord_dropout: float = 0.1  # share of chunks trained with "no chord" (so the model can harmonise)
    # share of frames the generator scores per training step (``forward(frames=...)``):
    # the encoder still reads every frame; the generator is the CPU bottleneck
    frame_fraction: float = 0.25
    # loss weights for (off, onset, hold): most cells are off, onsets matter most
    class_weights: tuple[float, float, float] = (1.0, 4.0, 1.5)
    seed: int = 0
    limit: int | None = None  # number of corpus pieces (tests); None = all
    max_steps_per_epoch: int | None = None
    steps_per_epoch: int | None = None  # a fixed epoch length (few-shot: the data is one chunk)
    max_steps: int | None = None  # stop after this many optimizer steps in all
    max_minutes: float | None = None
    # parameter-name prefixes left untouched (fine-tuning only part of a loaded model)
    freeze: list[str] = field(default_factory=list)
    final_test: bool = True  # score the best model on the test split at the end

    def __post_init__(self) -> None:
        self.class_weights = tuple(float(w) for w in self.class_weights)  # type: ignore[assignment]
        if len(self.class_weights) != N_STATES or min(self.class_weights) <= 0:
            raise StyleTxError(f"class_weights must be 3 positive numbers: {self.class_weights}")
        if not 0 < self.frame_fraction <= 1:
            raise StyleTxError(f"frame_fraction must be in (0, 1]: {self.frame_fraction}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        return {**asdict(self), "class_weights": list(self.class_weights)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are rejected so typos do not pass silently."""
        unknown = _unknown_keys(cls, d)
        if unknown:
            raise StyleTxError(f"unknown training config keys: {', '.join(unknown)}")
        return cls(**d)
