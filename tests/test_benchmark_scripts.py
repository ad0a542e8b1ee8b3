"""Every benchmark script still imports against the library as it is.

The benchmarks are run by hand, not by the suite, so a moved function broke one unseen
(``bench_tempo_map.py`` imported ``describe`` from ``styletx.cli`` after it had moved to
``styletx.describe``). Importing each script runs its imports and definitions, not its
``main``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_benchmark_script_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their sibling modules
    spec = importlib.util.spec_from_file_location(f"_bench_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] == "styletx":
            raise
        pytest.skip(f"{script.name} needs {err.name}, an optional dependency not installed here")
    finally:
        sys.modules.pop(spec.name, None)
    assert callable(getattr(module, "main", None)) or script.stem == "melody_sources", script.name
