"""Installed styles: where their checkpoints live and what their cards say.

A style is a folder holding ``model.safetensors`` + ``config.json`` (the
network, :mod:`styletx.model.network`), ``style.json`` (:class:`StyleInfo`: how to
voice its output, what it was trained on) and ``MODEL_CARD.md``. Styles are
looked up in every folder of ``$STYLETX_MODELS`` (``os.pathsep``-separated), then
in the user styles folder (:func:`user_styles_dir`, where ``styletx train --data``
installs), then in the shipped ``styletx.checkpoints`` package; earlier entries win.
Folders whose names start with a dot (a training run in progress) are never styles.
A bare name is looked up there only; any other folder is given as a path
(:func:`style_directory`), so a folder in the working directory never shadows a style.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from styletx.errors import StyleTxError
from styletx.io.files import replace_file
from styletx.model.config import CONFIG_NAME, WEIGHTS_NAME
from styletx.model.settings import HarmonyPrior
from styletx.music.arrange import PartSpec
from styletx.music.chords import ChordModel

if TYPE_CHECKING:
    from styletx.model.network import StyleNet
    from styletx.music.grid import Grid
    from styletx.music.song import Parts, Song

STYLE_INFO_NAME = "style.json"
DEFAULT_STYLE = "bach"
"""The style of ``render``, ``batch`` and :func:`styletx.transfer` when none is named."""


@dataclass
class StyleInfo:
    """What a style's card says, in machine form (``style.json``)."""

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
    # best-of-N redraws of beats with parallel fifths/octaves (styletx.model.sampler), 0 = off
    voice_leading_tries: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StyleInfo:
        d = dict(d)
        d["instrumentation"] = [PartSpec(**p) for p in d.get("instrumentation", [])]
        d["prior"] = HarmonyPrior(**d.get("prior", {}))
        return cls(**d)

    def save(self, directory: Path) -> None:
        """Write ``style.json`` into ``directory`` (atomically)."""
        replace_file(directory / STYLE_INFO_NAME, json.dumps(self.to_dict(), indent=2) + "\n")


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

    def grid(self, song: Song, parts: Parts) -> Grid:
        """``song`` on this style's grid: its model's steps per beat, and chords estimated at
        its ``style.json``'s harmonic rhythm. Every path that puts a song before this style's
        model (transfer, ``eval``'s NLL, the nearest style, adaptation) grids it here, so
        what is scored is what is rendered."""
        from styletx.music.grid import build_grid

        return build_grid(song, parts, self.steps_per_beat, self.info.harmonic_rhythm)


USER_STYLES_ENV = "STYLETX_USER_STYLES"


def user_styles_dir() -> Path:
    """Where user styles are installed (not created here).

    ``$STYLETX_USER_STYLES`` if set; else platformdirs' user data folder for
    ``styletx`` when platformdirs is installed; else ``$XDG_DATA_HOME/styletx/styles``
    or ``~/.local/share/styletx/styles``.
    """
    env = os.environ.get(USER_STYLES_ENV)
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
        return base / "styletx" / "styles"
    return Path(platformdirs.user_data_dir("styletx")) / "styles"


def search_roots() -> list[tuple[Path, str]]:
    """``(folder, origin)`` in lookup order; origin is ``"env"``, ``"user"`` or ``"shipped"``."""
    roots = [(Path(p), "env") for p in os.environ.get("STYLETX_MODELS", "").split(os.pathsep) if p]
    roots.append((user_styles_dir(), "user"))
    roots.append((shipped_root(), "shipped"))
    return roots


def shipped_root() -> Path:
    """The shipped checkpoints: the installed data package, or ``checkpoints/`` in a checkout.

    In a source checkout (tests, ``python -m styletx``) the folder is not mapped
    to ``styletx.checkpoints`` -- only ``pip install`` does that.
    """
    try:
        return Path(str(resources.files("styletx.checkpoints")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "checkpoints"


def style_origins() -> dict[str, tuple[Path, str]]:
    """Installed styles by name: their folder and where it was found (``"user"``,
    ``"shipped"``, or ``"env"`` for ``$STYLETX_MODELS``); earlier search roots win."""
    found: dict[str, tuple[Path, str]] = {}
    for root, origin in search_roots():
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if d.name.startswith("."):
                continue
            if (d / WEIGHTS_NAME).is_file() and (d / CONFIG_NAME).is_file():
                found.setdefault(d.name, (d, origin))
    return found


def style_dirs() -> dict[str, Path]:
    """Installed styles by name; earlier search roots win."""
    return {name: d for name, (d, _) in style_origins().items()}


def shipped_styles() -> list[str]:
    """Names of the styles shipped with styletx (whatever overrides them)."""
    root = shipped_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir()
                  if (d / WEIGHTS_NAME).is_file() and (d / CONFIG_NAME).is_file())


def remove_user_style(name: str) -> Path:
    """Delete the user style ``name`` from :func:`user_styles_dir`; returns its former folder.

    Raises
    ------
    StyleTxError
        When there is no user style of that name (shipped styles are never removed).
    """
    import shutil

    directory = user_styles_dir() / name
    if name.startswith(".") or "/" in name or not (directory / WEIGHTS_NAME).is_file():
        users = sorted(n for n, (_, o) in style_origins().items() if o == "user")
        where = "a shipped style, which cannot be removed" if name in shipped_styles() else \
            f"not a user style (user styles: {', '.join(users) or 'none'})"
        raise StyleTxError(f"{name!r} is {where}")
    shutil.rmtree(directory)
    return directory


def styles() -> list[str]:
    """Names of the installed styles, sorted."""
    return sorted(style_dirs())


def read_info(directory: Path) -> StyleInfo:
    """The style's ``style.json``, or a plain default when a checkpoint has none."""
    path = directory / STYLE_INFO_NAME
    if path.is_file():
        return StyleInfo.from_dict(json.loads(path.read_text()))
    return StyleInfo(name=directory.name)


def _is_path(name: str | os.PathLike[str]) -> bool:
    """Whether a style argument names a folder: a path object, or text with a separator."""
    if isinstance(name, os.PathLike):
        return True
    return any(sep and sep in name for sep in (os.sep, os.altsep, "/"))


def style_directory(name: str | os.PathLike[str]) -> Path:
    """The checkpoint folder of a style: an installed style's name, or a path to a folder.

    A bare name (``"jazz"``) only ever means an installed style (``$STYLETX_MODELS``,
    the user styles, the shipped ones), never a folder of that name in the working
    directory; a folder is given as a path (``./jazz``, a :class:`~pathlib.Path`, or
    the CLI's ``--style-dir``).

    Raises
    ------
    StyleTxError
        For an unknown name (with the installed ones) or a folder that is no checkpoint.
    """
    if _is_path(name):
        directory = Path(name)
        if not ((directory / WEIGHTS_NAME).is_file() and (directory / CONFIG_NAME).is_file()):
            raise StyleTxError(f"{os.fspath(name)!r} is not a style folder (it needs "
                               f"{WEIGHTS_NAME} and {CONFIG_NAME})")
        return directory
    dirs = style_dirs()
    if name not in dirs:
        valid = ", ".join(sorted(dirs)) or "none installed"
        raise StyleTxError(f"unknown style {name!r} (installed: {valid}); give a style "
                           f"folder as a path, e.g. ./{name}, or with --style-dir")
    return dirs[name]


def load_style(name: str | os.PathLike[str], device: str = "cpu") -> Style:
    """Load a style by name, or from a checkpoint folder path, for repeated use.

    ``name`` is resolved by :func:`style_directory`: a bare name is an installed
    style, a path (with a separator, or a :class:`~pathlib.Path`) is a folder.

    Raises
    ------
    StyleTxError
        For an unknown name, with the list of valid ones, or a folder that is no style.
    """
    directory = style_directory(name)
    from styletx.model.network import load_checkpoint, resolve_device  # torch loads here, not on import

    model = load_checkpoint(directory, device=resolve_device(device))
    return Style(info=read_info(directory), model=model, directory=directory,
                 chord_model=ChordModel.load(directory))
