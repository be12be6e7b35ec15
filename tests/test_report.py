"""`lateclaim report` in a real browser: headless Chromium (Debian's `chromium`) loads the file, the parcels and
claims are found in its DOM, and screenshots (a phone and a desktop) are kept in test-artifacts/ to look at."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from daemon.cli import main

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
ON_TIME, LATE, UNDELIVERED, SPOOFED = (
    "402-7461938-2058316", "171-5302846-9915233", "203-8841957-6620374", "405-0000000-1234567")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed: apt-get install chromium (.ci/run does)"
    # No network at all: every host resolves to nothing, so a page that tried to fetch would show it.
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND", *args],
                          capture_output=True, text=True, timeout=120, check=False)


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, css_class: str) -> list[dict[str, str]]:
        return [a for _, a in self.found if css_class in a.get("class", "").split()]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("report")
    assert main(["demo", "--keep", str(workdir)]) == 0
    output = workdir / "report.html"
    assert main(["report", "--config", str(workdir / "config.toml"), "--as-of", "2026-11-24",
                 "--output", str(output)]) == 0
    return output


def test_the_report_is_one_self_contained_file(report: Path) -> None:
    html = report.read_text()
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "url(" not in html


def test_chromium_finds_the_parcels_the_claims_and_the_totals(report: Path) -> None:
    done = chromium("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Elements()
    dom.feed(done.stdout)
    parcels = {a["data-order"]: a for a in dom.having("parcel")}
    assert set(parcels) == {ON_TIME, LATE, UNDELIVERED, SPOOFED}
    assert {order: a["data-verdict"] for order, a in parcels.items()} == {
        ON_TIME: "on_time", LATE: "late", UNDELIVERED: "overdue", SPOOFED: "overdue"}
    claims = {a["data-claim"]: (a["data-status"], a["data-outcome"]) for a in dom.having("claim")}
    # The demo's lamp: its question withdrawn when it came, then the goodwill request, granted.
    assert claims == {"1": ("withdrawn", ""), "2": ("drafted", ""), "3": ("closed", "granted")}
    assert len([tag for tag, _ in dom.found if tag == "svg"]) >= 4  # a timeline per parcel, plus the legend
    totals = re.findall(r'data-total="(\w+)"><b>(\d+)</b>', done.stdout)
    # The spoofed parcel is counted apart: a phishing email is not a late parcel.
    assert dict(totals) == {"parcels": "4", "late": "2", "claimed": "2", "granted": "1", "unverified": "1"}
    # Each claim's flag says how it stands: the withdrawn question, the open request and the granted one differ.
    flags = [a["class"].split() for a in dom.having("flag") if "timeline" not in a.get("class", "")]
    assert {"dropped", "granted", "open"} <= {kind for classes in flags for kind in classes}
    # Every tick of a timeline says its day.
    assert len(dom.having("ticklabel")) == len(dom.having("tick")) > 0
    assert "late by 3 days" in done.stdout and "granted: demo: a 5 EUR voucher" in done.stdout


@pytest.mark.parametrize(("name", "size"), [("phone", (400, 1900)), ("desktop", (900, 1500))])
def test_a_screenshot_is_kept_to_look_at(report: Path, name: str, size: tuple[int, int]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{name}.png"
    shot.unlink(missing_ok=True)
    done = chromium(f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == size
    assert shot.stat().st_size > 30_000  # a drawn page, not a blank one


def test_output_replaces_only_a_report_it_wrote(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(report.parent / "config.toml")
    notes = report.parent / "notes.txt"
    notes.write_text("my notes\n")
    notes.chmod(0o644)
    assert main(["report", "--config", config, "--output", str(notes)]) == 2
    assert "is not a lateclaim report" in capsys.readouterr().err
    assert notes.read_text() == "my notes\n" and notes.stat().st_mode & 0o777 == 0o644
    assert main(["report", "--config", config, "--as-of", "2026-11-24", "--output", str(report)]) == 0
    assert report.stat().st_mode & 0o777 == 0o600  # it lists your orders
    assert sorted(p.name for p in report.parent.glob("*.part")) == []
    capsys.readouterr()
    assert main(["report", "--config", config, "--as-of", "2026-11-24", "--output", "-"]) == 0
    assert capsys.readouterr().out == report.read_text()


def test_another_year_has_no_parcels(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--config", str(report.parent / "config.toml"), "--year", "2025", "--output", "-"]) == 0
    page, said = capsys.readouterr()
    assert said.strip() == "No parcel in 2025: the report is empty. lateclaim knows parcels of 2026 (--year 2026)."
    assert "Your parcels in 2025" in page and "No parcels this year." in page
    assert dict(re.findall(r'data-total="(\w+)"><b>(\d+)</b>', page)) == {
        "parcels": "0", "late": "0", "claimed": "0", "granted": "0"}
