"""``styletx batch --engine ray``: the same batch on a Ray cluster.

The contract is :mod:`styletx.batch`'s, and so is most of the code: the same
planning (:func:`~styletx.batch.plan`), per-file seeds, skipping of finished files,
JSON report and exit status (:func:`~styletx.batch.run_jobs`), and the same
:func:`~styletx.batch.convert_one` per file. Only the workers differ: ``jobs``
Ray actors, each of which loads the style once and converts one file per call,
so the bytes of every file are those of ``--engine local`` on the same build.

Ray core, not Ray Data
----------------------
Ray Data's natural shape (read the inputs, ``map_batches`` with a callable class
as an actor pool) was weighed and not taken, because the batch's contract is per
file and Ray Data's unit of failure and progress is a block:

* a file that crashes its worker must be reported failed *by name* while the batch
  goes on. Ray Data retries a failed block and then fails the whole dataset, or,
  with ``max_errored_blocks``, drops the block without saying which rows it held;
* a killed worker's file must be retried and counted once; a driver that hands out
  one file per actor call sees each file's fate exactly once;
* the progress bar counts files done anywhere in the cluster, and an interrupted
  batch writes a report of what is done: both need per-file completions on the
  driver, which ``ray.wait`` on one call per file gives directly;
* the inputs are small (a few KB of MIDI each) and already listed by ``plan``; there
  is nothing for Ray Data's block streaming to gain, and its executor adds seconds of
  start-up per run.

So the driver keeps one call in flight per actor (a retried call never waits
behind another file) and actors are created with ``max_restarts=-1`` and
``max_task_retries=RETRIES``: Ray restarts a dead worker and retries its file;
after ``RETRIES`` retries the file is reported failed and the restarted actor goes
on with the next one.

Where files live
----------------
Local paths (a folder shared by every node, e.g. NFS) are read and written exactly
as the local engine does. URIs (``s3://``, ``gs://``, ``file://``...) go through
fsspec: each worker copies its input to a temporary folder, converts it there and
stores the output whole (an object store writes an object whole or not at all; a
local file system gets :func:`~styletx.io.files.atomic_write`'s temporary name and
rename). Report entries then name the file system's paths (without the protocol).

Loopback
--------
Without an address (nor ``$RAY_ADDRESS``) a local Ray is started, bound to
127.0.0.1 with the dashboard off. Ray 2.60 turns a node address of 127.0.0.1 into
the machine's own address unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which
also makes every Ray server listen on 127.0.0.1 only; so that is set (before Ray is
imported) for a local Ray. Usage statistics are off unless the user turns them on.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from styletx import batch
from styletx.batch import REPORT_NAME, BatchOptions, BatchReport, FileResult, Job
from styletx.diagnostics import LOGGER
from styletx.errors import StyleTxError
from styletx.io.files import StrPath, atomic_write
from styletx.score.read import SONG_SUFFIXES
from styletx.styles import load_style

INSTALL_HINT = "--engine ray needs Ray: pip install 'styletx[ray]'"
RETRIES = 2
"""How often a file is retried after its worker died; then it is reported failed."""
LOOPBACK = "127.0.0.1"

Hook = Callable[[Job], None]


@dataclass(frozen=True)
class RayOptions:
    """Where the cluster is and what each worker (actor) takes from it."""

    address: str | None = None  # None: $RAY_ADDRESS, else a local Ray
    jobs: int | None = None  # None: as many as the cluster's CPUs (and GPUs) allow
    num_cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise StyleTxError(INSTALL_HINT) from None
    return ray


def connect(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address`` (else ``$RAY_ADDRESS``), or start a local Ray on 127.0.0.1.

    A driver already connected stays on its cluster. Returns the ``ray`` module.
    """
    global _POOL
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address is None:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # see the module docstring
    ray = _ray()
    if ray.is_initialized():
        return ray
    _POOL = ((), [])  # actors of an earlier connection are gone with it
    quiet: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                             "logging_level": "warning"}
    if address is None:
        ray.init(address="local", num_cpus=num_cpus, _node_ip_address=LOOPBACK, **quiet)
        return ray
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or a Ray Client address (ray://...), which Ray resolves itself
        loopback = host == "localhost"
    # A cluster on this machine's loopback: the driver joins it there, not on the machine's address.
    node = {"_node_ip_address": host if host != "localhost" else LOOPBACK} if loopback else {}
    try:
        ray.init(address=address, **node, **quiet)
    except ConnectionError as e:
        raise StyleTxError(f"cannot reach the Ray cluster at {address}: {' '.join(str(e).split())}") from e
    return ray


def default_jobs(ray: Any, options: RayOptions) -> int:
    """As many workers as the cluster's CPUs (and, with GPUs per worker, its GPUs) allow."""
    if options.num_cpus_per_worker <= 0 or options.gpus_per_worker < 0:
        raise StyleTxError("--num-cpus-per-worker must be above 0 and --gpus-per-worker at least 0")
    resources = ray.cluster_resources()
    jobs = int(resources.get("CPU", 1) // options.num_cpus_per_worker)
    if options.gpus_per_worker > 0:
        jobs = min(jobs, int(resources.get("GPU", 0) // options.gpus_per_worker))
    if jobs < 1:
        raise StyleTxError(f"the Ray cluster has too few CPUs/GPUs for one worker "
                           f"({dict(CPU=resources.get('CPU', 0), GPU=resources.get('GPU', 0))})")
    return jobs


# --------------------------------------------------------------------------- files by URI


def _is_uri(spec: StrPath) -> bool:
    return "://" in os.fspath(spec)


def _expander(fs: Any) -> Callable[[Sequence[StrPath]], list[tuple[Path, Path]]]:
    """:func:`styletx.batch.expand_inputs` for a file system reached through fsspec."""
    import glob

    def expand(specs: Sequence[StrPath]) -> list[tuple[Path, Path]]:
        found: dict[str, tuple[Path, Path]] = {}
        for spec in map(os.fspath, specs):
            if glob.has_magic(spec):
                root = batch._glob_root(spec)
                matches = [m for m in fs.glob(spec) if fs.isfile(m)]
            elif fs.isdir(spec):
                root = Path(spec)
                matches = [f for f in fs.find(spec) if Path(f).suffix.lower() in SONG_SUFFIXES]
            elif fs.isfile(spec):
                root, matches = Path(spec).parent, [spec]
            else:
                raise StyleTxError(f"no such file or folder: {fs.unstrip_protocol(spec)}")
            for m in matches:
                found.setdefault(m, (Path(m), root))
        return [found[k] for k in sorted(found)]

    return expand


def _put(fs: Any, path: str, data: bytes) -> None:
    """Store a whole file: atomically on a local file system, as one object elsewhere."""
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, force=True)
    else:
        fs.pipe_file(path, data)


def _convert_remote(job: Job, options: BatchOptions, fs_in: Any, fs_out: Any) -> FileResult:
    """:func:`styletx.batch.convert_one` on a local copy of the input, then store the outputs."""
    with tempfile.TemporaryDirectory(prefix="styletx-ray-") as tmp:
        local = Job(Path(tmp, "in", job.src.name), Path(tmp, "out", job.dst.name), job.rel, job.seed)
        local.src.parent.mkdir()
        try:
            fs_in.get_file(os.fspath(job.src), os.fspath(local.src))
        except Exception as e:  # any file system's error: this file fails, the batch goes on
            result = FileResult("", "", "failed", f"cannot read it: {type(e).__name__}: {e}",
                                seed=job.seed, worker=os.getpid())
        else:
            result = batch.convert_one(local, replace(options, force=True))
            outputs = [(made, job.dst.with_name(made.name)) for made in batch.job_outputs(local, options)]
            try:
                for made, dst in outputs if result.status == "ok" else []:
                    _put(fs_out, os.fspath(dst), made.read_bytes())
            except Exception as e:
                result.status, result.reason = "failed", f"cannot store it: {type(e).__name__}: {e}"
    result.input, result.output = os.fspath(job.src), os.fspath(job.dst)
    return result


# --------------------------------------------------------------------------- workers


class Converter:
    """One Ray worker: loads the style once, then converts one file per call."""

    def __init__(self, style: str, device: str) -> None:
        batch._init_worker(style, device)

    def convert(self, job: Job, options: BatchOptions, fs_in: Any, fs_out: Any,
                hook: Hook | None) -> FileResult:
        if hook is not None:
            hook(job)
        if fs_in is None:
            return batch.convert_one(job, options)
        return _convert_remote(job, options, fs_in, fs_out)


_POOL: tuple[tuple[Any, ...], list[Any]] = ((), [])
"""This driver's actors and what they were made for (style, device, CPUs, GPUs): a later
batch with the same settings reuses them instead of starting and loading them again."""


def _actors(ray: Any, options: BatchOptions, ray_options: RayOptions, n: int) -> list[Any]:
    """``n`` actors for ``options``: the pool's, topped up; a pool for other settings is ended first."""
    global _POOL
    key = (options.style, options.device, ray_options.num_cpus_per_worker, ray_options.gpus_per_worker)
    if _POOL[0] != key:
        _end_pool(ray)
    worker = ray.remote(num_cpus=ray_options.num_cpus_per_worker, num_gpus=ray_options.gpus_per_worker,
                        max_restarts=-1, max_task_retries=RETRIES)(Converter)
    actors = _POOL[1] + [worker.remote(options.style, options.device)
                         for _ in range(n - len(_POOL[1]))]
    _POOL = (key, actors)
    return actors[:n]


def _end_pool(ray: Any) -> None:
    global _POOL
    for actor in _POOL[1]:
        ray.kill(actor)
    _POOL = ((), [])


def _engine(ray: Any, ray_options: RayOptions, fs_in: Any, fs_out: Any, hook: Hook | None) -> batch.Engine:
    def run(pending: list[Job], options: BatchOptions, jobs: int,
            record: Callable[[FileResult], None]) -> None:
        queue = deque(pending)
        running: dict[Any, tuple[Job, Any]] = {}

        def submit(actor: Any) -> None:
            if queue:
                job = queue.popleft()
                running[actor.convert.remote(job, options, fs_in, fs_out, hook)] = (job, actor)

        try:
            for actor in _actors(ray, options, ray_options, min(jobs, len(pending))):
                submit(actor)
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)  # Ctrl-C gets through
                if not ready:
                    continue
                job, actor = running.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as e:
                    result = FileResult(
                        os.fspath(job.src), os.fspath(job.dst), "failed",
                        f"its worker died on it {RETRIES + 1} times ({type(e).__name__})", seed=job.seed)
                record(result)
                submit(actor)
        except BaseException:
            _end_pool(ray)  # interrupted: no worker goes on writing after the report
            if fs_out is None:
                _sweep_temporaries(ray, running, options)
            raise

    return run


def _sweep_temporaries(ray: Any, running: dict[Any, tuple[Job, Any]], options: BatchOptions) -> None:
    """Remove the temporary files that killed workers' atomic writes left beside their outputs.

    ``ray.kill`` ends a worker at once, perhaps between writing its temporary file and moving it
    into place, which nothing on the worker can then undo. The killed tasks are waited for
    (briefly) first, so no write is still going while the folder is swept.
    """
    if running:
        ray.wait(list(running), num_returns=len(running), timeout=5.0)
    for job, _ in running.values():
        for out in batch.job_outputs(job, options):
            for tmp in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
                tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the batch


def run_ray_batch(
    specs: Sequence[StrPath],
    out_dir: StrPath,
    options: BatchOptions,
    ray_options: RayOptions | None = None,
    *,
    report_path: StrPath | None = None,
    progress: bool = True,
    _hook: Hook | None = None,
) -> tuple[BatchReport, str]:
    """:func:`styletx.batch.run_batch` on Ray; returns the report and where it was written.

    ``specs`` and ``out_dir`` are local paths every node can reach, or URIs (then
    all of them go through fsspec). ``_hook`` is for tests only (fault injection): it
    is called in the worker before each file.
    """
    ray_options = ray_options or RayOptions()
    ray = connect(ray_options.address)
    room = default_jobs(ray, ray_options)
    if ray_options.jobs is not None and ray_options.jobs < 1:
        raise StyleTxError("--jobs must be at least 1")
    if (ray_options.jobs or room) > room:  # actors beyond that would wait for resources for ever
        LOGGER.warning("the Ray cluster has room for %d workers, not %d", room, ray_options.jobs)
    jobs = min(ray_options.jobs or room, room)
    uris = any(map(_is_uri, [*specs, out_dir]))
    if uris or jobs == 1:  # (run_batch itself checks when jobs > 1)
        load_style(options.style, device=options.device)  # an unknown style fails here, once
    if not uris:  # a folder every node sees: run_batch's files
        report = batch.run_batch(specs, out_dir, options, jobs=jobs, report_path=report_path,
                                 progress=progress, engine=_engine(ray, ray_options, None, None, _hook))
        return report, os.fspath(report_path or Path(out_dir) / REPORT_NAME)
    from fsspec.core import url_to_fs

    t0 = time.perf_counter()
    located = [url_to_fs(os.fspath(s)) for s in specs]
    fs_in = located[0][0]
    if any(fs.protocol != fs_in.protocol for fs, _ in located):
        raise StyleTxError("with URIs, all inputs must be on one file system")
    fs_out, out_path = url_to_fs(os.fspath(out_dir))
    todo, failed = batch.plan([p for _, p in located], out_path, options, expand=_expander(fs_in))
    fs_report, report_file = url_to_fs(os.fspath(report_path) if report_path else
                                       f"{os.fspath(out_dir).rstrip('/')}/{REPORT_NAME}")
    if any(os.fspath(j.src) == report_file for j in todo):
        raise StyleTxError(f"the report {report_file} would overwrite an input")
    fs_out.makedirs(out_path, exist_ok=True)
    where = fs_report.unstrip_protocol(report_file)

    def done(job: Job) -> bool:
        return not options.force and all(fs_out.exists(os.fspath(p)) for p in batch.job_outputs(job, options))

    def write_report(report: BatchReport) -> None:
        _put(fs_report, report_file, report.to_json().encode())

    report = batch.run_jobs(todo, failed, options, jobs=jobs,
                            engine=_engine(ray, ray_options, fs_in, fs_out, _hook),
                            done=done, write_report=write_report, progress=progress, started=t0)
    return report, where
