"""Sessions, login, CSRF tokens, host checks and hostile-content headers for the web app.

One ASGI middleware (``Guard``) sits in front of every route:

* each browser gets a session cookie (random, HttpOnly, SameSite=Strict) holding nothing but a key
  into an in-memory table of sessions; a session knows its reviewer and its CSRF token;
* with a password, every page but ``/login`` and ``/static`` needs a logged-in session;
* every request other than GET/HEAD must carry the session's CSRF token in a urlencoded ``csrf``
  field, else 403 — so a page on another site cannot make a reviewer's browser change anything;
* on a loopback address without a password, only loopback ``Host`` headers are answered (a
  DNS-rebinding page cannot read the queue or fetch a token);
* every response gets a Content-Security-Policy (``default-src 'self'``, no framing) and nosniff.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawler.hosts import is_loopback

COOKIE = "grayscan_session"
#: Sessions kept at most (oldest dropped first): cookie-less clients cannot grow memory without bound.
MAX_SESSIONS = 5_000
#: Largest form body accepted (review notes, filters); anything bigger is refused before parsing.
MAX_FORM_BYTES = 64_000
CSP = ("default-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")
#: Paths open without a login.
PUBLIC_PREFIXES = ("/login", "/static/")


@dataclass
class Session:
    """One browser's session: who reviews (None until logged in) and its CSRF token."""

    user: str | None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass
class Auth:
    """How the app admits reviewers: a shared password (then a login names the reviewer) or none
    (then every session reviews as ``default_user``)."""

    default_user: str
    password: str | None = None
    loopback_only: bool = True

    def check(self, password: str) -> bool:
        return self.password is not None and hmac.compare_digest(password.encode(), self.password.encode())


class Sessions:
    """Sessions by cookie value, newest last."""

    def __init__(self) -> None:
        self._by_key: OrderedDict[str, Session] = OrderedDict()

    def get(self, key: str | None) -> Session | None:
        return self._by_key.get(key) if key else None

    def create(self, user: str | None) -> tuple[str, Session]:
        key = secrets.token_urlsafe(32)
        self._by_key[key] = Session(user)
        while len(self._by_key) > MAX_SESSIONS:
            self._by_key.popitem(last=False)
        return key, self._by_key[key]

    def drop(self, key: str | None) -> None:
        self._by_key.pop(key or "", None)


def _host_name(host_header: str) -> str:
    """The host of a Host header without its port (``[::1]:8000`` → ``::1``)."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, auth: Auth, sessions: Sessions) -> None:
        self.app, self.auth, self.sessions = app, auth, sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.auth.loopback_only and not is_loopback(_host_name(headers.get("host", ""))):
            await _plain(send, 403, "this server answers only to 127.0.0.1 / localhost")
            return
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is treated as no cookie
            cookies = SimpleCookie()
        key = cookies[COOKIE].value if COOKIE in cookies else None
        session = self.sessions.get(key)
        new_cookie = None
        if session is None:
            key, session = self.sessions.create(None if self.auth.password else self.auth.default_user)
            new_cookie = key
        scope.setdefault("state", {})["session"] = session
        scope["state"]["session_key"] = key

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                names = {k.lower() for k, _ in out}
                if b"content-security-policy" not in names:
                    out.append((b"content-security-policy", CSP.encode()))
                out += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"no-referrer")]
                if new_cookie:
                    out.append((b"set-cookie", f"{COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": out}
            await send(message)

        path = scope["path"]
        if session.user is None and not path.startswith(PUBLIC_PREFIXES):
            if scope["method"] in ("GET", "HEAD"):
                await _redirect(send_with_headers, "/login")
            else:
                await _plain(send_with_headers, 403, "log in first")
            return
        if scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send_with_headers)
            return
        body = await _read_body(receive)
        if body is None:
            await _plain(send_with_headers, 413, "form too large")
            return
        content_type = headers.get("content-type", "").split(";")[0].strip()
        form = parse_qs(body.decode("utf-8", "replace")) if content_type == "application/x-www-form-urlencoded" else {}
        token = (form.get("csrf") or [""])[0]
        if not hmac.compare_digest(token.encode(), session.csrf.encode()):
            await _plain(send_with_headers, 403, "missing or wrong CSRF token: reload the page and try again")
            return
        await self.app(scope, _replay(body), send_with_headers)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None once it exceeds MAX_FORM_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the app the body already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})

