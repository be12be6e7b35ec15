"""What the units, the example configuration and the README say about installing agrees."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_each_units_documentation_is_installed_by_the_readme_steps() -> None:
    for unit in ("lateclaim.service", "lateclaim@.service"):
        text = (ROOT / "systemd" / unit).read_text()
        [target] = re.findall(r"^Documentation=file://(\S+)$", text, re.M)
        assert f"README.md {target}" in README, target


def test_the_units_name_their_own_credentials_directory_and_the_one_password_file_form() -> None:
    for unit, directory in (("lateclaim.service", "lateclaim.service"), ("lateclaim@.service", "lateclaim@%i.service")):
        text = (ROOT / "systemd" / unit).read_text()
        assert f"/run/credentials/{directory}/imap" in text
        assert 'password_file = "imap"' in text
        named = set(re.findall(r"/run/credentials/[^/\s]+", text))
        assert named == {f"/run/credentials/{directory}"}, named
    example = (ROOT / "config.example.toml").read_text()
    assert 'password_file = "imap"' in example and 'password_file = "imap"' in README
    assert "/run/credentials/" not in example  # one way to say it: a relative name under the service
