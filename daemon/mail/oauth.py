"""Gmail sign-in with OAuth2: the token file, refreshing access tokens, and the one-off installed-app flow.

The token file holds the OAuth client's id and secret and the long-lived refresh token (never the short-lived
access token, which stays in memory). It is written 0600; under systemd a relative path is read from
$CREDENTIALS_DIRECTORY, so it can be a credential. Google's own libraries do the protocol.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daemon.config import OAuth2Config
from daemon.errors import OAuthError
from daemon.files import write_whole
from daemon.mail.secrets import resolve_file

SCOPES = ["https://mail.google.com/"]  # what Gmail's IMAP and SMTP accept; narrower scopes are refused there


def read_token_file(config: OAuth2Config) -> dict[str, Any]:
    path = resolve_file(config.token_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OAuthError(f"OAuth2 token file {path} is missing: run `lateclaim auth google` first") from None
    except (OSError, ValueError) as exc:
        raise OAuthError(f"OAuth2 token file {path}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise OAuthError(f"OAuth2 token file {path}: not a token file: run `lateclaim auth google` again")
    missing = [k for k in ("client_id", "client_secret", "refresh_token") if not data.get(k)]
    if missing:
        raise OAuthError(f"OAuth2 token file {path}: {', '.join(missing)} missing: run `lateclaim auth google`")
    return dict(data)


def read_client_secrets(path: Path) -> dict[str, Any]:
    """The OAuth client JSON downloaded from Google Cloud, checked: it must be a "Desktop app" client."""
    where = f"mailbox.oauth2.client_secrets_file {path}"
    fetch = "download the JSON of a \"Desktop app\" OAuth client (Google Cloud console, Credentials)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OAuthError(f"{where}: no such file: {fetch}") from None
    except OSError as exc:
        raise OAuthError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    except ValueError:
        raise OAuthError(f"{where}: not JSON: {fetch}") from None
    client = data.get("installed") if isinstance(data, dict) else None
    if not isinstance(client, dict):
        what = "a \"Web application\" client" if isinstance(data, dict) and "web" in data else "not an OAuth client"
        raise OAuthError(f"{where}: {what}, where a \"Desktop app\" client is needed: {fetch}")
    missing = [k for k in ("client_id", "client_secret", "auth_uri", "token_uri") if not client.get(k)]
    if missing:
        raise OAuthError(f"{where}: {', '.join(missing)} missing: {fetch}")
    return dict(data)


def write_token_file(path: Path, data: dict[str, Any]) -> None:
    """Write it whole or not at all, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_whole(path, json.dumps(data).encode("utf-8"))


def access_token(config: OAuth2Config) -> str:
    """A fresh access token, from the refresh token. Tokens never appear in errors."""
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials

    data = read_token_file(config)
    credentials = Credentials(  # type: ignore[no-untyped-call]
        None, refresh_token=data["refresh_token"], client_id=data["client_id"], client_secret=data["client_secret"],
        token_uri=data.get("token_uri") or config.token_uri, scopes=SCOPES)
    try:
        credentials.refresh(Request())  # type: ignore[no-untyped-call]
    except RefreshError as exc:
        if "invalid_grant" in str(exc):
            raise OAuthError(
                "Google refused the refresh token (invalid_grant). It was revoked, unused for six months, or it "
                "came from an OAuth app still in \"Testing\", whose tokens expire after 7 days: publish the app "
                "(Google Cloud console, OAuth consent screen, \"In production\"), then run `lateclaim auth google` "
                "again") from None
        raise OAuthError(f"Google refused to refresh the access token: {type(exc).__name__}") from None
    except TransportError as exc:
        raise OAuthError(f"cannot reach Google's token endpoint: {type(exc).__name__}") from None
    return str(credentials.token)


def run_installed_app_flow(config: OAuth2Config, port: int, open_browser: bool) -> Path:
    """The one-off sign-in: a loopback redirect on `port`, reached through a browser (or an SSH tunnel)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    if config.client_secrets_file is None:
        raise OAuthError("mailbox.oauth2.client_secrets_file: expected the OAuth client JSON from Google Cloud")
    flow = InstalledAppFlow.from_client_config(read_client_secrets(config.client_secrets_file), scopes=SCOPES)
    try:
        # prompt=consent: signing in again must yield a new refresh token; without it Google may return none.
        credentials = flow.run_local_server(port=port, open_browser=open_browser, prompt="consent",
                                            authorization_prompt_message="Open this address in a browser: {url}")
    except OSError as exc:
        raise OAuthError(f"cannot wait for Google's answer on localhost:{port}: {exc.strerror or exc} "
                         "(choose another port with --port)") from None
    if not credentials.refresh_token:
        raise OAuthError("Google returned no refresh token: remove lateclaim's access at "
                         "https://myaccount.google.com/permissions and run `lateclaim auth google` again")
    path = resolve_file(config.token_file)
    data = {"client_id": credentials.client_id, "client_secret": credentials.client_secret,
            "refresh_token": credentials.refresh_token, "token_uri": credentials.token_uri}
    data.update(refresh_token_end(dict(flow.oauth2session.token or {})))
    write_token_file(path, data)
    return path


def refresh_token_end(answer: dict[str, Any]) -> dict[str, str]:
    """When Google says the sign-in ends (`refresh_token_expires_in`, seconds, in its token answer: time-limited
    access), as a key of the token file, so that lateclaim can tell the user before (daemon/passes/notices.py)."""
    lifetime = answer.get("refresh_token_expires_in")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        return {}
    from datetime import timedelta

    from daemon import clock

    return {"refresh_token_expires_at": (clock.now() + timedelta(seconds=lifetime)).isoformat()}
