"""Driver of tests/test_batch_ray_cluster.py, run under ``unshare`` (a private network and pid namespace).

Brings loopback up, starts a two-node Ray cluster on 127.0.0.1, runs one batch with
:func:`~styletx.batch_ray.run_ray_batch` (a hook records each file's node) and the CLI
twice with ``--address``, records what listens, stops Ray, and writes it all as JSON
to ``WORK/result.json``. Usage: ``python ray_cluster_run.py WORK STYLE``, where ``WORK``
holds ``in/`` (the inputs); outputs go to ``WORK/api`` and ``WORK/cli``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from raytools import NodeLog, require_ray

from styletx.api import TransferOptions
from styletx.batch import BatchOptions
from styletx.cli import main

HOST = "127.0.0.1"
PORT = 6379  # free: nothing else lives in this network namespace


def _ray(*args: str) -> None:
    subprocess.run(["ray", *args], check=True, stdout=subprocess.DEVNULL)


def _interfaces() -> dict[str, list[str]]:
    """Each network interface of this namespace and its addresses (``ip -brief addr``)."""
    out = subprocess.run(["ip", "-brief", "addr"], check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: line.split()[2:] for line in out.splitlines()}


def _listening() -> list[str]:
    """The local address of every listening TCP socket in this namespace (``ss -ltnH``)."""
    out = subprocess.run(["ss", "-ltnH"], check=True, capture_output=True, text=True).stdout
    return [line.split()[3] for line in out.splitlines()]


def run(work: Path, style: str) -> dict[str, object]:
    # Before Ray is imported: raytools keeps Ray to one node; here only loopback exists anyway.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "1"
    require_ray()
    import ray

    from styletx.batch_ray import RayOptions, connect, run_ray_batch

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    common = ["--node-ip-address", HOST, "--num-cpus", "1", "--disable-usage-stats",
              "--temp-dir", str(work / "ray")]
    address = f"{HOST}:{PORT}"
    _ray("start", "--head", "--port", str(PORT), "--include-dashboard=false", *common)
    _ray("start", "--address", address, "--resources", '{"second_node": 1}', *common)
    try:
        connect(address)
        deadline = time.monotonic() + 60
        while ray.cluster_resources().get("CPU", 0) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(0.3)
        node_ips = [n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]]
        seen = work / "nodes"
        seen.mkdir()
        options = BatchOptions(style, TransferOptions().replace(sweeps=1, seed=6))
        report, _ = run_ray_batch([work / "in"], work / "api", options, RayOptions(address=address),
                                  progress=False, _hook=NodeLog(seen))
        api = {"jobs": report.jobs, "ok": report.count("ok"), "failed": report.count("failed"),
               "nodes": sorted({p.read_text() for p in seen.iterdir()})}
        listening = _listening()  # with the batch's workers still up
        ray.shutdown()  # the CLI connects as its own driver would
        args = ["batch", str(work / "in"), "-o", str(work / "cli"), "--style", style, "--sweeps", "1",
                "--engine", "ray", "--address", address, "--jobs", "2"]
        cli = []
        for _ in range(2):  # the second run skips what the first converted
            status = main(args)
            counts = json.loads((work / "cli" / "styletx-report.json").read_text())["counts"]
            cli.append({"status": status, "counts": counts})
        return {"interfaces": _interfaces(), "node_ips": node_ips, "listening": listening + _listening(),
                "api": api, "cli": cli}
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run(["ray", "stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    work = Path(sys.argv[1])
    result = run(work, sys.argv[2])
    (work / "result.json").write_text(json.dumps(result))
