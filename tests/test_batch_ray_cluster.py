"""``styletx batch --engine ray --address`` on a two-node Ray cluster, in a namespace with only loopback.

``ray start --head`` plus a second ``ray start --address`` node with its own CPU and
resources: the files of one batch run on both nodes, with the bytes of ``--engine
local``, and the CLI with ``--address`` converts, reports and skips on a rerun.

Loopback: on this machine Ray 2.60 turns ``--node-ip-address 127.0.0.1`` into the
machine's own address, unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which refuses a
second node; on any other node address its gRPC servers listen on every interface. So
the whole cluster runs in one subprocess under ``unshare --net --pid``
(tests/ray_cluster_run.py): a network namespace whose only interface is ``lo``, where
"every interface" is loopback and the machine's address does not exist. There Ray finds
no route out, falls back to the host name (127.0.0.1 here) and keeps 127.0.0.1; the
driver records what listens (``ss -ltn``) and the test asserts it is all loopback. The
pid namespace confines ``ray stop --force`` to this cluster, and everything in it dies
with the subprocess. Without ``unshare`` (not root, no CAP_SYS_ADMIN) the module skips.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY_STYLE
from raytools import outputs, require_ray, tree

from styletx.api import TransferOptions
from styletx.batch import BatchOptions, run_batch

require_ray()

UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
DRIVER = Path(__file__).with_name("ray_cluster_run.py")


def _namespaces() -> str | None:
    """Why ``unshare`` cannot make the namespaces here, or None when it can."""
    try:
        done = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "no unshare (util-linux)"
    return None if done.returncode == 0 else f"unshare --net --pid failed: {done.stderr.strip()}"


@pytest.fixture(scope="module")
def cluster_run(_tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The driver's run in its namespace: (its folder, its JSON result)."""
    why = _namespaces()
    if why:
        pytest.skip(f"the two-node Ray test needs a private network namespace: {why}")
    work = tmp_path_factory.mktemp("rc")
    tree(work, copies=3)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(STYLETX_MODELS=str(_tiny_models), RAY_USAGE_STATS_ENABLED="0",
               PYTHONPATH=os.pathsep.join([str(DRIVER.parent), env.get("PYTHONPATH", "")]))
    # At the timeout unshare is killed, then its child (--kill-child), and with it the whole pid namespace.
    done = subprocess.run([*UNSHARE, sys.executable, str(DRIVER), str(work), TINY_STYLE], env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return work, json.loads((work / "result.json").read_text())


def test_only_loopback_listens(cluster_run: tuple[Path, dict]) -> None:
    _, result = cluster_run
    assert result["interfaces"] == {"lo": ["127.0.0.1/8", "::1/128"]}
    assert result["node_ips"] == ["127.0.0.1", "127.0.0.1"]
    assert result["listening"], "ss saw no Ray server"
    for local in result["listening"]:
        host = local.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
        assert host != "*" and ipaddress.ip_address(host).is_loopback, local


def test_files_run_on_both_nodes_with_the_local_bytes(
    cluster_run: tuple[Path, dict], tiny_style: str, tmp_path: Path
) -> None:
    work, result = cluster_run
    assert result["api"]["jobs"] == 2 and result["api"]["ok"] == 9 and result["api"]["failed"] == 2
    assert len(result["api"]["nodes"]) == 2, "every file ran on one node"
    options = BatchOptions(tiny_style, TransferOptions().replace(sweeps=1, seed=6))
    run_batch([work / "in"], tmp_path / "local", options, progress=False)
    assert outputs(work / "api") == outputs(tmp_path / "local")


def test_cli_with_an_address(cluster_run: tuple[Path, dict]) -> None:
    _, result = cluster_run
    assert result["cli"] == [
        {"status": 2, "counts": {"ok": 9, "failed": 2, "skipped": 0}},  # 2: the two bad files
        {"status": 2, "counts": {"ok": 0, "failed": 2, "skipped": 9}},
    ]
