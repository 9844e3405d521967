"""Write a file so that readers only ever see the old or the new version, never half of one,
and so that nobody else's save is ever overwritten.

:func:`atomic_write` lets a writer fill a temporary file in the target's own folder (same
file system, so the final :func:`os.replace` is atomic), keeps one backup of the previous
version as ``<name>.bak`` and only then moves the new file into place. If the writer raises,
or the user presses Ctrl-C, the temporary file is removed and the target is left untouched.
A symbolic link is written through: the file it points at is replaced, the link stays.

Read-modify-write (a refresh): take :func:`exclusive_lock` on the file, read it once with
:func:`read_snapshot`, and pass the snapshot's :class:`FileState` to ``atomic_write``, which
refuses to replace a file that changed since (an analyst's save in Excel, a sync client).

:func:`check_writable` explains in one line why a target cannot be written (missing folder,
read-only folder, read-only file) before any expensive work starts.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aicapex.errors import AicapexError

__all__ = ["FileState", "atomic_write", "backup_path", "check_writable", "exclusive_lock",
           "lock_path", "read_snapshot", "real_path"]

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
#: A temporary file untouched this long next to its target is the leftover of a killed write.
STALE_SECONDS = 60


def real_path(target: Path) -> Path:
    """The file a path stands for: symbolic links followed (the folder part as well).

    A write through a link must replace the file the link points at, beside that file, and
    leave the link in place; a second name for the same file must share its lock.
    """
    return Path(os.path.realpath(Path(target)))


@dataclass(frozen=True)
class FileState:
    """What identifies one version of a file: inode, size, modification time and content hash.

    The hash catches what the others miss: a sync client that rewrites a file in place with
    the same size and restores its modification time, or a clock with coarse resolution.
    """

    device: int
    inode: int
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path, data: bytes | None = None) -> FileState:
        """The state of ``path`` now (``data``: its bytes, if just read, saves a second read)."""
        st = os.stat(path)
        if data is None:
            data = Path(path).read_bytes()
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                   hashlib.sha256(data).hexdigest())

    def changed(self, path: Path) -> bool:
        """True when ``path`` is no longer this version (or is gone)."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return True
        if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != \
                (self.device, self.inode, self.size, self.mtime_ns):
            return True
        return hashlib.sha256(Path(path).read_bytes()).hexdigest() != self.sha256


def read_snapshot(path: Path) -> tuple[bytes, FileState]:
    """Read a whole file once, with the :class:`FileState` of exactly those bytes.

    Every later reader works on the returned bytes, so two readers (values, workbook) can
    never see two versions. A file that changes while it is read is refused.
    """
    path = Path(path)
    before = os.stat(path)
    data = path.read_bytes()
    state = FileState.of(path, data)
    if (before.st_ino, before.st_size, before.st_mtime_ns) != \
            (state.inode, state.size, state.mtime_ns) or len(data) != state.size:
        raise AicapexError(f"{path} changed while it was being read (saved by another program?);"
                           " try again")
    return data, state


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: hidden, beside the real file (links followed)."""
    real = real_path(target)
    return real.with_name(f".~aicapex.{real.name}.lock")


@contextlib.contextmanager
def exclusive_lock(target: Path) -> Iterator[Path]:
    """Hold the one aicapex lock on ``target`` (refresh, export) or refuse at once.

    A second refresh or export of the same file (another terminal, a scheduled job) does
    not wait: it stops with a one-line error, before reading anything. The lock is an OS
    lock (``flock`` / ``LockFileEx``, through the ``filelock`` package) on a hidden file
    beside the target, so it also works between machines sharing a folder where the file
    system supports locks, and is released by the OS if the process dies. The lock file is
    removed while the lock is still held (filelock tolerates that: a waiter that opened the
    old file notices it is unlinked and starts again), so nothing is left beside the target.
    """
    from filelock import FileLock, Timeout

    path = lock_path(target)
    lock = FileLock(str(path), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise AicapexError(
            f"{Path(target)} is being refreshed or exported by another aicapex run "
            f"(lock {path.name}); try again when it has finished"
        ) from None
    except OSError as exc:
        raise AicapexError(f"cannot lock {Path(target)}: {exc.strerror or exc}") from None
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):  # Windows: an open file cannot be removed
            path.unlink()
        lock.release()


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


def atomic_write(target: Path, writer: Callable[[Path], None], *, backup: bool = True,
                 unchanged: FileState | None = None,
                 guard: Callable[[], None] | None = None) -> Path:
    """Call ``writer(tmp)`` on a temporary path next to ``target``, then move it into place.

    Parameters
    ----------
    target
        The file to create or replace. A symbolic link is followed: the file it points at
        is replaced (its temporary file and backup beside it) and the link stays a link.
    writer
        Writes the complete new file at the path it is given (the file exists, empty, when
        the writer is called; writers such as openpyxl's ``save`` simply overwrite it).
    backup
        Keep the previous ``target`` as ``<name>.bak`` (one backup, replaced each time).
    unchanged
        The state of ``target`` when it was read (:func:`read_snapshot`): if the file is no
        longer that version when the new one is ready, nothing is written and a one-line
        :class:`AicapexError` says so (someone saved it meanwhile).
    guard
        Called last, just before the backup and the replace; raise to write nothing.

    Returns
    -------
    Path
        ``target``, as given.

    Notes
    -----
    On any exception, including :class:`KeyboardInterrupt`, the temporary file is removed,
    ``target`` and its backup are untouched and the exception propagates. The new file gets
    the mode of the file it replaces (or the umask default), not mkstemp's 0600. A kill that
    cannot be caught (SIGKILL) leaves the hidden temporary file behind, never a damaged
    target; the next write to the same target removes such leftovers older than a minute.
    The check of ``unchanged`` is made as late as possible, but between it and the rename
    another program could still save (a window of microseconds that only an OS-level
    compare-and-swap could close).
    """
    given = Path(target)
    target = real_path(given)
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
        if guard is not None:
            guard()
        if unchanged is not None and unchanged.changed(target):
            raise AicapexError(
                f"{given} changed while it was being refreshed (saved in Excel or by a sync "
                "client?); nothing was written and the saved version is kept: refresh again"
            )
        if backup and target.is_file():
            _keep_backup(target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return given
