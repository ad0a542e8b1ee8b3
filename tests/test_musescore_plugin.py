"""The MuseScore plugin, run by the real MuseScore 3 (``mscore3 -p``, headless), and its installer
from a built wheel.

MuseScore 3.2.3 runs a plugin from the command line (``-p``) on the score it opens, without
a window, and exits as soon as the plugin's ``onRun`` returns. So an asynchronous
``XMLHttpRequest`` can never finish there: a command-line run takes the plugin's
``styletx render`` path (through ``QProcess``), which it announces. The dialog and the
service path are for a person in MuseScore's window; they are not run here.
Under ``CI=true`` a missing ``mscore3`` fails instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from styletx.cli import main
from styletx.errors import StyleTxError
from styletx.service.plugin import PLUGIN_NAME, install_musescore_plugin, run_in_musescore

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def mscore3() -> str:
    found = shutil.which("mscore3")
    if found is None and os.environ.get("CI") != "true":
        pytest.skip("MuseScore 3 (mscore3) is not installed")
    assert found, "CI needs MuseScore 3: apt-get install musescore3"
    return found


def run_plugin(mscore3: str, plugin: Path, score: Path, env: dict[str, str]) -> list[str]:
    """The plugin's lines from a headless ``mscore3 -p`` run (raises if MuseScore refuses the QML)."""
    return run_in_musescore(plugin, score, mscore=mscore3, env={"PYTHONPATH": str(ROOT), **env})


def test_musescore_refuses_a_broken_plugin(mscore3: str, tmp_path: Path) -> None:
    """The acceptance check below means something: MuseScore's refusal is seen."""
    (plugin,) = install_musescore_plugin(tmp_path / "plugins")
    plugin.write_text(plugin.read_text().replace("import QtQuick.Layouts 1.3", "import QtQuick.Nope 9.9"))
    with pytest.raises(StyleTxError, match="could not load"):
        run_plugin(mscore3, plugin, FIXTURES / "named_tracks.mid", {})


def test_musescore_accepts_the_plugin_and_shows_a_failure_as_one_line(
        mscore3: str, tmp_path: Path) -> None:
    (plugin,) = install_musescore_plugin(tmp_path / "plugins", style="no-such-style")
    lines = run_plugin(mscore3, plugin, FIXTURES / "named_tracks.mid", {})
    assert lines[0] == "run from the command line: calling styletx render through QProcess"
    assert lines[-1].startswith("styletx: error: unknown style 'no-such-style'"), lines


def _notation(path: Path) -> str:
    """A MusicXML file without what differs between two writes of one score: the date, the
    random element ids, and the title, which the plugin sets."""
    drop = ("<encoding-date>", "<work-title>", "<movement-title>", "<credit-words")
    return "\n".join(re.sub(r'\sid="[^"]*"', "", line) for line in path.read_text().splitlines()
                     if not line.strip().startswith(drop)).strip()  # FileIO adds a newline


def test_the_plugin_from_the_command_line_gives_styletx_renders_score(
        mscore3: str, tmp_path: Path, tiny_style: str, _tiny_models: Path) -> None:
    (plugin,) = install_musescore_plugin(tmp_path / "plugins", style=tiny_style)
    lines = run_plugin(mscore3, plugin, FIXTURES / "named_tracks.mid",
                       {"STYLETX_MODELS": str(_tiny_models)})
    opened = re.fullmatch(r'opened (.+) as a new score titled "(.+)" \(through styletx render\)',
                          lines[-1])
    assert opened, lines
    result, title = Path(opened.group(1)), opened.group(2)
    assert title == f"named_tracks ({tiny_style})"
    assert f"<work-title>{title}</work-title>" in result.read_text()
    assert result.with_name(result.stem + "-1.png").is_file()  # MuseScore drew the new score
    exported = result.with_name("named_tracks.musicxml")  # the open score, as the plugin sent it
    cli = tmp_path / "cli.musicxml"
    assert main(["render", str(exported), "-o", str(cli), "--style", tiny_style, "--seed", "1",
                 "--strength", "1.0"]) == 0
    assert _notation(result) == _notation(cli)
    shutil.rmtree(result.parent)


def test_install_from_a_built_wheel(tmp_path: Path) -> None:
    """Build the wheel, install it (alone) into a fresh virtual environment that sees this
    machine's packages, and install the plugin from there. ``--ignore-installed``: the
    venv sees this machine's styletx too, which pip must neither keep nor touch."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(ROOT)], check=True, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("styletx-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--ignore-installed", str(wheel)], check=True, timeout=600)
    dest = tmp_path / "Documents" / "MuseScore3" / "Plugins"
    out = subprocess.run([env_dir / "bin" / "styletx", "install-musescore-plugin", "--dest", str(dest)],
                         capture_output=True, text=True, check=True, timeout=120, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    installed = dest / "styletx" / PLUGIN_NAME
    assert out.stdout.strip() == f"installed {installed}"
    text = installed.read_text()
    assert f'property string python: "{python}"' in text  # the fallback runs the venv's styletx
    assert "@URL@" not in text and 'serviceUrl: "http://127.0.0.1:8765"' in text
    where = subprocess.run([python, "-c", "import styletx; print(styletx.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path,
                           env={"PATH": os.environ["PATH"]})
    assert where.stdout.startswith(str(env_dir)), where.stdout  # the wheel's copy, not this tree
