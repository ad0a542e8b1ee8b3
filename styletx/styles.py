"""Installed styles: where their checkpoints live and what their cards say.

A style is a folder holding ``model.safetensors`` + ``config.json`` (the
network, :mod:`styletx.model`), ``style.json`` (:class:`StyleInfo`: how to
voice its output, what it was trained on) and ``MODEL_CARD.md``. Styles are
looked up in the shipped ``styletx.checkpoints`` package, then in every folder
of ``$STYLETX_MODELS`` (``os.pathsep``-separated), whose entries win.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from styletx.chords import ChordModel
from styletx.errors import StyleTxError

if TYPE_CHECKING:
    from styletx.model import StyleNet

# File names of a checkpoint folder (written by :func:`styletx.model.save_checkpoint`).
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

STYLE_INFO_NAME = "style.json"


@dataclass(frozen=True)
class PartSpec:
    """One output instrument. ``role`` is ``"bass"`` (the lowest line) or ``"rest"``."""

    name: str
    program: int
    role: str = "rest"


@dataclass
class StyleInfo:
    """What a style's card says, in machine form (``style.json``)."""

    name: str
    description: str = ""
    provenance: str = ""
    meters: list[str] = field(default_factory=list)
    instrumentation: list[PartSpec] = field(default_factory=lambda: [PartSpec("Accompaniment", 0)])
    bass_max_pitch: int = 52  # a note above this never goes to a bass part
    # how often the chords estimated from an input may change (styletx.chords.HARMONIC_RHYTHMS):
    # chorales change harmony on every beat, the MMA charts at most every half bar
    harmonic_rhythm: str = "half_bar"
    # the default sampling temperature: the one at which transfers are as dense as the data
    temperature: float = 1.0
    # the harmony prior while sampling (styletx.settings.HarmonyPrior), in logits
    non_chord_prior: float = 0.0
    bass_root_prior: float = 0.0
    above_melody_prior: float = 0.0
    # best-of-N redraws of beats with parallel fifths/octaves (styletx.sampler), 0 = off
    voice_leading_tries: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StyleInfo:
        d = dict(d)
        d["instrumentation"] = [PartSpec(**p) for p in d.get("instrumentation", [])]
        return cls(**d)

    def save(self, directory: Path) -> None:
        (directory / STYLE_INFO_NAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


@dataclass
class Style:
    """A loaded style: the network and its card. Load once, use for many transfers."""

    info: StyleInfo
    model: StyleNet
    directory: Path
    chord_model: ChordModel = field(default_factory=ChordModel.uniform)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def steps_per_beat(self) -> int:
        return self.model.cfg.steps_per_beat


def _search_roots() -> list[Path]:
    roots = [Path(p) for p in os.environ.get("STYLETX_MODELS", "").split(os.pathsep) if p]
    roots.append(_shipped_root())
    return roots


def _shipped_root() -> Path:
    """The shipped checkpoints: the installed data package, or ``checkpoints/`` in a checkout.

    In a source checkout (tests, ``python -m styletx``) the folder is not mapped
    to ``styletx.checkpoints`` -- only ``pip install`` does that.
    """
    try:
        return Path(str(resources.files("styletx.checkpoints")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "checkpoints"


def style_dirs() -> dict[str, Path]:
    """Installed styles by name; earlier search roots win."""
    found: dict[str, Path] = {}
    for root in _search_roots():
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if (d / WEIGHTS_NAME).is_file() and (d / CONFIG_NAME).is_file():
                found.setdefault(d.name, d)
    return found


def styles() -> list[str]:
    """Names of the installed styles, sorted."""
    return sorted(style_dirs())


def read_info(directory: Path) -> StyleInfo:
    """The style's ``style.json``, or a plain default when a checkpoint has none."""
    path = directory / STYLE_INFO_NAME
    if path.is_file():
        return StyleInfo.from_dict(json.loads(path.read_text()))
    return StyleInfo(name=directory.name)


def load_style(name: str, device: str = "cpu") -> Style:
    """Load a style by name (or from a checkpoint folder path) for repeated use.

    Raises
    ------
    StyleTxError
        For an unknown name, with the list of valid ones.
    """
    path = Path(name)
    if (path / WEIGHTS_NAME).is_file():
        directory = path
    else:
        dirs = style_dirs()
        if name not in dirs:
            valid = ", ".join(sorted(dirs)) or "none installed"
            raise StyleTxError(f"unknown style {name!r}; valid styles: {valid}")
        directory = dirs[name]
    from styletx.model import load_checkpoint, resolve_device  # torch loads here, not on import

    model = load_checkpoint(directory, device=resolve_device(device))
    model.eval()
    return Style(info=read_info(directory), model=model, directory=directory,
                 chord_model=ChordModel.load(directory))
