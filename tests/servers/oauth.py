"""Google's token endpoint and an introspection endpoint for Dovecot, on 127.0.0.1, for the OAuth2 tests.

POST /token exchanges a known refresh token for an access token (and answers `invalid_grant` otherwise, as
Google does for a revoked or expired one); POST /introspect tells Dovecot whether an access token is live and
whose it is (Dovecot's oauth2 passdb, introspection_mode = post).
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeGoogle:
    def __init__(self) -> None:
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self.access_tokens: dict[str, str] = {}  # access token -> user
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = owner.answer(self.path, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeGoogle:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def grant(self, user: str) -> str:
        """A refresh token for `user`, as `lateclaim auth google` would have obtained."""
        token = "1//refresh-" + secrets.token_urlsafe(16)
        with self.lock:
            self.refresh_tokens[token] = user
        return token

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if path == "/token":
                user = self.refresh_tokens.get(form.get("refresh_token", ""))
                if form.get("grant_type") != "refresh_token" or user is None:
                    return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
                access = "ya29." + secrets.token_urlsafe(24)
                self.access_tokens[access] = user
                return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                             "scope": "https://mail.google.com/"}
            if path == "/introspect":
                user = self.access_tokens.get(form.get("token", ""))
                return 200, ({"active": "true", "email": user} if user else {"active": "false"})
        return 404, {"error": "not_found"}
