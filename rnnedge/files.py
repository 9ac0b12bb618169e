"""Every file and folder rnnedge writes goes through here: complete or not at all.

A writer gets a temporary path beside the target (same folder, so the final `os.replace` is
atomic on POSIX), writes it, and only a writer that returned moves it into place. Any
failure — an exception, a KeyboardInterrupt, a full disk — removes the temporary and leaves
the target as it was. The result gets the permissions an ordinary `open()` would give it
(0666 / 0777 less the umask), not mkstemp's 0600. OS errors become one-line RnnedgeErrors
naming the path.

    atomic_write(path, data)             bytes or str in one call
    with atomic_output(path) as tmp:     any writer that takes a path (torch.save, np.save,
        writer(tmp)                      savefig, a compiler's -o)
    with atomic_directory(path) as tmp:  a folder of files (generated firmware); an existing
        write_files_into(tmp)            target folder is replaced whole
    cache_dir("kernels")                 the one cache location (CACHE_VARIABLE)

May import: the standard library and rnnedge.errors.
"""

import contextlib
import os
import shutil
import tempfile

from rnnedge.errors import RnnedgeError


CACHE_VARIABLE = "RNNEDGE_CACHE_DIR"
OLD_CACHE_VARIABLE = "RNNEDGE_CACHE"  # the TinyML models' former name, still accepted


def cache_dir(part: str) -> str:
    """Folder `part` of rnnedge's cache (built kernels, converted TinyML models):
    $RNNEDGE_CACHE_DIR/part, else $RNNEDGE_CACHE/part, else $XDG_CACHE_HOME/rnnedge/part,
    else ~/.cache/rnnedge/part. Not created here."""
    root = os.environ.get(CACHE_VARIABLE) or os.environ.get(OLD_CACHE_VARIABLE)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                  ".cache")
        root = os.path.join(base, "rnnedge")
    return os.path.join(root, part)


def _umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _folder_of(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RnnedgeError(f"cannot write {path}: folder {folder} does not exist")
    if os.path.isdir(path) and not os.path.islink(path):
        raise RnnedgeError(f"cannot write {path}: it is a folder")
    return folder


def _os_error(path, exc: OSError) -> RnnedgeError:
    return RnnedgeError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def atomic_output(path, suffix: str = ""):
    """Yield a temporary file path beside `path`; move it over `path` when the block ends.

    `suffix` keeps an extension on the temporary for writers that look at it (np.save adds
    '.npy' to a name without one; matplotlib picks the format from it). The file is created
    empty first, so a writer that opens it for writing replaces its contents.
    """
    path = os.fspath(path)
    folder = _folder_of(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}",
                                   dir=folder)
    except OSError as exc:
        raise _os_error(path, exc) from None
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _os_error(path, exc) from None
    except BaseException:
        _remove(tmp)
        raise


def atomic_write(path, data) -> str:
    """Write bytes (or str, as UTF-8) to `path` atomically; returns the path."""
    if isinstance(data, str):
        data = data.encode()
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return os.fspath(path)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary folder beside `path`; it replaces `path` (if any) when the block ends.

    An existing target is renamed aside first and removed only after the new folder is in
    place, so an interrupt at any point leaves either the old folder or the new one.
    """
    path = os.fspath(path).rstrip(os.sep) or os.sep
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise RnnedgeError(f"cannot write {path}: folder {parent} does not exist")
    if os.path.exists(path) and not os.path.isdir(path):
        raise RnnedgeError(f"cannot write {path}: it exists and is not a folder")
    try:
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise _os_error(path, exc) from None
    old = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if os.path.isdir(path):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".old",
                                   dir=parent)
            os.replace(path, os.path.join(old, "previous"))
        os.replace(tmp, path)
    except OSError as exc:
        _restore(path, old)
        shutil.rmtree(tmp, ignore_errors=True)
        raise _os_error(path, exc) from None
    except BaseException:
        _restore(path, old)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _restore(path, old):
    """Put a target folder that was renamed aside back where it was."""
    if old is not None and not os.path.exists(path):
        with contextlib.suppress(OSError):
            os.replace(os.path.join(old, "previous"), path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove(tmp):
    with contextlib.suppress(OSError):
        os.unlink(tmp)
