"""The spool's folders (spool.layout.SpoolLayout): paths, names, creation with private modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from spool.layout import SpoolLayout


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_paths_follow_the_design(tmp_path: Path) -> None:
    """Every folder sits where the design says, under the root."""
    layout = SpoolLayout(tmp_path, ["zengin-91", "cvs"], ["bank", "levy.shiminzei"])
    assert layout.root == tmp_path
    assert layout.inbox("cvs") == tmp_path / "inbox" / "cvs"
    assert layout.outbox("levy.shiminzei") == tmp_path / "outbox" / "levy.shiminzei"
    assert [layout.work, layout.archive, layout.rejected, layout.quarantine, layout.duplicate, layout.reports] == [
        tmp_path / n for n in ("work", "archive", "rejected", "quarantine", "duplicate", "reports")
    ]
    assert layout.inboxes() == {"zengin-91": tmp_path / "inbox" / "zengin-91", "cvs": tmp_path / "inbox" / "cvs"}


def test_ensure_creates_every_folder_0700_whatever_the_umask(tmp_path: Path) -> None:
    """ensure() creates every folder with mode 0o700 even under a permissive umask."""
    layout = SpoolLayout(tmp_path / "spool", ["a"], ["b"])
    old = os.umask(0o002)
    try:
        layout.ensure()
    finally:
        os.umask(old)
    for folder in layout.folders():
        assert folder.is_dir() and mode(folder) == 0o700, folder
    assert layout.inbox("a") in layout.folders() and layout.outbox("b") in layout.folders()


def test_ensure_tightens_existing_folders(tmp_path: Path) -> None:
    """ensure() sets a folder that already exists with a looser mode back to 0o700, and can run twice."""
    layout = SpoolLayout(tmp_path, ["a"], [])
    layout.archive.mkdir(mode=0o755)
    os.chmod(layout.archive, 0o755)
    layout.ensure()
    layout.ensure()
    assert mode(layout.archive) == 0o700


@pytest.mark.parametrize("bad", ["", "Zengin", "../x", "a/b", ".hidden", "-a", "a b", "ａ", "x\n"])
def test_bad_channel_names_are_refused(tmp_path: Path, bad: str) -> None:
    """A channel name that is not a safe folder name is refused with ValueError naming it."""
    with pytest.raises(ValueError, match="bad channel name") as caught:
        SpoolLayout(tmp_path, ["ok", bad], [])
    assert repr(bad) in str(caught.value)


def test_bad_destination_names_are_refused(tmp_path: Path) -> None:
    """A destination name that is not a safe folder name is refused with ValueError naming it."""
    with pytest.raises(ValueError, match="bad destination name '..'"):
        SpoolLayout(tmp_path, [], [".."])


def test_unknown_channel_and_destination_are_refused(tmp_path: Path) -> None:
    """Asking for the folder of a channel or destination the spool does not have raises ValueError."""
    layout = SpoolLayout(tmp_path, ["a"], ["b"])
    with pytest.raises(ValueError, match="unknown channel 'x'"):
        layout.inbox("x")
    with pytest.raises(ValueError, match="unknown destination 'x'"):
        layout.outbox("x")


def test_channel_of_names_the_inbox_holding_a_file(tmp_path: Path) -> None:
    """channel_of() gives the channel for a file directly in its inbox and None elsewhere."""
    layout = SpoolLayout(tmp_path, ["a", "b"], ["a"])
    assert layout.channel_of(tmp_path / "inbox" / "b" / "file.dat") == "b"
    assert layout.channel_of(tmp_path / "inbox" / "a" / ".." / "b" / "file.dat") == "b"
    assert layout.channel_of(tmp_path / "inbox" / "z" / "file.dat") is None
    assert layout.channel_of(tmp_path / "inbox" / "a") is None
    assert layout.channel_of(tmp_path / "inbox" / "a" / "sub" / "file.dat") is None
    assert layout.channel_of(tmp_path / "outbox" / "a" / "file.dat") is None
    assert layout.channel_of(tmp_path / "work" / "file.dat") is None
