"""rnnedge.files: outputs appear complete or not at all, with the umask's permissions."""

import os
import stat

import pytest

from rnnedge.errors import RnnedgeError
from rnnedge.files import atomic_directory, atomic_output, atomic_write


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_write_bytes_and_text_with_umask_permissions(tmp_path, umask_022):
    target = tmp_path / "a.bin"
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _mode(target) == 0o644  # 0666 & ~022, as open() would give; not mkstemp's 0600
    atomic_write(target, "text")
    assert target.read_text() == "text"
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_failed_writer_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    for exc in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with atomic_output(target) as tmp:
                with open(tmp, "wb") as f:
                    f.write(b"half")
                raise exc
        assert target.read_bytes() == b"old"
        assert os.listdir(tmp_path) == ["a.bin"]


def test_missing_folder_and_folder_target_are_one_line_errors(tmp_path):
    with pytest.raises(RnnedgeError, match="does not exist"):
        atomic_write(tmp_path / "nope" / "a.bin", b"x")
    with pytest.raises(RnnedgeError, match="is a folder"):
        atomic_write(tmp_path, b"x")


def test_os_error_in_writer_is_one_line_and_leaves_nothing(tmp_path):
    import errno
    with pytest.raises(RnnedgeError, match="cannot write .*No space left on device"):
        with atomic_output(tmp_path / "a.bin"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert os.listdir(tmp_path) == []


def test_suffix_kept_for_writers_that_look_at_it(tmp_path):
    with atomic_output(tmp_path / "x.npy", suffix=".npy") as tmp:
        assert tmp.endswith(".npy")
        open(tmp, "wb").close()
    assert (tmp_path / "x.npy").exists()


def test_atomic_directory_new_and_replaced(tmp_path, umask_022):
    target = tmp_path / "fw"
    with atomic_directory(target) as tmp:
        (open(os.path.join(tmp, "a.c"), "w")).write("1")
    assert (target / "a.c").read_text() == "1"
    assert _mode(target) == 0o755
    with atomic_directory(target) as tmp:
        (open(os.path.join(tmp, "b.c"), "w")).write("2")
    assert sorted(os.listdir(target)) == ["b.c"]
    assert sorted(os.listdir(tmp_path)) == ["fw"]


def test_interrupted_directory_keeps_the_old_one(tmp_path):
    target = tmp_path / "fw"
    target.mkdir()
    (target / "keep.c").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target) as tmp:
            open(os.path.join(tmp, "new.c"), "w").close()
            raise KeyboardInterrupt
    assert os.listdir(target) == ["keep.c"]
    assert os.listdir(tmp_path) == ["fw"]
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(tmp_path / "fresh") as tmp:
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["fw"]
