"""Logging: structlog everywhere, JSON for journald, readable lines on a terminal.

Logs go to stderr, so that stdout carries only a command's own output (`orders --json` stays parseable); under
systemd both streams reach the journal. A JSON line starts with the syslog priority in angle brackets
(`<4>{...}`), which journald turns into the entry's priority: `journalctl -p warning` then works. The standard
library's loggers (imapclient, APScheduler) are routed through the same processors. Events carry ids, never
mail bodies or subjects, never passwords.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, TextIO


class _RichUnavailable:
    """An import finder that answers "not installed" for rich, to one thread only.

    structlog imports rich when it is installed, for exception formatting that lateclaim does not use, and every
    start of the daemon would pay for it (bench/startup.py: about 0.05 s of CPU, a third of a restart). Put first
    on sys.meta_path, the import system's own hook, for the time structlog is imported, it makes structlog's
    `import rich` fail as if rich were absent; the module table is never touched, another thread importing rich
    meanwhile is not affected, and rich stays importable afterwards for daemon/output/present.py."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname == "rich" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError("rich is left out of structlog's import", name=fullname)
        return None  # anything else: the next finders


def _import_structlog() -> Any:
    """structlog, with plain tracebacks instead of rich's (see _RichUnavailable); as it is when rich was loaded
    first (a terminal command's tables)."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        import structlog
        return structlog
    finder = _RichUnavailable()
    sys.meta_path.insert(0, finder)
    try:
        import structlog
    finally:
        sys.meta_path.remove(finder)
    return structlog


structlog = _import_structlog()

PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2, "exception": 3}


def _journal_priority(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event["_priority"] = PRIORITIES.get(event.get("level", "info"), 6)
    return event


class _PriorityJSON:
    """Renders JSON, prefixed with `<N>` for journald's SyslogLevelPrefix."""

    def __init__(self) -> None:
        self.json = structlog.processors.JSONRenderer(sort_keys=False)

    def __call__(self, logger: Any, name: str, event: dict[str, Any]) -> str:
        priority = event.pop("_priority", 6)
        rendered = self.json(logger, name, event)
        text = rendered.decode() if isinstance(rendered, bytes) else rendered
        return f"<{priority}>{text}"


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = _PriorityJSON() if use_json else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    if use_json:
        shared.append(_journal_priority)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # imapclient logs whole commands and responses at DEBUG, message bodies included: never let them through.
    logging.getLogger("imapclient").setLevel(logging.INFO)
    # mail-parser warns about odd MIME parts by quoting them: mail content, so never in the log.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.WARNING if level != "debug" else logging.INFO)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
