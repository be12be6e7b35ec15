"""No command shows a traceback, whatever it is given: one clear line and the documented exit status.

Each case runs the real command line in a process of its own, some with a standard output whose reader is
already gone (what `lateclaim demo | head -0` does), and checks stderr for "Traceback".
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands.demo import SAMPLE_MAILBOX

OK, FAILED, USAGE = 0, 1, 2
SAMPLE = str(SAMPLE_MAILBOX / "05_fr_expedie_lampe.eml")


def lateclaim(*argv: str, closed_stdout: bool = False) -> tuple[int, str, str]:
    """Runs `lateclaim ARGV`; with closed_stdout, its output goes to a pipe nobody reads any more."""
    command = [sys.executable, "-m", "daemon.cli", *argv]
    env = {**os.environ, "LATECLAIM_CONFIG": "/nonexistent/lateclaim.toml"}
    if not closed_stdout:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
        return done.returncode, done.stdout, done.stderr
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, env=env,
                              check=False)
    finally:
        os.close(write_end)
    return done.returncode, "", done.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A demo's state and config, plus every kind of wrong file a user may point lateclaim at."""
    root = tmp_path_factory.mktemp("world")
    demo = root / "demo"
    assert lateclaim("demo", "--keep", str(demo))[0] == OK
    binary = root / "program"
    shutil.copyfile(shutil.which("true") or "/bin/true", binary)
    (root / "notes.txt").write_text("hello\n")
    (root / "foreign").mkdir()
    (root / "foreign" / "config.toml").write_text("# mine\n")
    secrets = {
        "malformed": "{not json", "web": json.dumps({"web": {"client_id": "x"}}), "list": "[1, 2]",
        "incomplete": json.dumps({"installed": {"client_id": "x"}}),
    }
    paths = {"demo_config": str(demo / "config.toml"), "binary": str(binary), "text": str(root / "notes.txt"),
             "dir": str(root), "foreign_dir": str(root / "foreign")}
    for name, text in {**secrets, "missing": None}.items():
        secret_file = root / f"secret-{name}.json"
        if text is not None:
            secret_file.write_text(text)
        config = root / f"oauth-{name}.toml"
        config.write_text(f'[mailbox]\nusername = "u@example.com"\n[mailbox.oauth2]\n'
                          f'client_secrets_file = "{secret_file}"\ntoken_file = "{root / "token.json"}"\n'
                          f'[state]\npath = "{demo / "lateclaim.db"}"\n')
        paths[f"oauth_{name}"] = str(config)
    config = root / "bad-files.toml"
    config.write_text(f'[mailbox]\nhost = "127.0.0.1"\nport = 9\nusername = "u@example.com"\n'
                      f'password_file = "{root / "no-password"}"\nca_file = "{root / "no-ca.pem"}"\n'
                      f'[state]\npath = "{demo / "lateclaim.db"}"\n')
    paths["bad_files"] = str(config)
    return paths


CASES: list[tuple[str, str, set[int]]] = [
    # (arguments, {placeholders} from the world fixture, what stdout is: "pipe" or "closed"; expected statuses)
    ("--version", "closed", {OK, FAILED}),
    ("--help", "closed", {OK, FAILED}),
    ("demo", "closed", {FAILED}),
    ("demo --keep {binary}", "pipe", {USAGE}),
    ("demo --keep /proc/1/impossible/dir", "pipe", {USAGE}),
    ("demo --keep {foreign_dir}", "pipe", {USAGE}),
    ("parse " + SAMPLE, "closed", {FAILED}),
    ("parse --json " + SAMPLE, "closed", {FAILED}),
    ("parse {dir} {binary} {text}", "pipe", {FAILED}),
    ("parse --config /nonexistent " + SAMPLE, "pipe", {USAGE}),
    ("parse --config {binary} " + SAMPLE, "pipe", {USAGE}),
    ("parse --timezone Mars/Olympus " + SAMPLE, "pipe", {USAGE}),
    ("orders --config {demo_config}", "closed", {FAILED}),
    ("--config {demo_config} orders --json", "closed", {FAILED}),
    ("--config {demo_config} claims list", "closed", {FAILED}),
    ("claims show 1 --config {demo_config}", "closed", {FAILED}),
    ("claims show 1 --json --config {demo_config}", "closed", {FAILED}),
    ("stats --config {demo_config}", "closed", {FAILED}),
    ("stats --json --config {demo_config}", "closed", {FAILED}),
    ("claims show 99999999999999999999999 --config {demo_config}", "pipe", {USAGE}),
    ("claims show -1 --config {demo_config}", "pipe", {USAGE}),
    ("claims show one --config {demo_config}", "pipe", {USAGE}),
    ("claims show 424242 --config {demo_config}", "pipe", {USAGE}),
    ("claims approve --config {demo_config}", "pipe", {USAGE}),
    ("claims list --outcome granted --config {demo_config}", "pipe", {USAGE}),
    ("claims resolve 2 --config {demo_config}", "pipe", {USAGE}),
    ("orders --as-of yesterday --config {demo_config}", "pipe", {USAGE}),
    ("orders --config /nonexistent", "pipe", {USAGE}),
    ("orders --config {binary}", "pipe", {USAGE}),
    ("orders --config {dir}", "pipe", {USAGE}),
    ("orders", "pipe", {USAGE}),
    ("doctor --config {bad_files}", "closed", {FAILED}),
    ("doctor --config {bad_files}", "pipe", {FAILED}),
    ("sync --once --config {bad_files}", "pipe", {FAILED, USAGE}),
    ("auth google --config {oauth_missing}", "pipe", {FAILED}),
    ("auth google --config {oauth_malformed}", "pipe", {FAILED}),
    ("auth google --config {oauth_web}", "pipe", {FAILED}),
    ("auth google --config {oauth_list}", "pipe", {FAILED}),
    ("auth google --config {oauth_incomplete}", "pipe", {FAILED}),
    ("auth google --port 99999 --config {oauth_web}", "pipe", {USAGE}),
    ("doctor --config {oauth_web}", "pipe", {FAILED}),
    ("backfill --since never --config {demo_config}", "pipe", {USAGE}),
    ("nonsense", "pipe", {USAGE}),
    ("", "pipe", {USAGE}),
]


@pytest.mark.parametrize(("arguments", "stdout", "statuses"), CASES, ids=[f"{c[1]}: {c[0]}" for c in CASES])
def test_no_command_shows_a_traceback(world: dict[str, str], capsys: pytest.CaptureFixture[str], arguments: str,
                                      stdout: str, statuses: set[int]) -> None:
    argv = [part.format(**world) for part in arguments.split()]
    if stdout == "closed":  # a process of its own: the pipe is real
        status, out, err = lateclaim(*argv, closed_stdout=True)
    else:  # in this process, quicker: any exception escaping main() fails the test with its traceback
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse's own usage errors and --help
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err
    assert status in statuses, (status, err)
    if status != OK and stdout == "pipe":
        assert (out + err).strip(), "a failure says why"
        assert len(err.strip().splitlines()) <= 12, err


def test_the_errors_name_what_is_wrong(world: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    expectations = {
        "claims show 99999999999999999999999 --config {demo_config}": "expected a claim number",
        "demo --keep {binary}": "is a file; name a directory",
        "demo --keep {foreign_dir}": "exists and was not written by the demo",
        "parse --config /nonexistent " + SAMPLE: "/nonexistent: no such file",
        "auth google --config {oauth_missing}": "client_secrets_file",
        "auth google --config {oauth_malformed}": "not JSON",
        "auth google --config {oauth_web}": '"Web application" client, where a "Desktop app" client is needed',
        "auth google --config {oauth_incomplete}": "client_secret, auth_uri, token_uri missing",
        "claims list --outcome granted --config {demo_config}": "--outcome goes with `claims resolve`",
    }
    for arguments, words in expectations.items():
        with contextlib.suppress(SystemExit):
            main([part.format(**world) for part in arguments.split()])
        err = capsys.readouterr().err
        assert words in err, (arguments, err)
    assert (Path(world["foreign_dir"]) / "config.toml").read_text() == "# mine\n"


def test_a_reader_that_stops_early_gets_its_lines_and_no_traceback() -> None:
    """`lateclaim parse … | head -1` with far more output than a pipe holds."""
    files = " ".join([SAMPLE] * 400)
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m daemon.cli parse {files} | head -1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.startswith(SAMPLE)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.returncode == FAILED


def test_the_config_may_come_before_the_command_and_the_version_is_known(
    world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", world["demo_config"], "orders", "--json"]) == OK
    assert json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == OK and capsys.readouterr().out.startswith("lateclaim 0.")
