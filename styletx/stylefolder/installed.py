"""Installed styles: where style folders are looked up, and loading one by name.

Styles are looked up in every folder of ``$STYLETX_MODELS`` (``os.pathsep``-separated),
then in the user styles folder (:func:`user_styles_dir`, where ``styletx train``
installs), then in the shipped ``styletx.checkpoints`` package; earlier entries win.
Folders whose names start with a dot (a training run in progress) are never styles.
A bare name is looked up there only; any other folder is given as a path
(:func:`style_directory`), so a folder in the working directory never shadows a style.
What a style folder holds is :mod:`styletx.stylefolder.format`'s.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from styletx.errors import StyleTxError
from styletx.stylefolder.format import (
    Style,
    StyleFolder,
    StyleInfo,
    is_style_folder,
    read_style,
    style_folder_needs,
)

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
        return Path(__file__).resolve().parents[2] / "checkpoints"


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
            if is_style_folder(d):
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
    return sorted(d.name for d in root.iterdir() if is_style_folder(d))


def remove_user_style(name: str) -> Path:
    """Delete the user style ``name`` from :func:`user_styles_dir`; returns its former folder.

    Raises
    ------
    StyleTxError
        When there is no user style of that name (shipped styles are never removed).
    """
    import shutil

    directory = user_styles_dir() / name
    if name.startswith(".") or "/" in name or not is_style_folder(directory):
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
    """The style card of a folder, or a plain default when it has none."""
    return StyleFolder(directory).read_info()


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
        if not is_style_folder(directory):
            raise StyleTxError(f"{os.fspath(name)!r} is not a style folder ({style_folder_needs()})")
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
    from styletx.model.network import resolve_device  # torch loads here, not on import

    return read_style(directory, resolve_device(device))
