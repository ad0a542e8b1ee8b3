"""Throughput and latency of ``styletx serve`` against the CLI's, on the same machine.

``python benchmarks/bench_serve.py [--style jazz] [--jobs 2] [--requests 16] [--clients 8]``

* The service: ``styletx serve --jobs J`` on 127.0.0.1, then ``--clients`` parallel httpx
  clients send ``--requests`` transfers of the 32-bar benchmark piece (the one
  ``bench_render.py`` times), after one warm-up request per worker (the workers load the
  style on first use). Prints requests per minute and p50/p95 latency.
* The CLI: ``--cli-runs`` cold ``styletx render`` processes one after another (what a script
  or a plugin without the service gets), and ``styletx batch --jobs J`` over as many copies
  of the piece as requests (the CLI's best parallel throughput).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import test_piece

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _styletx(*args: str) -> list[str]:
    return [sys.executable, "-m", "styletx", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_service(src: Path, args: argparse.Namespace) -> dict[str, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(_styletx("serve", "--port", str(port), "--jobs", str(args.jobs),
                                       "--queue", str(args.requests)),
                              env=ENV, stderr=subprocess.DEVNULL)
    data = src.read_bytes()

    def send(seed: int) -> float:
        t0 = time.perf_counter()
        r = httpx.post(f"{url}/v1/transfer", files={"file": (src.name, data)},
                       data={"style": args.style, "seed": str(seed)}, timeout=600)
        r.raise_for_status()
        return time.perf_counter() - t0

    try:
        for _ in range(120):
            try:
                httpx.get(f"{url}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        with ThreadPoolExecutor(args.jobs) as pool:  # every worker loads the style once
            list(pool.map(send, range(args.jobs)))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            latencies = list(pool.map(send, range(args.requests)))
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(120)
    return {"per_minute": 60 * args.requests / wall, "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95), "wall": wall}


def bench_cli(src: Path, tmp: Path, args: argparse.Namespace) -> dict[str, float]:
    cold = []
    for i in range(args.cli_runs):
        t0 = time.perf_counter()
        subprocess.run(_styletx("render", str(src), "--style", args.style, "--seed", str(i),
                                "--force", "-o", str(tmp / f"cli{i}.mid")),
                       env=ENV, check=True, capture_output=True)
        cold.append(time.perf_counter() - t0)
    copies = tmp / "copies"
    copies.mkdir()
    for i in range(args.requests):
        shutil.copy(src, copies / f"piece{i:02d}.mid")
    t0 = time.perf_counter()
    subprocess.run(_styletx("batch", str(copies), "-o", str(tmp / "batch"), "--style", args.style,
                            "--jobs", str(args.jobs)), env=ENV, check=True, capture_output=True)
    batch = time.perf_counter() - t0
    return {"render_per_minute": 60 / statistics.median(cold), "render_median": statistics.median(cold),
            "batch_per_minute": 60 * args.requests / batch}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", default="jazz")
    p.add_argument("--jobs", type=int, default=2, help="worker processes, service and batch")
    p.add_argument("--requests", type=int, default=16)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--cli-runs", type=int, default=4)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        src = tmp / "piece32.mid"
        from styletx.io.writer import write_midi

        song = test_piece()
        write_midi(src, song, song.tracks)
        service = bench_service(src, args)
        cli = bench_cli(src, tmp, args)
    print(f"32 bars of 4/4, style {args.style}, {args.jobs} worker(s), {os.cpu_count()} CPUs")
    print(f"service, {args.clients} clients, {args.requests} requests: "
          f"{service['per_minute']:.1f} requests/min, latency p50 {service['p50']:.2f} s, "
          f"p95 {service['p95']:.2f} s")
    print(f"CLI: cold `styletx render` one at a time {cli['render_per_minute']:.1f}/min "
          f"(median {cli['render_median']:.2f} s); `styletx batch --jobs {args.jobs}` "
          f"{cli['batch_per_minute']:.1f}/min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
