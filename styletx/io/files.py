"""Safe output files: atomic, never over an input, never over a file by surprise.

A user's output file (MIDI, MusicXML, WAV, PNG) goes through :func:`atomic_write`, so
a crash or Ctrl-C never leaves a half-written file and an input file can never be
clobbered, not even with ``--force``. Files styletx owns and rewrites (every file of a
checkpoint, the benchmark's reports, the style classifier) go through
:func:`replace_file`, the same atomic write that may replace the old file. Cache files
(corpora, lead sheets) are written to a temporary name and renamed, which is atomic too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from styletx.errors import StyleTxError

StrPath = str | os.PathLike[str]


def _same_file(a: Path, b: Path) -> bool:
    """Return whether two paths name the same file (symlinks and hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_target(path: StrPath, *, force: bool = False, protect: Iterable[StrPath] = ()) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if styletx may write it, else raise.

    Raises
    ------
    StyleTxError
        If ``path`` is (or links to) one of ``protect`` -- even with ``force`` --,
        is a directory, sits in a missing directory, or exists and ``force`` is false.
    """
    target = Path(path)
    for p in protect:
        if _same_file(target, Path(p)):
            raise StyleTxError(f"refusing to overwrite the input file {os.fspath(p)!r}")
    if target.is_dir():
        raise StyleTxError(f"{os.fspath(target)!r} is a directory")
    if not target.parent.is_dir():
        raise StyleTxError(f"directory {os.fspath(target.parent)!r} does not exist")
    if target.exists() and not force:
        raise StyleTxError(f"{os.fspath(target)!r} already exists (use --force to overwrite it)")
    return target


def _open_temp(target: Path) -> tuple[int, Path]:
    """Create a fresh temporary file next to ``target`` (same filesystem, so rename is atomic).

    ``os.open`` with mode 0o666 lets the umask pick the final permissions,
    unlike :mod:`tempfile`, whose files are private (0o600).
    """
    while True:
        tmp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           0o666), tmp
        except FileExistsError:
            continue


def atomic_write(
    path: StrPath, data: bytes, *, force: bool = False, protect: Iterable[StrPath] = ()
) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same directory, are flushed to
    disk, and are then moved into place, so readers see either the old file
    or the complete new one.

    Parameters
    ----------
    path
        Output file.
    data
        The complete file contents.
    force
        Allow replacing an existing file (never one of ``protect``).
    protect
        Paths that must never be written, typically the command's inputs.

    Raises
    ------
    StyleTxError
        If the target may not be written (see :func:`check_target`) or the
        write itself fails (disk full, permissions).
    """
    protect = list(protect)
    target = check_target(path, force=force, protect=protect)
    try:
        fd, tmp = _open_temp(target)
    except OSError as e:
        raise StyleTxError(f"cannot write {os.fspath(target)!r}: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if force:
            # Re-check right before the rename: the target may have become an input link.
            check_target(target, force=True, protect=protect)
            os.replace(tmp, target)
        else:
            _place_new(tmp, target)
    except OSError as e:
        raise StyleTxError(f"cannot write {os.fspath(target)!r}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return target


def replace_file(path: StrPath, data: str | bytes) -> Path:
    """Atomically write (or replace) a file styletx owns, such as one of a checkpoint's.

    Text is written as UTF-8. Unlike an output, the file may exist: a training
    run rewrites its record and best weights after every epoch.
    """
    return atomic_write(path, data.encode() if isinstance(data, str) else data, force=True)


def _place_new(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` still does not exist.

    A hard link fails atomically if the target appeared since the check;
    filesystems without hard links fall back to check-then-rename.
    """
    try:
        os.link(tmp, target)
    except FileExistsError as e:
        raise StyleTxError(
            f"{os.fspath(target)!r} already exists (use --force to overwrite it)"
        ) from e
    except OSError:
        if target.exists():
            raise StyleTxError(
                f"{os.fspath(target)!r} already exists (use --force to overwrite it)"
            ) from None
        os.replace(tmp, target)
