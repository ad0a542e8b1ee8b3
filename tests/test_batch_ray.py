"""``styletx batch --engine ray`` on a real local Ray (one per module, 2 CPUs): the local engine's contract.

Same bytes and report as ``--engine local``, resumable, atomic, bad files reported,
a killed worker retried and a crashing file failed while the batch goes on, an
interrupted batch completed by a second run, inputs and outputs by URI. The
two-node cluster is in test_batch_ray_cluster.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from raytools import Crash, Slow, StallOnce, outputs, require_ray, tree

from styletx.api import TransferOptions
from styletx.batch import BatchOptions, run_batch
from styletx.cli import main
from styletx.errors import StyleTxError

require_ray()

from styletx import batch_ray  # noqa: E402  (after the check that Ray is there)
from styletx.batch_ray import RETRIES, RayOptions, run_ray_batch  # noqa: E402

FAST = TransferOptions().replace(sweeps=1)
VARYING = {"seconds", "peak_rss_mib", "worker"}  # per run, not per engine


@pytest.fixture(scope="module")
def local_ray(_tiny_models: Path) -> Any:
    """A local Ray with 2 CPUs, started as ``styletx batch --engine ray`` starts one."""
    patch = pytest.MonkeyPatch()
    patch.setenv("STYLETX_MODELS", str(_tiny_models))  # the workers find the tiny style
    patch.delenv("RAY_ADDRESS", raising=False)
    ray = batch_ray.connect(num_cpus=2)
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]  # never the machine's address
    yield ray
    ray.shutdown()
    patch.undo()


def _files(report_file: Path) -> dict[str, dict[str, Any]]:
    body = json.loads(report_file.read_text())
    return {Path(f["input"]).name: {k: v for k, v in f.items() if k not in VARYING | {"input", "output"}}
            for f in body["files"]}


def test_same_bytes_report_and_exit_status_as_the_local_engine(
    local_ray: Any, tiny_style: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tree(tmp_path)
    common = ["batch", str(src), "--style", tiny_style, "--sweeps", "1", "--seed", "4"]
    assert main([*common, "-o", str(tmp_path / "local")]) == 2  # two bad files
    assert main([*common, "-o", str(tmp_path / "ray"), "--engine", "ray"]) == 2
    assert "failed" in capsys.readouterr().out
    assert outputs(tmp_path / "ray") == outputs(tmp_path / "local")
    assert len(outputs(tmp_path / "ray")) == 3
    local, ray = (_files(tmp_path / d / "styletx-report.json") for d in ("local", "ray"))
    assert ray == local
    assert "corrupt" in ray["corrupt_track.mid"]["reason"]
    assert "not a MIDI file" in ray["notes.mid"]["reason"]
    body = json.loads((tmp_path / "ray" / "styletx-report.json").read_text())
    assert body["counts"] == {"ok": 3, "failed": 2, "skipped": 0}
    assert body["jobs"] == 2  # the cluster's CPUs
    assert len({f["worker"] for f in body["files"] if f["status"] == "ok"}) >= 1
    assert all(f["peak_rss_mib"] > 0 for f in body["files"] if f["status"] == "ok")


def test_resumable_with_force_and_atomic(local_ray: Any, tiny_style: str, tmp_path: Path) -> None:
    src = tree(tmp_path)
    options = BatchOptions(tiny_style, FAST.replace(seed=2))
    out = tmp_path / "out"
    first, _ = run_ray_batch([src], out, options, progress=False)
    assert first.count("ok") == 3
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.mid")}
    again, where = run_ray_batch([src], out, options, progress=False)
    assert (again.count("ok"), again.count("skipped"), again.count("failed")) == (0, 3, 2)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mid")} == stamps  # nothing rewritten
    assert where == str(out / "styletx-report.json")
    before = outputs(out)
    forced, _ = run_ray_batch([src], out, BatchOptions(tiny_style, FAST.replace(seed=2), force=True),
                              progress=False)
    assert forced.count("ok") == 3 and outputs(out) == before  # same seed, same bytes
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert {p.name for p in src.rglob("*")} >= {"pickup.mid", "notes.mid"}  # inputs untouched


def test_a_killed_worker_is_retried_and_each_file_counted_once(
    local_ray: Any, tiny_style: str, tmp_path: Path
) -> None:
    src = tree(tmp_path)
    marker = tmp_path / "victim.pid"
    killed: list[int] = []

    def kill_when_stalled() -> None:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        pid = int(marker.read_text())
        os.kill(pid, signal.SIGKILL)  # from outside, mid-file, as an OOM killer or a lost node would
        killed.append(pid)

    killer = threading.Thread(target=kill_when_stalled)
    killer.start()
    options = BatchOptions(tiny_style, FAST.replace(seed=9))
    report, _ = run_ray_batch([src], tmp_path / "out", options, progress=False,
                              _hook=StallOnce("meter_3_4.mid", marker))
    killer.join()
    assert killed
    assert len(report.results) == 5 and report.count("ok") == 3 and report.count("failed") == 2
    victim = next(r for r in report.results if r.input.endswith("meter_3_4.mid"))
    assert victim.status == "ok" and victim.worker != killed[0]  # done again by the restarted actor
    run_batch([src], tmp_path / "local", options, progress=False)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "local")


def test_a_file_that_crashes_its_worker_fails_after_the_retries(
    local_ray: Any, tiny_style: str, tmp_path: Path
) -> None:
    src = tree(tmp_path, copies=2)
    attempts = tmp_path / "attempts"
    report, _ = run_ray_batch([src], tmp_path / "out", BatchOptions(tiny_style, FAST), progress=False,
                              _hook=Crash("0_pickup.mid", attempts))
    crashed = next(r for r in report.results if r.input.endswith("0_pickup.mid"))
    assert crashed.status == "failed" and "worker died" in crashed.reason
    assert len(attempts.read_text().split()) == RETRIES + 1
    assert report.count("ok") == 5  # every other good file, some after the crashes
    assert len(report.results) == 8


def test_inputs_and_outputs_by_uri(local_ray: Any, tiny_style: str, tmp_path: Path) -> None:
    src = tree(tmp_path)
    options = BatchOptions(tiny_style, FAST.replace(seed=3))
    report, where = run_ray_batch([f"file://{src}/**/*.mid"], f"file://{tmp_path}/out", options,
                                  progress=False)
    assert where == f"file://{tmp_path}/out/styletx-report.json"
    assert (report.count("ok"), report.count("failed")) == (3, 2)
    run_batch([f"{src}/**/*.mid"], tmp_path / "local", options, progress=False)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "local")
    assert (_files(tmp_path / "out" / "styletx-report.json")
            == _files(tmp_path / "local" / "styletx-report.json"))
    again, _ = run_ray_batch([f"file://{src}"], f"file://{tmp_path}/out", options, progress=False)
    assert again.count("skipped") == 3
    with pytest.raises(StyleTxError, match="no such file or folder: file://"):
        run_ray_batch([f"file://{tmp_path}/nowhere"], f"file://{tmp_path}/out", options)


def test_progress_bar_counts_every_file(local_ray: Any, tiny_style: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = tree(tmp_path, copies=2)
    master, slave = os.openpty()  # a real terminal, so the bar draws as it does for a user
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 columns
    with open(slave, "w") as tty:
        monkeypatch.setattr(sys, "stderr", tty)
        run_ray_batch([src], tmp_path / "out", BatchOptions(tiny_style, FAST), RayOptions(jobs=2))
        tty.flush()
        os.set_blocking(master, False)
        chunks = []
        while True:  # read it all before the terminal closes
            try:
                chunks.append(os.read(master, 1 << 16))
            except BlockingIOError:
                break
        text = b"".join(chunks).decode(errors="replace")
    os.close(master)
    assert "8/8" in text and "batch → tiny" in text


def test_an_interrupted_batch_is_completed_by_a_second_run(
    local_ray: Any, tiny_style: str, tmp_path: Path
) -> None:
    src = tree(tmp_path, copies=3)
    out = tmp_path / "out"
    options = BatchOptions(tiny_style, FAST.replace(seed=5))

    def interrupt_after_first_output() -> None:
        deadline = time.monotonic() + 60
        while not list(out.rglob("*.mid")) and time.monotonic() < deadline:
            time.sleep(0.02)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # Ctrl-C

    threading.Thread(target=interrupt_after_first_output, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_ray_batch([src], out, options, progress=False, _hook=Slow(0.4))
    assert json.loads((out / "styletx-report.json").read_text())["interrupted"] is True
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    time.sleep(0.5)  # the ended workers are gone: nothing lands after this
    done = {p: p.stat().st_mtime_ns for p in out.rglob("*.mid")}
    assert 1 <= len(done) < 9

    report, _ = run_ray_batch([src], out, options, progress=False)
    assert report.count("skipped") == len(done) and report.count("ok") == 9 - len(done)
    assert {p: p.stat().st_mtime_ns for p in done} == done  # only what was missing was converted
    run_batch([src], tmp_path / "local", options, progress=False)
    assert outputs(out) == outputs(tmp_path / "local")


def test_without_ray_a_one_line_install_hint(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['ray'] = None; from styletx.cli import main; "
            f"raise SystemExit(main(['batch', {str(tmp_path)!r}, '-o', {str(tmp_path / 'o')!r}, "
            "'--engine', 'ray']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == f"styletx: error: {batch_ray.INSTALL_HINT}"
