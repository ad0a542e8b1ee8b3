"""What the Ray tests share: Ray's settings for this machine, the input tree, and fault hooks.

Importing this module sets the environment every Ray process of the tests inherits:
usage statistics off, a local Ray on 127.0.0.1 only, and token authentication with one
token for the whole test session (a driver keeps the first token it saw, so the local Ray and the two-node
cluster must share it). The hooks run inside Ray workers (``run_ray_batch``'s
``_hook``); they are pickled by value, since the workers cannot import this folder.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import time
from pathlib import Path

import pytest

from styletx.batch import Job

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = ["pickup.mid", "meter_3_4.mid", "overlapping_same_pitch.mid"]

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Set before Ray is imported: the local Ray binds to 127.0.0.1 (see styletx.batch_ray's docstring).
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_AUTH_MODE"] = "token"
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(16))


def require_ray() -> None:
    """Skip the module without Ray, except in CI, where a missing Ray fails it."""
    if importlib.util.find_spec("ray") is not None:
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(importlib.import_module(__name__))
        return
    if os.environ.get("CI") == "true":
        pytest.fail("Ray is not installed: .ci/run installs '.[ray]'", pytrace=False)
    pytest.skip("Ray is not installed (pip install '.[ray]')", allow_module_level=True)


def tree(root: Path, copies: int = 1) -> Path:
    """An input folder: the good files (``copies`` of each, one set in a subfolder), a corrupt
    and a non-MIDI file."""
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    for i in range(copies):
        tag = f"{i}_" if copies > 1 else ""
        shutil.copy(FIXTURES / GOOD[0], src / f"{tag}{GOOD[0]}")
        shutil.copy(FIXTURES / GOOD[1], src / f"{tag}{GOOD[1]}")
        shutil.copy(FIXTURES / GOOD[2], src / "sub" / f"{tag}{GOOD[2]}")
    shutil.copy(FIXTURES / "corrupt_track.mid", src / "corrupt_track.mid")
    (src / "notes.mid").write_text("not a MIDI file\n")
    return src


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.mid"))}


class Crash:
    """The worker that takes file ``name`` dies (``os._exit``), every time; attempts go to ``log``."""

    def __init__(self, name: str, log: Path) -> None:
        self.name, self.log = name, log

    def __call__(self, job: Job) -> None:
        if job.src.name == self.name:
            with open(self.log, "a") as f:
                f.write(f"{os.getpid()}\n")
            os._exit(1)


class StallOnce:
    """The first worker that takes file ``name`` writes its pid to ``marker`` and waits to be killed."""

    def __init__(self, name: str, marker: Path) -> None:
        self.name, self.marker = name, marker

    def __call__(self, job: Job) -> None:
        if job.src.name == self.name and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            time.sleep(60)


class Slow:
    """Every file takes ``seconds`` longer (so that a batch can be interrupted midway)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, job: Job) -> None:
        time.sleep(self.seconds)


class NodeLog:
    """Each file leaves the id of the Ray node that converted it in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, job: Job) -> None:
        import ray

        (self.folder / job.rel.replace("/", "_")).write_text(ray.get_runtime_context().get_node_id())
