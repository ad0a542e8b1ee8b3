"""The style folder's format: its files, their version, and how each is read and written.

A style is a folder. Every name of a file in it is spelled here and nowhere else:

* the weights (safetensors) and the architecture (a :class:`~styletx.model.config.ModelConfig`),
  which make it a style;
* the style card (:class:`StyleInfo`: how to voice its output, what it was trained on);
* the chord habits (:class:`~styletx.music.chords.ChordModel`);
* the performance feel (:class:`~styletx.music.performance.Feel`; a folder without it plays
  its notes on the grid at one velocity, as every folder did before the file existed);
* the training record (:class:`TrainRecord`), the file split of a user style, the
  transfer evaluation, the optimizer state of a run that can be resumed, the recipe a
  user style was trained from, and the model card;
* the format file, holding :data:`FORMAT_VERSION`.

A folder without a format file is format 1, the format of every folder written before
the version existed (the shipped styles among them); it loads exactly as a format-1
folder with one. A folder of a newer format than this code reads is refused in one line
(:func:`check_format`). Every file is written atomically (:func:`styletx.io.files.replace_file`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from styletx.errors import StyleTxError
from styletx.io.files import replace_file
from styletx.model.config import ModelConfig, TrainConfig
from styletx.model.settings import HarmonyPrior, StartVoicing
from styletx.music.arrange import PartSpec
from styletx.music.chords import ChordModel
from styletx.music.performance import Feel

if TYPE_CHECKING:
    import torch

    from styletx.model.network import StyleNet
    from styletx.music.grid import Grid
    from styletx.music.song import Parts, Song

FORMAT_VERSION = 1
"""The style folder format this code writes and reads. A folder without a version is format 1."""

FORMAT_FILE = "format.json"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STYLE_INFO_FILE = "style.json"
CHORDS_FILE = "chords.json"
FEEL_FILE = "feel.json"
TRAIN_RECORD_FILE = "train.json"
SPLITS_FILE = "splits.json"
EVAL_FILE = "eval.json"
TRAIN_STATE_FILE = "train_state.pt"
RECIPE_FILE = "recipe.json"
CARD_FILE = "MODEL_CARD.md"


@dataclass
class StyleInfo:
    """What a style's card says, in machine form (the folder's style card)."""

    name: str
    description: str = ""
    provenance: str = ""
    meters: list[str] = field(default_factory=list)
    instrumentation: list[PartSpec] = field(default_factory=lambda: [PartSpec("Accompaniment", 0)])
    bass_max_pitch: int = 52  # a note above this never goes to a bass part
    # how often the chords estimated from an input may change (styletx.music.chords.HARMONIC_RHYTHMS):
    # chorales change harmony on every beat, the MMA charts at most every half bar
    harmonic_rhythm: str = "half_bar"
    # the default sampling temperature: the one at which transfers are as dense as the data
    temperature: float = 1.0
    # the harmony prior while sampling, in logits
    prior: HarmonyPrior = field(default_factory=HarmonyPrior)
    # the prior when the chords are given (a score's chord symbols, --chords): a chart is the
    # player's instruction, not a guess (styletx.api follows it more strictly); None: ``prior`` always
    chart_prior: HarmonyPrior | None = None
    # best-of-N redraws of beats with parallel fifths/octaves (styletx.model.sampler), 0 = off
    voice_leading_tries: int = 0
    # the registers of the block chords a melody-only input starts from (styletx.model.start)
    start_voicing: StartVoicing = field(default_factory=StartVoicing)
    # --density's calibration (styletx.model.density.expected_shift): [density, onset-logit shift] pairs,
    # measured by benchmarks/controls_bench.py --calibrate; empty: the closed form
    density_shifts: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StyleInfo:
        d = dict(d)
        d["instrumentation"] = [PartSpec(**p) for p in d.get("instrumentation", [])]
        d["prior"] = HarmonyPrior(**d.get("prior", {}))
        if d.get("chart_prior") is not None:
            d["chart_prior"] = HarmonyPrior(**d["chart_prior"])
        d["start_voicing"] = StartVoicing(**d.get("start_voicing", {}))
        return cls(**d)

    def save(self, directory: Path) -> None:
        """Write the style card into ``directory`` (atomically)."""
        StyleFolder(directory).write_info(self)


_RUN = {"run": True}
"""Metadata of a record field that only some runs set; it is left out of the file when unset."""


@dataclass
class TrainRecord:
    """What a training run recorded: the configuration, the data, the history, the result.

    Saved in the style folder after every epoch and read by the model card, by a resumed
    run and by few-shot adaptation. The fields after ``styletx_version`` are set only by
    the runs that have them: a user style trained from a folder, a style adapted to examples.
    Records written before a field existed load with its default.
    """

    train_config: TrainConfig
    command: str | None = None
    commands: list[str] = field(default_factory=list)
    torch: str = ""
    threads: int = 0
    device: str = ""
    # per split: pieces, frames and distinct sources
    data: dict[str, dict[str, int]] = field(default_factory=dict)
    test_pieces: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    test_metrics: dict[str, float] | None = None
    train_seconds: float = 0.0
    styletx_version: str | None = None  # None: trained before the version was recorded
    # a user's folder (training.corpus.FolderCorpus.summary)
    user_data: dict[str, Any] | None = field(default=None, metadata=_RUN)
    base_style: str | None = field(default=None, metadata=_RUN)  # the style it was fine-tuned from
    base_note: str | None = field(default=None, metadata=_RUN)
    base_fits: dict[str, float] | None = field(default=None, metadata=_RUN)
    # the files a style was adapted to (render --style-from)
    examples: list[str] | None = field(default=None, metadata=_RUN)
    started: str | None = field(default=None, metadata=_RUN)
    finished: str | None = field(default=None, metadata=_RUN)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; the run-specific fields a run did not set are left out."""
        d = {f.name: getattr(self, f.name) for f in fields(self)
             if not (f.metadata.get("run") and getattr(self, f.name) is None)}
        d["train_config"] = self.train_config.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainRecord:
        """Inverse of :meth:`to_dict`; unknown keys are rejected, missing ones take their default."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise StyleTxError(f"unknown training record keys: {', '.join(unknown)}")
        d = dict(d)
        d["train_config"] = TrainConfig.from_dict(d["train_config"])
        if not d.get("commands") and d.get("command"):
            d["commands"] = [d["command"]]
        return cls(**d)

    @property
    def steps(self) -> int:
        """Optimizer steps taken in all."""
        return int(self.history[-1].get("steps", 0)) if self.history else 0

    def best_epoch(self) -> int:
        """The epoch with the lowest validation NLL (whose weights were kept); 0 before any."""
        if not self.history:
            return 0
        return min(self.history, key=lambda h: h["valid"]["nll_per_cell"])["epoch"]


def folder_version(directory: Path) -> int:
    """The format version of a style folder: its format file's, or 1 without one."""
    path = Path(directory, FORMAT_FILE)
    if not path.is_file():
        return 1
    try:
        version = json.loads(path.read_text())["format"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StyleTxError(f"{directory}: unreadable style folder format file {FORMAT_FILE} ({e})") from e
    if not isinstance(version, int) or version < 1:
        raise StyleTxError(f"{directory}: bad style folder format {version!r} in {FORMAT_FILE}")
    return version


def check_format(directory: Path) -> None:
    """Refuse, in one line, a style folder of a format this code does not know.

    Raises
    ------
    StyleTxError
        For a version above :data:`FORMAT_VERSION`: the folder was written by a newer
        styletx, and no shipped command converts it back, so the remedy is to upgrade.
    """
    version = folder_version(directory)
    if version > FORMAT_VERSION:
        raise StyleTxError(f"{os.fspath(directory)}: style folder format {version} is newer than "
                           f"this styletx reads (format {FORMAT_VERSION}); upgrade styletx "
                           "(pip install -U styletx) to use it")


def is_style_folder(directory: Path) -> bool:
    """Whether ``directory`` is a style folder: weights and architecture, or a format file
    (a folder of a newer format is a style that :func:`check_format` then refuses)."""
    d = Path(directory)
    return (d / FORMAT_FILE).is_file() or ((d / WEIGHTS_FILE).is_file() and (d / CONFIG_FILE).is_file())


def style_folder_needs() -> str:
    """What a folder needs to be a style, for error messages."""
    return f"it needs {WEIGHTS_FILE} and {CONFIG_FILE}"


@dataclass(frozen=True)
class StyleFolder:
    """One style folder on disk: where each of its files is, and how each is read and written."""

    directory: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def weights(self) -> Path:
        return self.path(WEIGHTS_FILE)

    @property
    def train_state(self) -> Path:
        """The optimizer state of a run in progress (torch tensors; training reads and writes it)."""
        return self.path(TRAIN_STATE_FILE)

    # ---- the model
    def write_model(self, weights: bytes, cfg: ModelConfig) -> None:
        """Write the weights, the architecture and the format version, each file atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        replace_file(self.path(WEIGHTS_FILE), weights)
        replace_file(self.path(CONFIG_FILE), cfg.to_json())
        replace_file(self.path(FORMAT_FILE), json.dumps({"format": FORMAT_VERSION}) + "\n")

    def read_config(self) -> ModelConfig:
        check_format(self.directory)
        return ModelConfig.load_json(self.path(CONFIG_FILE))

    def load_model(self, device: str | torch.device = "cpu") -> StyleNet:
        """The network, in eval mode (torch is imported here, not with this module)."""
        if not is_style_folder(self.directory):
            raise StyleTxError(f"{self.directory} is not a styletx checkpoint ({style_folder_needs()})")
        cfg = self.read_config()
        from styletx.model.network import load_model

        return load_model(cfg, self.weights, device)

    # ---- the style card and the chord habits
    def read_info(self) -> StyleInfo:
        """The style card, or a plain default when a folder has none."""
        path = self.path(STYLE_INFO_FILE)
        if path.is_file():
            return StyleInfo.from_dict(json.loads(path.read_text()))
        return StyleInfo(name=self.directory.name)

    def write_info(self, info: StyleInfo) -> None:
        replace_file(self.path(STYLE_INFO_FILE), json.dumps(info.to_dict(), indent=2) + "\n")

    def read_chords(self) -> ChordModel:
        """The chord habits; a style without them gets :meth:`ChordModel.uniform`."""
        path = self.path(CHORDS_FILE)
        return ChordModel.from_json(path.read_text()) if path.is_file() else ChordModel.uniform()

    def write_chords(self, chords: ChordModel) -> None:
        replace_file(self.path(CHORDS_FILE), chords.to_json())

    def read_feel(self) -> Feel | None:
        """The performance feel, or ``None`` for a folder without one (grid timing, one velocity)."""
        path = self.path(FEEL_FILE)
        return Feel.from_dict(json.loads(path.read_text())) if path.is_file() else None

    def write_feel(self, feel: Feel) -> None:
        replace_file(self.path(FEEL_FILE), json.dumps(feel.to_dict(), separators=(",", ":")) + "\n")

    def copy_chords_from(self, other: StyleFolder) -> None:
        """Keep another style's chord habits (when there is too little data to count one's own)."""
        if other.path(CHORDS_FILE).is_file():
            replace_file(self.path(CHORDS_FILE), other.path(CHORDS_FILE).read_bytes())

    # ---- the training record and what a run leaves beside it
    def has_record(self) -> bool:
        return self.path(TRAIN_RECORD_FILE).is_file()

    def read_record(self) -> TrainRecord:
        try:
            d = json.loads(self.path(TRAIN_RECORD_FILE).read_text())
        except (OSError, ValueError) as e:
            raise StyleTxError(f"{self.directory}: cannot read the training record ({e})") from e
        return TrainRecord.from_dict(d)

    def write_record(self, record: TrainRecord) -> None:
        replace_file(self.path(TRAIN_RECORD_FILE), json.dumps(record.to_dict(), indent=1))

    def read_splits(self) -> dict[str, Any] | None:
        """The file split of a user style (which file went to train, valid, test), if any."""
        return _read_json(self.path(SPLITS_FILE))

    def write_splits(self, splits: dict[str, Any]) -> None:
        replace_file(self.path(SPLITS_FILE), json.dumps(splits, indent=1) + "\n")

    def read_eval(self) -> dict[str, Any] | None:
        """The transfer evaluation (``benchmarks/eval_styles.py``), if it has been run."""
        return _read_json(self.path(EVAL_FILE))

    def write_eval(self, result: dict[str, Any]) -> None:
        replace_file(self.path(EVAL_FILE), json.dumps(result, indent=1) + "\n")

    def read_recipe(self) -> dict[str, Any] | None:
        """The user recipe a style was trained from (``train --recipe`` / ``--data``), if any."""
        return _read_json(self.path(RECIPE_FILE))

    def write_recipe(self, recipe: dict[str, Any]) -> None:
        replace_file(self.path(RECIPE_FILE), json.dumps(recipe, indent=1) + "\n")

    def write_card(self, text: str) -> Path:
        """Write the model card (Markdown); returns its path."""
        return replace_file(self.path(CARD_FILE), text)

    def read_card(self) -> str | None:
        path = self.path(CARD_FILE)
        return path.read_text() if path.is_file() else None

    def copy_run_from(self, other: StyleFolder) -> None:
        """Copy a finished run's folder into this (new) one, leaving the optimizer state behind."""
        import shutil

        shutil.copytree(other.directory, self.directory,
                        ignore=shutil.ignore_patterns(TRAIN_STATE_FILE))


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


@dataclass
class Style:
    """A loaded style: the network and its card. Load once, use for many transfers."""

    info: StyleInfo
    model: StyleNet
    directory: Path
    chord_model: ChordModel = field(default_factory=ChordModel.uniform)
    feel: Feel | None = None  # None: no feel file, the grid's timing at one velocity

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def steps_per_beat(self) -> int:
        return self.model.cfg.steps_per_beat

    def grid(self, song: Song, parts: Parts) -> Grid:
        """``song`` on this style's grid: its model's steps per beat, and chords estimated at
        its style card's harmonic rhythm. Every path that puts a song before this style's
        model (transfer, ``eval``'s NLL, the nearest style, adaptation) grids it here, so
        what is scored is what is rendered."""
        from styletx.music.grid import build_grid

        return build_grid(song, parts, self.steps_per_beat, self.info.harmonic_rhythm)


def read_style(directory: Path, device: str | torch.device = "cpu") -> Style:
    """Read a style folder: the network (on ``device``), the style card and the chord habits.

    Raises
    ------
    StyleTxError
        For a folder that is no style, or one of a format this code does not know.
    """
    folder = StyleFolder(directory)
    model = folder.load_model(device)
    return Style(info=folder.read_info(), model=model, directory=folder.directory,
                 chord_model=folder.read_chords(), feel=folder.read_feel())
