"""The terminal screen as a person sees it: `lateclaim` run in tmux, the pane captured after the terminal drew it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from daemon.cli import main
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

WIDTH, HEIGHT = 80, 60  # the terminal people have by default


def tmux(*args: str) -> str:
    tool = shutil.which("tmux")
    assert tool, "tmux is needed: apt-get install tmux (.ci/run does)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=30, check=True).stdout


def screen_after(command: str) -> list[str]:
    """Runs `command` in a fresh tmux pane of WIDTH x HEIGHT and returns the screen once it has finished."""
    session, done = f"lateclaim-{uuid.uuid4().hex[:8]}", f"DONE-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT), "env", "-u", "NO_COLOR",
         "TERM=xterm-256color", "bash", "--norc", "--noprofile")
    try:
        tmux("send-keys", "-t", session, f"clear; {command}; echo {done}", "Enter")
        deadline = time.monotonic() + 60
        while True:
            # -J joins what the terminal wrapped: a line too long for the pane shows as one long line.
            screen = tmux("capture-pane", "-t", session, "-p", "-J", "-S", "-")
            if f"\n{done}" in screen:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not finish within 60 s:\n{screen}")
            time.sleep(0.1)
        output = screen.split(f"\n{done}")[0].split(f"echo {done}\n", 1)[-1]
        return output.splitlines()
    finally:
        tmux("kill-session", "-t", session)


def test_orders_and_stats_read_as_tables_on_a_terminal(tmp_path: Path) -> None:
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    lateclaim = f"{sys.executable} -m daemon.cli"
    config = tmp_path / "config.toml"
    screen = screen_after(f"cd {Path(__file__).parents[1]} && {lateclaim} orders --config {config} "
                          f"--as-of 2026-11-24 && {lateclaim} stats --config {config}")
    assert all(len(line) <= WIDTH for line in screen)
    header = next(line for line in screen if "Order" in line and "Verdict" in line)
    late = next(line for line in screen if "171-5302846-9915233" in line)
    on_time = next(line for line in screen if "402-7461938-2058316" in line)
    column = header.index("Verdict")
    assert late[column:].startswith("late 3 d") and on_time[column:].startswith("on time")  # columns line up
    assert late.index("19 Nov") == header.index("Arrived")
    # One line per parcel at 80 columns: the order number whole, the item shortened to the room left.
    rows = screen[screen.index(header) + 2:screen.index(header) + 6]
    assert [row.split()[0] for row in rows] == ["171-5302846-9915233", "203-8841957-6620374", "402-7461938-2058316",
                                                "405-0000000-1234567"]
    assert "Lampe de bureau LED" in late and "Wireless Over-Ear H…" in rows[1]
    assert any(set(line.strip()) == {"─"} for line in screen)  # the header's rule
    stats = screen[next(i for i, line in enumerate(screen) if line.rstrip().endswith("Count")) + 2:]  # the rule
    counts = stats[:next(i for i, line in enumerate(stats) if not line.strip())]
    assert len(counts) >= 5 and all(line.rstrip()[-1].isdigit() for line in counts)
    assert len({len(line.rstrip()) for line in counts}) == 1  # stats as a table, counts right-aligned
    assert not any("{" in line for line in screen)


def test_a_claim_is_laid_out_as_a_letter_that_fits_the_terminal(tmp_path: Path) -> None:
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    screen = screen_after(f"cd {Path(__file__).parents[1]} && {sys.executable} -m daemon.cli claims show 2 "
                          f"--config {tmp_path / 'config.toml'}")
    letter = [line for line in screen if line.startswith(("╭", "│", "╰"))]
    assert letter[0].startswith("╭─ Order 203-8841957-6620374 has not arrived") and letter[-1].startswith("╰")
    assert len({len(line) for line in letter}) == 1 and len(letter[0]) <= WIDTH  # a closed box, no line spilling
    assert any("Camille Martin" in line for line in letter)
    evidence = screen[screen.index(next(line for line in screen if line.startswith("Evidence:"))):]
    assert any(line.split()[:1] == ["Verdict"] and "overdue by" in line for line in evidence)


def test_claims_read_in_words_at_80_columns(tmp_path: Path) -> None:
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    screen = screen_after(f"cd {Path(__file__).parents[1]} && {sys.executable} -m daemon.cli claims list "
                          f"--config {tmp_path / 'config.toml'}")
    assert all(len(line) <= WIDTH for line in screen)
    header = next(line for line in screen if line.startswith("ID"))
    rows = screen[screen.index(header) + 2:]
    rows = rows[:next((i for i, line in enumerate(rows) if not line.strip()), len(rows))]
    assert len(rows) == 3  # one line per claim
    assert "where is my parcel?" in rows[1] and "203-8841957-6620374" in rows[1] and "Wireless Over-" in rows[1]
    assert "goodwill request" in rows[2] and "closed, granted" in rows[2]
    assert "B1" not in "".join(rows) and "A1" not in "".join(rows)  # steps in words, not codes


def test_sync_says_what_it_did_in_sentences(dovecot: Dovecot, imap_account: Account, tmp_path: Path) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = setup.write_config(tmp_path, imap_account, log={"format": "auto"})
    screen = screen_after(f"cd {Path(__file__).parents[1]} && {sys.executable} -m daemon.cli sync --once "
                          f"--config {config} --as-of 2026-11-24T12:00")
    assert all(len(line) <= WIDTH for line in screen)
    text = " ".join(line.strip() for line in screen)
    assert "Read 9 new emails." in text
    assert ("Drafted a 'where is my parcel?' for Wireless Over-Ear Headphones, Black (order 203-8841957-6620374), "
            "due since Tue 17 Nov; it is in Drafts.") in text
    assert "Drafted a 'goodwill request' for Lampe de bureau LED orientable (order 171-5302846-9915233)" in text
    assert "1 parcel is late or missing on the word of mail not authenticated as Amazon's: no claim" in text
    assert "Left a note in your INBOX" in text
    assert "sync_done" not in text  # the log line is for the journal, not for the person at the terminal


def test_run_in_the_foreground_says_its_passes_in_sentences(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = setup.write_config(tmp_path, imap_account, log={"format": "auto"})
    session = f"lateclaim-run-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT), "env", "-u", "NO_COLOR",
         "TERM=xterm-256color", "bash", "--norc", "--noprofile")
    try:
        tmux("send-keys", "-t", session, f"cd {Path(__file__).parents[1]} && {sys.executable} -m daemon.cli run "
             f"--config {config}", "Enter")

        def screen() -> str:
            return tmux("capture-pane", "-t", session, "-p", "-J", "-S", "-")

        setup.wait_for(lambda: "it is in Drafts." in screen(), 60, "the first pass told in sentences")
        tmux("send-keys", "-t", session, "C-c", "")
        text = " ".join(line.strip() for line in screen().splitlines())
        assert "Read 9 new emails." in text and "Drafted a 'where is my parcel?' for Wireless Over-Ear" in text
    finally:
        tmux("kill-session", "-t", session)
