"""The MuseScore plugin, shipped as package data, and ``styletx install-musescore-plugin``.

The plugin (``musescore/styletx.qml``) needs three facts about this installation, which
the installer writes into its copy: the service's URL, the Python interpreter that has
styletx (for the ``styletx render`` fallback through ``QProcess``; MuseScore started
from a desktop menu may not have styletx on its ``PATH``) and the style its dialog offers
first. Torch- and FastAPI-free.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

from styletx import __version__
from styletx.errors import StyleTxError
from styletx.io.files import atomic_write

PLUGIN_NAME = "styletx.qml"
DEFAULT_URL = "http://127.0.0.1:8765"


def plugin_text(*, url: str | None = None, python: str | None = None, style: str = "jazz") -> str:
    """The plugin's QML with this installation's values filled in."""
    text = (resources.files("styletx.service") / "musescore" / PLUGIN_NAME).read_text()
    for key, value in (("@URL@", url or DEFAULT_URL), ("@PYTHON@", python or sys.executable),
                       ("@STYLE@", style), ("@VERSION@", __version__)):
        text = text.replace(key, value.replace("\\", "/").replace('"', ""))
    return text


def documents_dir() -> Path:
    """The user's Documents folder, where MuseScore keeps its plugin folders (XDG on Linux)."""
    return Path(os.environ.get("XDG_DOCUMENTS_DIR") or Path.home() / "Documents")


def musescore_plugin_dirs() -> list[Path]:
    """MuseScore 3's plugin folder, and MuseScore 4's when MuseScore 4 has made its folder."""
    docs = documents_dir()
    dirs = [docs / "MuseScore3" / "Plugins"]
    if (docs / "MuseScore4").is_dir():
        dirs.append(docs / "MuseScore4" / "Plugins")
    return dirs


def install_musescore_plugin(dest: Path | None = None, *, url: str | None = None,
                             style: str = "jazz") -> list[Path]:
    """Copy the plugin into ``dest`` (default: :func:`musescore_plugin_dirs`), in a ``styletx``
    subfolder (MuseScore 4 wants one per plugin), replacing an older copy; return the paths."""
    text = plugin_text(url=url, style=style).encode()
    written = []
    for folder in [dest] if dest is not None else musescore_plugin_dirs():
        target = Path(folder) / "styletx" / PLUGIN_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(atomic_write(target, text, force=True))
    return written


def run_in_musescore(plugin: Path, score: Path, *, mscore: str = "mscore3",
                     env: dict[str, str] | None = None, timeout: float = 300) -> list[str]:
    """Run ``plugin`` on ``score`` with MuseScore 3's command line (``mscore3 -p``), headless,
    and return the plugin's own lines (what its dialog would show).

    MuseScore exits as soon as the plugin's ``onRun`` returns, so a command-line run takes
    the plugin's ``styletx render`` path; the service needs MuseScore's window.

    Raises
    ------
    StyleTxError
        MuseScore could not load the plugin (its QML error).
    """
    out = subprocess.run([mscore, "-p", str(plugin), str(score)], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                               **(env or {})})
    text = out.stdout + out.stderr
    if "creating component" in text or "Component is not ready" in text:
        raise StyleTxError(f"MuseScore could not load {plugin}: {' '.join(text.split())[-400:]}")
    marker = "qml: styletx: "
    return [line.split(marker, 1)[1] for line in text.splitlines() if marker in line]
