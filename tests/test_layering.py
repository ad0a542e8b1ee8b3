"""The package's layers: which subpackage may import which, and what stays torch-free.

The flow is MIDI (``io``) or a score (``score``, which reads MIDI through ``io`` too) ->
music (``music``) -> model and sampler (``model``) -> MIDI, with the style folder's format and
the installed styles (``stylefolder``) one floor above the model, ``training`` and
``evaluation`` beside the render path and the application modules (``api``, ``batch``,
``cli``, ``preview``, ``styles``, ...) on top. The rules
below are the ones each subpackage's docstring states; they are checked on the source,
so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "styletx"

# What each subpackage may import from styletx (first name after ``styletx.``).
ALLOWED = {
    "io": {"errors", "io", "music"},
    "score": {"errors", "io", "music", "score"},
    "music": {"errors", "music"},
    "model": {"errors", "music", "model"},
    # the style folder: below both training (which writes it) and the application (which reads it)
    "stylefolder": {"errors", "io", "music", "model", "stylefolder"},
    "training": {"errors", "paths", "io", "score", "music", "model", "stylefolder", "training"},
    "evaluation": {"errors", "paths", "io", "score", "music", "model", "training", "styles", "evaluation",
                   "api"},
    # the HTTP service and the MuseScore plugin: every library layer, never the CLI
    "service": {"errors", "paths", "io", "score", "music", "model", "styles", "api", "diagnostics",
                "preview", "evaluation", "service", "__version__"},
}
# Third-party packages a subpackage must not import at all.
FORBIDDEN = {
    "io": {"torch", "safetensors", "music21", "matplotlib"},
    "score": {"torch", "safetensors", "matplotlib"},
    "music": {"torch", "safetensors", "mido", "pretty_midi", "music21", "matplotlib"},
    "model": {"mido", "pretty_midi", "matplotlib"},
    "stylefolder": {"mido", "pretty_midi", "matplotlib", "music21"},  # torch only lazily (see TORCH_FREE)
}
# The application modules on the render path: they never reach training, evaluation or the CLI.
RENDER_PATH = {"api", "batch", "batch_ray", "describe", "preview", "styles", "progress", "diagnostics",
               "errors", "paths"}
TOP = {"__init__", "__main__", "cli"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "checkpoints" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add("<relative import>")  # the package uses absolute imports only
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"styletx.{a.name}" for a in node.names] if node.module == "styletx" else [node.module]
            found |= set(names)
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layers(path: Path) -> None:
    layer = _layer(path)
    imports = _imports(path)
    own = {m.split(".")[1] for m in imports if m.startswith("styletx.")}
    if layer in ALLOWED:
        assert own <= ALLOWED[layer], f"{layer} may not import styletx.{sorted(own - ALLOWED[layer])}"
        third = {m.split(".")[0] for m in imports}
        assert not third & FORBIDDEN.get(layer, set()), f"{layer} imports {sorted(third & FORBIDDEN[layer])}"
    elif layer in RENDER_PATH:
        assert not own & {"training", "evaluation", "cli"}, f"{layer} (render path) imports {sorted(own)}"
    else:
        assert layer in TOP, f"{path.name} is in no layer: put it in a subpackage, RENDER_PATH or TOP"
    assert "<relative import>" not in imports
    if layer != "__main__":
        assert "cli" not in own, "only __main__ may import the CLI"


def test_every_subpackage_says_what_it_owns_and_may_import() -> None:
    for layer in ALLOWED:
        doc = " ".join((importlib.import_module(f"styletx.{layer}").__doc__ or "").split())
        assert "may import" in doc, f"styletx.{layer} has no paragraph on what it may import"


def test_the_checker_catches_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from styletx.model.network import StyleNet\n    import torch\n")
    assert {"styletx.model.network", "torch"} <= _imports(bad)


TORCH_FREE = [
    *(f"styletx.{layer}.{p.stem}" for layer in ("io", "score", "music")
      for p in sorted((PACKAGE / layer).glob("[!_]*.py"))),
    "styletx", "styletx.cli", "styletx.styles", "styletx.progress", "styletx.diagnostics",
    "styletx.preview", "styletx.model.config", "styletx.model.settings", "styletx.training.recipes",
    "styletx.stylefolder.format", "styletx.stylefolder.installed",
    "styletx.evaluation.metrics", "styletx.describe", "styletx.model.threads",
    "styletx.service.settings", "styletx.service.plugin",
]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_does_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"{module} imports torch"


def test_the_api_still_reaches_torch_lazily() -> None:
    code = "import sys, styletx; styletx.transfer; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_rendering_loads_neither_training_nor_evaluation() -> None:
    code = ("import sys, styletx.api, styletx.batch, styletx.preview; "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('styletx.')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(ast.literal_eval(out.stdout.strip()))
    assert {"api", "io", "music", "model"} <= loaded
    assert not loaded & {"training", "evaluation", "cli"}, loaded
