"""Every benchmark script still imports against the library as it is.

The benchmarks are run by hand, not by the suite, so a moved function broke one unseen
(``bench_tempo_map.py`` imported ``describe`` from ``styletx.cli`` after it had moved to
``styletx.describe``). Importing each script runs its imports and definitions, not its
``main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_script

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_benchmark_script_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their sibling modules
    try:
        module = load_script(script, f"_bench_{script.stem}")
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] == "styletx":
            raise
        pytest.skip(f"{script.name} needs {err.name}, an optional dependency not installed here")
    assert callable(getattr(module, "main", None)) or script.stem == "melody_sources", script.name
