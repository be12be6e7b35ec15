"""The terminal screen as a person sees it: `lateclaim` run in tmux, the pane captured after the terminal drew it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from daemon.cli import main

WIDTH, HEIGHT = 110, 45


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
    assert late[column:].startswith("late") and on_time[column:].startswith("on time")  # columns line up
    assert late.index("Thu 19 Nov 2026") == header.index("Arrived")
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
