"""``styletx batch --engine ray --address`` on a two-node Ray cluster on this machine.

``ray start --head`` plus a second ``ray start --address`` node with its own CPU and
resources, both on loopback and stopped at the end: the files of one batch run on
both nodes, with the bytes of ``--engine local``.

Loopback in Ray 2.60: ``--node-ip-address 127.0.0.1`` is rewritten to the machine's
own address (``resolve_ip_for_localhost``), except with
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which refuses to start a second node. So
the nodes use 127.0.0.2, another loopback address that Ray keeps as given: all
traffic stays on loopback, the dashboard is off, and token authentication guards the
ports (Ray's gRPC servers listen on every interface unless the node is 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from raytools import NodeLog, outputs, require_ray, tree

from styletx.api import TransferOptions
from styletx.batch import BatchOptions, run_batch
from styletx.cli import main

require_ray()

import ray  # noqa: E402  (after the check that Ray is there)

from styletx import batch_ray  # noqa: E402
from styletx.batch_ray import RayOptions, run_ray_batch  # noqa: E402

HOST = "127.0.0.2"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _stop(nodes: list[subprocess.Popen[bytes]]) -> None:
    """End each ``ray start --block`` and the Ray processes it started (its own process group)."""
    for node in nodes:
        os.killpg(node.pid, signal.SIGTERM)
    for node in nodes:
        try:
            node.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait(5)


@pytest.fixture(scope="module")
def cluster(_tiny_models: Path) -> Iterator[str]:
    """Two nodes of one CPU each; the second also has a custom resource. Yields the address."""
    if ray.is_initialized():
        ray.shutdown()  # a driver joins one cluster at a time
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    env["STYLETX_MODELS"] = str(_tiny_models)
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must fit
    common = ["--node-ip-address", HOST, "--num-cpus", "1", "--disable-usage-stats", "--block",
              "--temp-dir", temp]
    port = _free_port()
    address = f"{HOST}:{port}"
    log = open(Path(temp, "nodes.log"), "wb")
    nodes = [subprocess.Popen(["ray", "start", "--head", "--port", str(port), "--include-dashboard=false",
                               *common], env=env, stdout=log, stderr=log, start_new_session=True)]
    # The second node retries until the head's GCS answers, so both start at once.
    nodes.append(subprocess.Popen(["ray", "start", "--address", address, "--resources",
                                   '{"second_node": 1}', *common],
                                  env=env, stdout=log, stderr=log, start_new_session=True))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection((HOST, port), 0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the head node did not start"
                time.sleep(0.3)
        batch_ray.connect(address)
        while ray.cluster_resources().get("CPU", 0) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(0.3)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(nodes)
        log.close()


def test_files_run_on_both_nodes_with_the_local_bytes(
    cluster: str, tiny_style: str, tmp_path: Path
) -> None:
    src = tree(tmp_path, copies=3)
    seen = tmp_path / "nodes"
    seen.mkdir()
    options = BatchOptions(tiny_style, TransferOptions().replace(sweeps=1, seed=6))
    report, _ = run_ray_batch([src], tmp_path / "out", options, RayOptions(address=cluster),
                              progress=False, _hook=NodeLog(seen))
    assert report.jobs == 2 and report.count("ok") == 9 and report.count("failed") == 2
    nodes = {p.read_text() for p in seen.iterdir()}
    assert len(nodes) == 2, "every file ran on one node"
    run_batch([src], tmp_path / "local", options, progress=False)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "local")


def test_cli_with_an_address(cluster: str, tiny_style: str, tmp_path: Path) -> None:
    src = tree(tmp_path)
    out = tmp_path / "out"
    args = ["batch", str(src), "-o", str(out), "--style", tiny_style, "--sweeps", "1",
            "--engine", "ray", "--address", cluster, "--jobs", "2"]
    assert main(args) == 2  # the two bad files
    assert json.loads((out / "styletx-report.json").read_text())["counts"] == {
        "ok": 3, "failed": 2, "skipped": 0}
    assert main(args) == 2
    assert json.loads((out / "styletx-report.json").read_text())["counts"]["skipped"] == 3
