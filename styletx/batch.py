"""Many files at once: ``styletx batch 'songs/**/*.mid' -o out/ --style jazz``.

Rules
-----
* Inputs: glob patterns (``**`` recurses), folders (every ``.mid``/``.midi``/``.kar``/``.smf``
  below them) and files. Each output mirrors its input's path relative to the
  inputs' common root (a folder given, a pattern's fixed prefix, or a file's
  folder), with a ``.mid`` suffix.
* Inputs are never overwritten. When the output folder *is* the common root,
  outputs are named ``<stem>_<style>.mid`` beside their inputs, and files that
  look like such outputs of another input are not taken as inputs (so a rerun
  does not convert its own results). Any other output path that names an
  input fails that file with a reason.
* Each file's seed is derived from the batch seed and its relative path
  (:func:`file_seed`), so a rerun, in any order and with any ``--jobs``, gives
  the same bytes.
* Resumable: a file whose output exists is skipped unless ``force``. Outputs are
  written atomically, so an interrupted batch leaves complete files only.
* One failing file never stops the batch; the report says why it failed.
* Exit status of the CLI: 0 when every file is ok or skipped, 2 when any failed
  or no input matched.

Workers are separate processes (``spawn``, so torch's threads are never forked)
that load the style once and use one torch thread each; ``jobs=1`` runs in
this process. ``--engine ray`` (:mod:`styletx.batch_ray`) runs the same batch,
under the same rules, with Ray actors as the workers.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

from styletx.api import TransferOptions, render_variants, variant_paths
from styletx.diagnostics import LOGGER, collect_warnings
from styletx.errors import StyleTxError
from styletx.io.files import StrPath, atomic_write
from styletx.score.read import SONG_SUFFIXES
from styletx.styles import Style, load_style

REPORT_NAME = "styletx-report.json"
Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class BatchOptions:
    """What every file of a batch is rendered with: ``styletx render``'s options, plus the batch's own.

    ``transfer.sampler.seed`` is the batch seed (``None`` counts as 0): each file
    samples with its own seed derived from it (:func:`file_seed`).
    """

    style: str
    transfer: TransferOptions = field(default_factory=TransferOptions)
    force: bool = False
    wav: bool = False
    device: str = "cpu"

    @property
    def seed(self) -> int:
        """The batch seed."""
        return self.transfer.sampler.seed or 0


@dataclass(frozen=True)
class Job:
    """One input, where its output goes and the seed it gets."""

    src: Path
    dst: Path
    rel: str  # the input's path relative to the common root, with forward slashes
    seed: int


@dataclass
class FileResult:
    """What happened to one input; one entry of the JSON report."""

    input: str
    output: str
    status: Status
    reason: str = ""
    seconds: float = 0.0
    seed: int = 0
    warnings: str = ""
    peak_rss_mib: float = 0.0  # of the process that converted it
    worker: int = 0  # that process's id


@dataclass
class BatchReport:
    """All results, in input order, with the settings that produced them."""

    style: str
    seed: int
    jobs: int
    seconds: float
    results: list[FileResult] = field(default_factory=list)
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    def to_json(self) -> str:
        counts = {s: self.count(s) for s in ("ok", "failed", "skipped")}
        body = {"style": self.style, "seed": self.seed, "jobs": self.jobs,
                "seconds": round(self.seconds, 3), "interrupted": self.interrupted,
                "counts": counts, "files": [asdict(r) for r in self.results]}
        return json.dumps(body, indent=2) + "\n"


# --------------------------------------------------------------------------- planning


def file_seed(seed: int, rel: str) -> int:
    """A 63-bit seed from the batch seed and a file's relative path (stable across runs)."""
    digest = hashlib.sha256(f"{seed}:{rel}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _glob_root(pattern: str) -> Path:
    """The fixed folder a pattern starts from: everything before the first wildcard part."""
    parts = Path(pattern).parts
    fixed = [p for p in parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)),
                                     len(parts))]]
    return Path(*fixed) if fixed else Path(".")


def expand_inputs(specs: Sequence[StrPath]) -> list[tuple[Path, Path]]:
    """Expand patterns, folders and files into ``(file, root)`` pairs, sorted, without repeats.

    Raises
    ------
    StyleTxError
        A plain path that does not exist (a pattern matching nothing is not an error
        on its own; :func:`plan` raises when nothing matched at all).
    """
    found: dict[Path, tuple[Path, Path]] = {}

    def add(path: Path, root: Path) -> None:
        found.setdefault(path.resolve(), (path, root))

    for spec in specs:
        text = os.fspath(spec)
        path = Path(text)
        if glob.has_magic(text):
            root = _glob_root(text)
            for match in sorted(glob.glob(text, recursive=True)):
                if Path(match).is_file():
                    add(Path(match), root)
        elif path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.suffix.lower() in SONG_SUFFIXES and f.is_file():
                    add(f, path)
        elif path.is_file():
            add(path, path.parent)
        else:
            raise StyleTxError(f"no such file or folder: {text}")
    return sorted(found.values(), key=lambda e: os.fspath(e[0]))


def plan(
    specs: Sequence[StrPath], out_dir: StrPath, options: BatchOptions,
    expand: Callable[[Sequence[StrPath]], list[tuple[Path, Path]]] = expand_inputs,
) -> tuple[list[Job], list[FileResult]]:
    """Pair every input with its output path and seed.

    ``expand`` lists the ``(file, root)`` pairs (:func:`expand_inputs`; the Ray
    engine passes one that lists a file system given by URI).

    Returns
    -------
    (jobs, failed)
        The files to consider, and the ones that already failed planning (an
        output that would overwrite an input, or two inputs with one output).

    Raises
    ------
    StyleTxError
        When no input matched.
    """
    pairs = expand(specs)
    if not pairs:
        raise StyleTxError(f"no input files matched {' '.join(map(os.fspath, specs))}")
    root = Path(os.path.commonpath([os.path.abspath(r) for _, r in pairs]))
    out = Path(out_dir)
    in_place = out.resolve() == root.resolve()
    suffix = f"_{Path(options.style).name}" if in_place else ""
    if in_place:
        # Our own earlier outputs are not inputs: "x_jazz.mid" beside "x.mid".
        stems = {(p.resolve().parent, p.stem) for p, _ in pairs}
        pairs = [(p, r) for p, r in pairs if not (
            suffix and p.stem.endswith(suffix)
            and (p.resolve().parent, p.stem[: -len(suffix)]) in stems)]
    inputs = {p.resolve() for p, _ in pairs}
    jobs: list[Job] = []
    failed: list[FileResult] = []
    claimed: dict[Path, str] = {}
    for path, _ in pairs:
        rel_path = Path(os.path.relpath(os.path.abspath(path), root))
        rel = rel_path.as_posix()
        dst = out / rel_path.with_name(rel_path.stem + suffix + ".mid")
        seed = file_seed(options.seed, rel)
        key = dst.resolve()
        reason = ""
        if key in inputs:
            reason = f"its output {dst} is an input file; choose another output folder"
        elif key in claimed:
            reason = f"its output {dst} is also the output of {claimed[key]}"
        if reason:
            failed.append(FileResult(os.fspath(path), os.fspath(dst), "failed", reason, seed=seed))
            continue
        claimed[key] = rel
        jobs.append(Job(path, dst, rel, seed))
    return jobs, failed


def _wav_path(dst: Path) -> Path:
    return dst.with_suffix(".wav")


def job_outputs(job: Job, options: BatchOptions) -> list[Path]:
    """Every file a job writes: its output (or ``--variants``' ``STEM_1`` …), and their WAVs."""
    paths = variant_paths(job.dst, options.transfer.variants)
    return paths + ([_wav_path(p) for p in paths] if options.wav else [])


def _done(job: Job, options: BatchOptions) -> bool:
    """Whether a job's outputs all exist already (and may be kept)."""
    return not options.force and all(p.exists() for p in job_outputs(job, options))


# --------------------------------------------------------------------------- one file


_STYLE: Style | None = None
"""The style loaded in this process (by :func:`_init_worker` or :func:`run_batch`)."""
_STYLE_KEY: tuple[str, str] | None = None
"""What :data:`_STYLE` was loaded as: (style name, device), so another device reloads it."""


def _init_worker(style: str, device: str) -> None:
    """Process-pool initializer: one torch thread (workers are the parallelism), load once."""
    import torch

    global _STYLE, _STYLE_KEY
    torch.set_num_threads(1)
    _STYLE = load_style(style, device=device)
    _STYLE_KEY = (style, device)


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def convert_one(job: Job, options: BatchOptions) -> FileResult:
    """Render one file with the loaded style; every failure becomes a ``failed`` result.

    The warnings logged while this file is read and transferred are collected here,
    in whichever process runs it, and returned in the result (the parent logs them
    once per file), so ``--jobs`` never changes what is reported.
    """
    t0 = time.perf_counter()
    result = FileResult(os.fspath(job.src), os.fspath(job.dst), "ok", seed=job.seed)
    prefix = f"{job.src}: "  # the reader names the file; the report already does
    try:
        if _STYLE is None:
            raise RuntimeError("no style loaded in this process")
        written = variant_paths(job.dst, options.transfer.variants)
        if options.force or not all(p.exists() for p in written):
            job.dst.parent.mkdir(parents=True, exist_ok=True)
            with collect_warnings() as collected:
                render_variants(job.src, job.dst, _STYLE, options.transfer, force=True, seed=job.seed)
            result.warnings = "; ".join(m.removeprefix(prefix) for m in collected.messages)
        for path in written if options.wav else []:
            from styletx.preview import write_wav

            write_wav(path, _wav_path(path), force=True, protect=[job.src])
    except StyleTxError as e:
        reason = " ".join(str(e).split())
        result.status, result.reason = "failed", reason.removeprefix(prefix)
    except Exception as e:  # a bug on one odd file must not stop the batch
        result.status = "failed"
        result.reason = f"internal error: {type(e).__name__}: {' '.join(str(e).split())}"
    result.seconds = round(time.perf_counter() - t0, 3)
    result.peak_rss_mib = round(_peak_rss_mib(), 1)
    result.worker = os.getpid()
    return result


# --------------------------------------------------------------------------- the batch


Engine = Callable[[list[Job], BatchOptions, int, Callable[[FileResult], None]], None]
"""Converts the pending jobs with ``jobs`` workers, calling ``record`` once per file as it ends."""


def run_batch(
    specs: Sequence[StrPath],
    out_dir: StrPath,
    options: BatchOptions,
    *,
    jobs: int = 1,
    report_path: StrPath | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> BatchReport:
    """Convert every input; see the module docstring for the rules.

    Parameters
    ----------
    specs
        Glob patterns, folders and files.
    out_dir
        Output folder (created if missing).
    options
        Style and sampler settings shared by all files.
    jobs
        Worker processes; 1 runs in this process.
    report_path
        Where the JSON report goes (default ``out_dir/styletx-report.json``);
        it is written atomically, also when the batch is interrupted.
    progress
        Show a tqdm bar over files on stderr.
    engine
        Who converts the files (default: this process or a local process pool;
        :mod:`styletx.batch_ray` passes Ray's).

    Returns
    -------
    BatchReport
        One result per input, in input order.
    """
    if jobs < 1:
        raise StyleTxError("--jobs must be at least 1")
    t0 = time.perf_counter()
    todo, failed = plan(specs, out_dir, options)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report_file = Path(report_path) if report_path is not None else out / REPORT_NAME
    if jobs > 1:
        load_style(options.style, device=options.device)  # an unknown style fails here, once
    inputs = [j.src for j in todo]

    def write_report(report: BatchReport) -> None:
        atomic_write(report_file, report.to_json().encode(), force=True, protect=inputs)

    return run_jobs(todo, failed, options, jobs=jobs, engine=engine or _run,
                    done=lambda job: _done(job, options), write_report=write_report,
                    progress=progress, started=t0)


def run_jobs(
    todo: list[Job],
    failed: list[FileResult],
    options: BatchOptions,
    *,
    jobs: int,
    engine: Engine,
    done: Callable[[Job], bool],
    write_report: Callable[[BatchReport], None],
    progress: bool = True,
    started: float | None = None,
) -> BatchReport:
    """Skip the ``done`` jobs, convert the rest with ``engine`` and report: what every engine shares.

    The report is written by ``write_report``, also when the batch is interrupted.
    """
    from tqdm import tqdm

    t0 = time.perf_counter() if started is None else started
    results: dict[str, FileResult] = {r.input: r for r in failed}
    pending: list[Job] = []
    for job in todo:
        if done(job):
            results[os.fspath(job.src)] = FileResult(
                os.fspath(job.src), os.fspath(job.dst), "skipped",
                "output exists (use --force to redo it)", seed=job.seed)
        else:
            pending.append(job)
    report = BatchReport(options.style, options.seed, jobs, 0.0)
    bar = tqdm(total=len(pending), unit="file", file=sys.stderr, disable=not progress or None,
               desc=f"batch → {options.style}")

    def record(r: FileResult) -> None:
        results[r.input] = r
        if r.warnings:
            LOGGER.warning("%s: %s", r.input, r.warnings)
        bar.update(1)

    try:
        if pending:
            engine(pending, options, jobs, record)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        bar.close()
        report.results = sorted(results.values(), key=lambda r: r.input)
        report.seconds = time.perf_counter() - t0
        write_report(report)
    return report


def _run(
    pending: list[Job], options: BatchOptions, jobs: int, record: Callable[[FileResult], None]
) -> None:
    """Convert ``pending`` in this process or in a pool, calling ``record`` per file."""
    global _STYLE, _STYLE_KEY
    if jobs == 1:
        if _STYLE is None or _STYLE_KEY != (options.style, options.device):
            _STYLE = load_style(options.style, device=options.device)
            _STYLE_KEY = (options.style, options.device)
        for job in pending:
            record(convert_one(job, options))
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=get_context("spawn"),
                             initializer=_init_worker,
                             initargs=(options.style, options.device)) as pool:
        futures: dict[Future[FileResult], Job] = {
            pool.submit(convert_one, job, options): job for job in pending}
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    record(future.result())
                except BrokenProcessPool as e:
                    record(FileResult(os.fspath(job.src), os.fspath(job.dst), "failed",
                                      f"worker process died ({e})", seed=job.seed))
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def format_summary(report: BatchReport, report_file: StrPath) -> str:
    """The end-of-batch table: counts, then every failed file with its reason."""
    lines = [f"{'status':<8} {'files':>6}"]
    for status in ("ok", "failed", "skipped"):
        lines.append(f"{status:<8} {report.count(status):>6}")  # type: ignore[arg-type]
    failed = [r for r in report.results if r.status == "failed"]
    if failed:
        lines += ["", "failed:"]
        lines += [f"  {r.input}: {r.reason}" for r in failed]
    state = "interrupted after" if report.interrupted else "done in"
    lines += ["", f"{state} {report.seconds:.1f} s; report: {report_file}"]
    return "\n".join(lines)
