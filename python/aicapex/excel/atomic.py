"""Write a file so that readers only ever see the old or the new version, never half of one.

:func:`atomic_write` lets a writer fill a temporary file in the target's own folder (same
file system, so the final :func:`os.replace` is atomic), keeps one backup of the previous
version as ``<name>.bak`` and only then moves the new file into place. If the writer raises,
or the user presses Ctrl-C, the temporary file is removed and the target is left untouched.

:func:`check_writable` explains in one line why a target cannot be written (missing folder,
read-only folder, read-only file) before any expensive work starts.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aicapex.errors import AicapexError

__all__ = ["atomic_write", "backup_path", "check_writable"]

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
#: A temporary file untouched this long next to its target is the leftover of a killed write.
STALE_SECONDS = 60


def backup_path(target: Path) -> Path:
    """The single backup kept next to ``target``: ``<name>.bak``.

    >>> backup_path(Path("out/AI_Capex_Monitor_Acme_2026-03-31.xlsx")).name
    'AI_Capex_Monitor_Acme_2026-03-31.xlsx.bak'
    """
    target = Path(target)
    return target.with_name(target.name + ".bak")


def _read_only(path: Path) -> bool:
    # os.access alone is not enough: root may write anything, yet a file or folder with
    # no write bit at all was marked read-only on purpose and is treated as such.
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not (mode & _WRITE_BITS)


def check_writable(target: Path) -> None:
    """Raise a one-line :class:`AicapexError` if ``target`` cannot be (re)written.

    Checks that the folder exists and is a writable folder, and that an existing target is a
    writable regular file.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise AicapexError(f"cannot write {target}: folder {folder} does not exist")
    if not folder.is_dir():
        raise AicapexError(f"cannot write {target}: {folder} is not a folder")
    if target.exists():
        if target.is_dir():
            raise AicapexError(f"cannot write {target}: it is a folder")
        if _read_only(target):
            raise AicapexError(f"cannot write {target}: the file is read-only")
    if _read_only(folder):
        raise AicapexError(f"cannot write {target}: folder {folder} is read-only")


def _new_file_mode(target: Path) -> int:
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _keep_backup(target: Path) -> None:
    bak = backup_path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak.tmp",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        try:
            os.link(target, tmp)  # cheap: the new target gets a new inode on os.replace
        except OSError:
            shutil.copy2(target, tmp)
        os.replace(tmp, bak)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _remove_stale_temps(target: Path) -> None:
    """Delete what a killed write (SIGKILL, power loss: no cleanup can run) left next to
    ``target``: only the names made here for it (``.<stem>.*.tmp<suffix>`` and files a writer
    derived from that name, ``.<name>.*.bak.tmp``), and only when older than
    :data:`STALE_SECONDS`, so that a write still in progress keeps its file."""
    cutoff = time.time() - STALE_SECONDS
    patterns = (f".{glob.escape(target.stem)}.*.tmp{glob.escape(target.suffix)}*",
                f".{glob.escape(target.name)}.*.bak.tmp")
    for pattern in patterns:
        for leftover in target.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def atomic_write(target: Path, writer: Callable[[Path], None], *, backup: bool = True) -> Path:
    """Call ``writer(tmp)`` on a temporary path next to ``target``, then move it into place.

    Parameters
    ----------
    target
        The file to create or replace.
    writer
        Writes the complete new file at the path it is given (the file exists, empty, when
        the writer is called; writers such as openpyxl's ``save`` simply overwrite it).
    backup
        Keep the previous ``target`` as ``<name>.bak`` (one backup, replaced each time).

    Returns
    -------
    Path
        ``target``.

    Notes
    -----
    On any exception, including :class:`KeyboardInterrupt`, the temporary file is removed,
    ``target`` and its backup are untouched and the exception propagates. The new file gets
    the mode of the file it replaces (or the umask default), not mkstemp's 0600. A kill that
    cannot be caught (SIGKILL) leaves the hidden temporary file behind, never a damaged
    target; the next write to the same target removes such leftovers older than a minute.
    """
    target = Path(target)
    check_writable(target)
    _remove_stale_temps(target)
    # The temporary name keeps the extension: some writers check it (.xlsm for macros).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        if not tmp.is_file():
            raise AicapexError(f"writing {target} failed: the writer produced no file")
        os.chmod(tmp, _new_file_mode(target))
        if backup and target.is_file():
            _keep_backup(target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target
