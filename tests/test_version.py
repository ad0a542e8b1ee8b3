"""One version (issue #18, item 9): spelled in styletx/__init__.py only, printed by --version,
read by the build from there, and the newest section of CHANGELOG.md."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import styletx
from styletx.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"styletx {styletx.__version__}"


def test_version_flag_in_a_fresh_process() -> None:
    out = subprocess.run([sys.executable, "-m", "styletx", "--version"], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["styletx", styletx.__version__]


def test_the_build_reads_the_version_from_the_package() -> None:
    from setuptools.config.pyprojecttoml import read_configuration

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert read_configuration(ROOT / "pyproject.toml", expand=True)["project"]["version"] \
        == styletx.__version__


def test_the_version_is_spelled_once_in_the_package() -> None:
    spelled = [p for p in (ROOT / "styletx").rglob("*.py")
               if re.search(rf"['\"]{re.escape(styletx.__version__)}['\"]", p.read_text())]
    assert spelled == [ROOT / "styletx" / "__init__.py"]


def test_the_changelog_opens_with_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", text, flags=re.M)
    assert versions[0] == styletx.__version__ == "0.2.0"
    assert "0.1.0" in versions
    newest = text.split(f"## [{versions[0]}]")[1].split("\n## [")[0]
    for kind in ("### Added", "### Changed", "### Fixed"):
        assert kind in newest
