"""Files opened safely: every write goes through a temporary that nobody can plant in advance,
and every read of an image is of a regular file, bounded by its size.

Writing (``atomic_write``, ``new_temporary`` + ``publish``): the temporary sits beside the
target as ``.<name>.<16 random hex digits>.partial``, created with O_CREAT|O_EXCL|O_NOFOLLOW
(a name taken by anything, a planted symlink included, is never opened: another random name
is drawn), filled, optionally fsynced, then renamed onto the target. rename() replaces a
directory entry and never follows a link at the target name; a symlink found there before
the rename is refused (``SymlinkTargetError``) rather than silently replaced, so nothing is
ever written through a link and a planted one is noticed. Permissions are the umask's, as
with a plain open().

Reading (``open_regular``): the path is stat()ed, opened with O_NONBLOCK (a FIFO swapped in
cannot block the open) and fstat()ed; anything that is not the same regular file is refused
with ``NotRegularFileError``, so /dev/zero, a FIFO or a socket is never read.
``sha256_of_file`` hashes exactly the size seen at open, in chunks, checking a stop event
between them so that Ctrl-C acts at once even in a large file.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator, Optional, Union

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

TEMP_SUFFIX = ".partial"
_TOKEN_HEX = 16
_NAME_MAX = 255  # bytes of one file name on the usual file systems
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation at the descriptor level
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
_READ_FLAGS = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | _O_BINARY
_CHUNK = 1 << 20


class NotRegularFileError(OSError):
    """The path names something other than a regular file (a FIFO, a device, a folder…)."""


class SymlinkTargetError(OSError):
    """A symbolic link sits at the name a file is to be written to; it is left as it is."""


class FileTooLargeError(OSError):
    """A file past the size a reader accepts: not read."""


class ReadStopped(Exception):
    """A read was stopped from outside (Ctrl-C): not a problem of the file."""


# -- writing -------------------------------------------------------------------------------

def temporary_name(target_name: str) -> str:
    """``.<target name>.<random>.partial``, shortened so that it stays a valid file name."""
    token = secrets.token_hex(_TOKEN_HEX // 2)
    room = _NAME_MAX - len(f"..{token}{TEMP_SUFFIX}".encode())
    stem = os.fsencode(target_name)[:room].decode("utf-8", "ignore") if room > 0 else ""
    return f".{stem}.{token}{TEMP_SUFFIX}"


def temporary_target(name: str) -> Optional[str]:
    """The target name (possibly shortened) of one of our temporaries, or None when ``name``
    is not one."""
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    stem, dot, token = name[1:-len(TEMP_SUFFIX)].rpartition(".")
    if not dot or len(token) != _TOKEN_HEX or any(c not in "0123456789abcdef" for c in token):
        return None
    return stem


def new_temporary(target: PathLike) -> tuple[int, Path]:
    """A new, empty temporary beside ``target``, created exclusively: (descriptor, path)."""
    target = Path(target)
    for _ in range(100):
        tmp = target.with_name(temporary_name(target.name))
        try:
            return os.open(tmp, _CREATE_FLAGS, 0o666), tmp
        except FileExistsError:  # taken (by chance, or planted): draw another name
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


def refuse_symlink(target: PathLike) -> None:
    """Raise SymlinkTargetError when a symbolic link sits at ``target``."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise SymlinkTargetError(errno.ELOOP, "a symbolic link is in the way; not replaced", str(target))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | _O_CLOEXEC)
    except OSError:  # Windows cannot open folders; some file systems refuse
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(tmp: PathLike, target: PathLike, *, durable: bool = False) -> Path:
    """Rename the finished temporary onto ``target`` (a link there is refused, never followed)."""
    target = Path(target)
    refuse_symlink(target)
    os.replace(tmp, target)
    if durable:
        _fsync_folder(target.parent)
    return target


def publish_new(tmp: PathLike, target: PathLike, *, durable: bool = False) -> Path:
    """Like publish, but never replaces anything: FileExistsError when ``target`` exists
    (link() is atomic; where the file system has no hard links, a check then a rename)."""
    target = Path(target)
    try:
        os.link(tmp, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, exFAT, some network shares)
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "already exists", str(target)) from None
        os.replace(tmp, target)
    else:
        os.unlink(tmp)
    if durable:
        _fsync_folder(target.parent)
    return target


def lock_exclusively(fd: int) -> bool:
    """Take an advisory lock on an open file without waiting (False: someone holds it). Where
    there are no such locks (Windows), True."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without flock: nothing to learn
        return True
    return True


def remove_quietly(path: PathLike) -> None:
    """Remove a temporary we created; never fails."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("could not remove the unfinished file %s", path, exc_info=True)


@contextmanager
def atomic_write(target: PathLike, mode: str = "w", *, encoding: Optional[str] = None,
                 newline: Optional[str] = None, errors: Optional[str] = None,
                 durable: bool = False) -> Iterator[IO]:
    """Write ``target`` whole or not at all: the block writes a safe temporary (see the module
    docstring), which becomes ``target`` when the block ends and is removed when anything
    (Ctrl-C included) escapes it. ``durable``: fsync the file and its folder (exports, backups)."""
    if mode not in ("w", "wb"):
        raise ValueError("atomic_write writes text ('w') or bytes ('wb')")
    target = Path(target)
    refuse_symlink(target)
    fd, tmp = new_temporary(target)
    try:
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline, errors=errors)
        with fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        publish(tmp, target, durable=durable)
    except BaseException:
        remove_quietly(tmp)
        raise


def open_for_append(path: PathLike, encoding: Optional[str] = "utf-8", errors: Optional[str] = None) -> IO[str]:
    """A text file opened for appending (created if needed, mode by the umask): never through
    a symlink at its name (ELOOP), and only a regular file (a FIFO cannot block the open)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC, 0o666)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st)
        _clear_nonblocking(fd)
        return os.fdopen(fd, "a", encoding=encoding, errors=errors)
    except BaseException:
        os.close(fd)
        raise


def remove_stale_temporaries(folder: PathLike, target_matches: Callable[[str], bool], older_than: float, *,
                             also: Optional[Callable[[str], bool]] = None, companions: tuple[str, ...] = ()
                             ) -> list[str]:
    """Remove our temporaries in ``folder`` (and files named by ``also``: earlier versions'
    names) whose target name satisfies ``target_matches``, that nobody has written to for
    ``older_than`` seconds and that no running writer holds locked (``lock_exclusively``):
    a killed run's leftovers. ``companions``: suffixes of files that go with each (SQLite's
    -journal). Returns the names removed."""
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in entries:
        stem = temporary_target(entry.name)
        if not ((stem is not None and target_matches(stem)) or (also is not None and also(entry.name))):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < older_than:
                continue
            fd = os.open(entry.path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError:
            continue
        try:
            if not lock_exclusively(fd):
                continue  # its writer is still at work
        finally:
            os.close(fd)
        for leftover in (entry.path, *(entry.path + suffix for suffix in companions)):
            if os.path.lexists(leftover):
                remove_quietly(leftover)
        removed.append(entry.name)
    return removed


# -- reading -------------------------------------------------------------------------------

def _clear_nonblocking(fd: int) -> None:
    """O_NONBLOCK only kept the open from blocking; it means nothing for a regular file."""
    if _O_NONBLOCK:
        import fcntl  # POSIX only, as is O_NONBLOCK

        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_NONBLOCK)


def _not_regular(path: PathLike, st: os.stat_result) -> NotRegularFileError:
    mode = st.st_mode
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a file")
    return NotRegularFileError(errno.EINVAL, f"not a regular file ({kind})", str(path))


def open_regular(path: PathLike) -> IO[bytes]:
    """``path`` opened for reading in binary, if (at the moment of opening) it is a regular
    file; NotRegularFileError otherwise. Symlinks to regular files are followed."""
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(path, before)
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise NotRegularFileError(errno.EAGAIN, "the file was replaced while it was being opened", str(path))
        _clear_nonblocking(fd)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_of_file(path: PathLike, stop: Optional[threading.Event] = None, max_bytes: Optional[int] = None) -> str:
    """The sha256 of a regular file, read up to the size it had when opened (a file that keeps
    growing cannot keep us reading); ReadStopped when ``stop`` is set meanwhile;
    FileTooLargeError, unread, when it is larger than ``max_bytes``."""
    with open_regular(path) as fh:
        left = os.fstat(fh.fileno()).st_size
        if max_bytes is not None and left > max_bytes:
            raise FileTooLargeError(errno.EFBIG, f"file too large to be an image ({left / 1024**3:.1f} GB; files "
                                    f"over {max_bytes / 1024**3:g} GB are not read)", str(path))
        digest = hashlib.sha256()
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while left > 0:
            if stop is not None and stop.is_set():
                raise ReadStopped(str(path))
            n = fh.readinto(view[:min(left, _CHUNK)])
            if not n:
                break  # truncated meanwhile: the next run sees another size and reads it again
            digest.update(view[:n])
            left -= n
        return digest.hexdigest()


__all__ = [
    "NotRegularFileError", "SymlinkTargetError", "FileTooLargeError", "ReadStopped", "TEMP_SUFFIX", "temporary_name",
    "temporary_target", "new_temporary", "refuse_symlink", "publish", "publish_new", "lock_exclusively",
    "remove_quietly", "atomic_write", "remove_stale_temporaries", "open_regular", "open_for_append", "sha256_of_file",
]
