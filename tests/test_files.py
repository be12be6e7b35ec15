"""write_whole: the one way lateclaim writes a file for the user, whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from daemon.files import write_whole


def test_a_file_is_written_private_and_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("the old report", encoding="utf-8")
    target.chmod(0o644)
    old_umask = os.umask(0o277)  # a umask that would take the owner's write bit away
    try:
        write_whole(target, b"the new report")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"the new report"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "letter.pdf"
    target.mkdir()  # the rename over a directory fails, after the bytes were written
    with pytest.raises(OSError):
        write_whole(target, b"%PDF-1.4")
    assert target.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["letter.pdf"]


def test_a_leftover_temporary_of_a_crashed_write_is_written_over(tmp_path: Path) -> None:
    target = tmp_path / "token.json"
    leftover = tmp_path / f".token.json.{os.getpid()}.part"
    leftover.write_bytes(b"half a token from a crash, much longer than the new one")
    leftover.chmod(0o644)
    write_whole(target, b"{}")
    assert target.read_bytes() == b"{}" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not leftover.exists()
