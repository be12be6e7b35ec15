"""What the daemon's start does not load: libraries that serve one path only (bench/startup.py measures the CPU).

A regression here (a top-level import of the OAuth stack, rich, the parsers' reading modules, the scheduler, or
the half of a pass that decides and delivers, all needed only after READY=1) costs every start of every password
account; this test names the culprit at once.
"""

from __future__ import annotations

import json
import subprocess
import sys

ONE_PATH_ONLY = {
    "google.auth": "the OAuth stack (OAuth2 accounts only)",
    "google_auth_oauthlib": "the sign-in flow (lateclaim auth google only)",
    "rich": "terminal tables (a terminal only)",
    "bs4": "HTML reading (new mail only)",
    "mailparser": "MIME reading (new mail only)",
    "babel": "CLDR dates (new mail only)",
    "apscheduler": "the scheduler (after READY=1)",
    "fpdf": "printed letters (claims letter only)",
    "parsers.mime": "MIME reading (new mail only)",
    "holidays": "working days (deciding, after READY=1)",
    "rules.claims": "the rules' decisions (after READY=1)",
    "rules.letters": "the letters (after READY=1)",
    "daemon.passes.outbox": "the outboxes (after READY=1)",
}


def loaded_after(statement: str) -> dict[str, str]:
    script = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    modules = set(json.loads(done.stdout))
    return {name: why for name, why in ONE_PATH_ONLY.items() if name in modules}


def test_the_command_line_and_the_service_load_none_of_them() -> None:
    assert loaded_after("import daemon.cli, daemon.service, daemon.passes.pipeline, daemon.passes.sync, "
                        "daemon.state.store") == {}


def test_structlog_is_loaded_without_rich_yet_rich_still_works() -> None:
    assert loaded_after("import daemon.logs") == {}
    assert "rich" in loaded_after("import daemon.logs, rich.console")
