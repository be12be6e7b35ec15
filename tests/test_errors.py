"""One error tree: every error the user can act on is a LateclaimError, and one place turns it into what they see."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest

from daemon import errors
from daemon.cli import main
from daemon.errors import EXIT_FAILED, EXIT_USAGE, LateclaimError, handle

DAEMON = Path(__file__).resolve().parent.parent / "daemon"


def test_no_error_of_the_daemon_stands_outside_the_tree() -> None:
    """An exception class of our own that does not derive from LateclaimError would reach the user as a traceback."""
    outside = []
    for path in sorted(DAEMON.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id in {"Exception", "BaseException"} for base in node.bases):
                outside.append(f"{path.relative_to(DAEMON.parent)}: {node.name}")
    assert outside == ["daemon/errors.py: LateclaimError"]


@pytest.mark.parametrize(("error", "status"), [
    (errors.UsageError("claims show needs the claim's ID"), EXIT_USAGE),
    (errors.ClaimActionError("claim 3 is sent"), EXIT_USAGE),
    (errors.NotReceivedError("no order 1"), EXIT_USAGE),
    (errors.DemoError("--keep: not empty"), EXIT_USAGE),
    (errors.MailboxError("imap.example.org: refused"), EXIT_FAILED),
    (errors.SmtpError("smtp.example.org: refused"), EXIT_FAILED),
    (errors.SecretError("password file: missing"), EXIT_FAILED),
    (errors.OAuthError("token file: missing"), EXIT_FAILED),
    (errors.StoreError("state file: locked"), EXIT_FAILED),
    (errors.ForeignFile("a text file"), EXIT_FAILED),
])
def test_each_error_is_one_line_and_its_exit_status(error: LateclaimError, status: int) -> None:
    out = io.StringIO()
    assert handle(error, out) == status
    assert out.getvalue() == f"lateclaim: {error}\n"


def test_the_service_retries_what_failed_outside_and_only_that() -> None:
    assert all(issubclass(cls, errors.ResourceError) for cls in (
        errors.MailboxError, errors.SmtpError, errors.SecretError, errors.OAuthError, errors.StoreError))
    assert not issubclass(errors.UsageError, errors.ResourceError)


def test_a_configuration_error_lists_every_problem() -> None:
    out = io.StringIO()
    status = handle(errors.ConfigError(["config.toml: mailbox.host: missing", "config.toml: rules.timezone: unknown"]),
                    out)
    assert status == EXIT_USAGE
    assert out.getvalue() == ("lateclaim: the configuration has problems:\n"
                              "  - config.toml: mailbox.host: missing\n"
                              "  - config.toml: rules.timezone: unknown\n")


def test_the_command_line_shows_a_foreign_state_file_as_one_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "notes.txt"
    state.write_text("my notes\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[mailbox]\nhost = "127.0.0.1"\nusername = "u"\npassword_file = "{tmp_path / "pw"}"\n'
                      f'[state]\npath = "{state}"\n', encoding="utf-8")
    assert main(["claims", "list", "--config", str(config)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith(f"lateclaim: state file {state}: ") and err.count("\n") == 1
    assert state.read_text(encoding="utf-8") == "my notes\n"
