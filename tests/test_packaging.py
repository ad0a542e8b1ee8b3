"""The package-data patterns ship every file of the shipped styles, and each pattern matches one."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_package_data_patterns_match_the_checkpoints() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    source = ROOT / config["package-dir"]["styletx.checkpoints"]
    patterns = config["package-data"]["styletx.checkpoints"]
    matched = {pattern: set(source.glob(pattern)) for pattern in patterns}
    assert all(matched.values()), f"patterns that match no file: {[p for p, m in matched.items() if not m]}"
    data = {f for f in source.rglob("*")
            if f.is_file() and f.suffix not in (".py", ".pyc")}
    assert data - set().union(*matched.values()) == set(), "files the wheel would leave out"
