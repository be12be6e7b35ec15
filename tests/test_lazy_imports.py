"""What the daemon's start does not load: libraries that serve one path only (bench/startup.py measures the CPU).

A regression here (a top-level import of the OAuth stack, rich, the parsers' reading modules, the scheduler, or
the half of a pass that decides and delivers, all needed only after READY=1) costs every start of every password
account; this test names the culprit at once. Each guarded name is one the project does import somewhere (checked
below), so that no guard watches a library nothing loads.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_PATH_ONLY = {
    "google.auth": "the OAuth stack (OAuth2 accounts only)",
    "google_auth_oauthlib": "the sign-in flow (lateclaim auth google only)",
    "rich": "terminal tables (a terminal only)",
    "babel": "CLDR dates (new mail only)",
    "parsers.mime": "MIME reading (new mail only)",
    "mailparser": "mail-parser, which reads each new message (new mail only)",
    "bs4": "BeautifulSoup, which reads HTML parts and answers (new mail only)",
    "parsers.amazon": "the phrases and the reading of Amazon's emails (new mail only)",
    "apscheduler": "the scheduler (after READY=1)",
    "holidays": "working days (deciding, after READY=1)",
    # rules.law is loaded with the configuration (its list of Canadian provinces); its tables are read on first use.
    "rules.timeline": "the parcels' timelines (deciding, after READY=1)",
    "rules.claims": "the rules' decisions (after READY=1)",
    "rules.letters": "the letters (after READY=1)",
    "fpdf": "printed letters (claims letter only)",
    "daemon.passes.outbox": "the outboxes (after READY=1)",
    "daemon.passes.evaluate": "deciding (after READY=1)",
    "daemon.commands": "the commands' own modules (each loaded by its command)",
    "daemon.output": "explanations and tables (commands that show something)",
}


def loaded_after(statement: str) -> dict[str, str]:
    script = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    modules = set(json.loads(done.stdout))
    return {name: why for name, why in ONE_PATH_ONLY.items() if name in modules}


def imported_by_the_project() -> set[str]:
    """Every module named in an import statement of daemon/, rules/ or parsers/, wherever the statement is."""
    names = set()
    for path in [*ROOT.glob("daemon/**/*.py"), *ROOT.glob("rules/**/*.py"), *ROOT.glob("parsers/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_guard_names_something_the_project_loads() -> None:
    imported = imported_by_the_project()
    unused = [name for name in ONE_PATH_ONLY
              if not any(found == name or found.startswith(f"{name}.") for found in imported)]
    assert unused == []


def test_the_command_line_and_the_service_load_none_of_them() -> None:
    assert loaded_after("import daemon.cli, daemon.service, daemon.passes.pipeline, daemon.passes.sync, "
                        "daemon.state.store") == {}


def test_structlog_is_loaded_without_rich_yet_rich_still_works() -> None:
    assert loaded_after("import daemon.logs") == {}
    assert "rich" in loaded_after("import daemon.logs, rich.console")
