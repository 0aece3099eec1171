"""Whom the user CLI talks to and as whom: the URL, the cached login, the generated client.

`VIRTFLOW_URL` and `VIRTFLOW_TOKEN` win over the cache (for scripts and CI); the cache is one
login, `token.json` (mode 0600) in `VIRTFLOW_CONFIG_DIR` or `~/.config/virtflow`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from api.cli_user import exits
from api.client import AuthenticatedClient, Client
from api.client.api.auth import auth_refresh
from api.client.models import TokenEnvelope
from api.client.types import Response

DEFAULT_URL = "http://127.0.0.1:8000"
TOKEN_FILE = "token.json"  # noqa: S105 - a file name
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Tests put an in-process transport here (httpx.WSGITransport, httpx.MockTransport).
TRANSPORT: httpx.BaseTransport | None = None
# Pauses (s) before each retry of a request sent with an Idempotency-Key that got no answer.
RETRY_PAUSES: tuple[float, ...] = (1.0, 3.0)

T = TypeVar("T")


@dataclass(frozen=True)
class CachedLogin:
    url: str
    username: str
    access_token: str
    refresh_token: str | None = None


def config_dir() -> Path:
    configured = os.environ.get("VIRTFLOW_CONFIG_DIR")
    return Path(configured) if configured else Path.home() / ".config" / "virtflow"


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def normalize(url: str) -> str:
    return url.strip().rstrip("/")


def load_cache() -> CachedLogin | None:
    try:
        data = json.loads(token_path().read_text(encoding="utf-8"))
        return CachedLogin(**data)
    except (OSError, ValueError, TypeError):
        return None


def save_cache(login: CachedLogin) -> Path:
    """Write the login readable by its owner only, replacing any earlier one atomically."""
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".token-")  # mkstemp creates it 0600
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(login), fh)
    os.replace(tmp, path)
    return path


def drop_cache() -> bool:
    try:
        token_path().unlink()
    except FileNotFoundError:
        return False
    return True


def target_url(cached: CachedLogin | None = None) -> str:
    """VIRTFLOW_URL, else the cached login's server, else the local default."""
    env = os.environ.get("VIRTFLOW_URL")
    return normalize(env or (cached.url if cached else DEFAULT_URL))


def public_client(url: str) -> Client:
    return Client(base_url=url, timeout=TIMEOUT, httpx_args=_httpx_args())


def _httpx_args() -> dict[str, Any]:
    return {"transport": TRANSPORT} if TRANSPORT is not None else {}


class Session:
    """A logged-in client; every request goes through `call`, which maps errors to exits."""

    def __init__(self, url: str, token: str, cached: CachedLogin | None = None) -> None:
        self.url = url
        self.cached = cached  # set when the token came from the cache: it may be refreshed
        self.client = self._client(token)

    def _client(self, token: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=self.url, token=token, timeout=TIMEOUT, httpx_args=_httpx_args()
        )

    def call(self, kind: type[T], send: Callable[..., Response[Any]], *args: Any, **kw: Any) -> T:
        """send(*args, client=..., **kw); its answer if it is a `kind`, else a Failure.

        A request with an `idempotency_key` is sent again, with that key, when no answer came
        (or 5xx/429): the server answers a retry with the first answer, never a second effect.
        """
        key: str | None = kw.get("idempotency_key")
        pauses = list(RETRY_PAUSES) if key else []
        while True:
            try:
                return self._call_once(kind, send, *args, **kw)
            except exits.Failure as exc:
                if exc.exit_code != exits.UNAVAILABLE:
                    raise
                if not pauses:
                    raise exits.Failure(exc.exit_code, _retry_hint(exc, key)) from exc
                time.sleep(pauses.pop(0))

    def _call_once(
        self, kind: type[T], send: Callable[..., Response[Any]], *args: Any, **kw: Any
    ) -> T:
        response = request(self.url, lambda: send(*args, client=self.client, **kw))
        if _expired(response) and self._refresh():
            response = request(self.url, lambda: send(*args, client=self.client, **kw))
        return expect(kind, response)

    def _refresh(self) -> bool:
        """Trade the cached refresh token for a new access token, once; False if none."""
        if self.cached is None or not self.cached.refresh_token:
            return False
        refresher = self._client(self.cached.refresh_token)
        answer = request(self.url, lambda: auth_refresh.sync_detailed(client=refresher))
        if not isinstance(answer.parsed, TokenEnvelope):
            return False
        self.cached = replace(self.cached, access_token=answer.parsed.data.access_token)
        save_cache(self.cached)
        self.client = self._client(self.cached.access_token)
        return True


def _retry_hint(exc: exits.Failure, key: str | None) -> str:
    """The failure, and with a key, how to retry it without doing it twice."""
    if key is None:
        return exc.format_message()
    return (
        f"{exc.format_message()}; it may have been done: run the command again with "
        f"--idempotency-key {key} to do it at most once"
    )


def current() -> Session:
    """The session of VIRTFLOW_TOKEN, else of the cached login to the target URL."""
    cached = load_cache()
    url = target_url(cached)
    token = os.environ.get("VIRTFLOW_TOKEN")
    if token:
        return Session(url, token)
    if cached is not None and normalize(cached.url) == url:
        return Session(url, cached.access_token, cached)
    raise exits.Failure(
        exits.AUTH, f"not logged in to {url}: run `virtflow login` or set VIRTFLOW_TOKEN"
    )


def request(url: str, send: Callable[[], Response[Any]]) -> Response[Any]:
    """One request; a server out of reach or an answer that is not the API's is exit 6."""
    try:
        return send()
    except httpx.TimeoutException as exc:
        raise exits.Failure(exits.UNAVAILABLE, f"{url}: no answer in time ({exc})") from exc
    except httpx.TransportError as exc:
        raise exits.Failure(exits.UNAVAILABLE, f"cannot reach {url}: {exc}") from exc
    except ValueError as exc:  # a documented status without the API's JSON (a proxy's page)
        raise exits.Failure(exits.UNAVAILABLE, f"{url}: the answer is not the API's") from exc


def expect(kind: type[T], response: Response[Any]) -> T:
    if isinstance(response.parsed, kind):
        return response.parsed
    raise failure(response)


def _expired(response: Response[Any]) -> bool:
    return response.status_code == 401 and error_of(response).get("code") == "TOKEN_EXPIRED"


def error_of(response: Response[Any]) -> dict[str, Any]:
    """The error envelope's `error` object, or {} when the body has none."""
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def failure(response: Response[Any]) -> exits.Failure:
    """The one line an error answer prints: code, message, details, request id."""
    status = int(response.status_code)
    error = error_of(response)
    line = f"{error.get('code', f'HTTP {status}')}: {error.get('message', 'unexpected answer')}"
    if error.get("details"):
        line += f" {json.dumps(error['details'], sort_keys=True)}"
    request_id = response.headers.get("X-Request-ID")
    if request_id:
        line += f" (request {request_id})"
    return exits.Failure(exits.for_status(status) if status >= 400 else exits.UNAVAILABLE, line)
