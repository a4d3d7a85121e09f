"""The firmwares' HTTP APIs: one connection pool per poll job, each login as its driver declares it.

``HttpClient.fetch`` turns one ``Http`` endpoint of a driver into its decoded JSON reply;
``HttpClient.probe`` reads a page for identification. Both speak plain HTTP/1.1 through one
``httpx.AsyncClient`` whose keep-alive pool is sized for a farm polled in one job.

Auth, by ``Http.auth``:
- ``None``: nothing.
- ``"digest"``: Bitmain-style CGI (and the Bitmain-like web firmwares). One ``httpx.DigestAuth``
  is kept per device and login, so after the first poll the request carries the remembered
  challenge and the 401 round-trip is not paid again (httpx renews it when the nonce goes stale).
- the driver's ``Login`` (``collectors.asic.driver``): log in once per (host, port), keep the
  token, send it on every request; a refusal (401/403, or the firmware's own "expired" answer)
  renews it once, then the device has refused us and that is ``AuthFailed``.

Every failure leaves as one of ``collectors.errors``, one sentence naming the device.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from collectors.asic.driver import Http, Login
from collectors.errors import AuthFailed, CollectorError, DeviceUnreachable, ProtocolError
from collectors.transport.decode import decode

if TYPE_CHECKING:
    from collectors.credentials import Credential, Credentials

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000  # no firmware's JSON comes near; a bigger body is a fault or not a miner
PROBE_BYTES = 64 * 1024  # enough for a login page's <head>, where the markers are
_BOM = b"\xef\xbb\xbf"
# The patterns below read what a device sent, so none may backtrack over it: a lazy ``.*?``
# before a closing token, tried from every start, costs minutes on a megabyte made for it.
# ``callback({...});`` as some CGI scripts wrap their JSON for the page's <script> loader
_JSONP_CALL = re.compile(rb"[A-Za-z_$][\w$.]*\s*\(")
_TITLE = re.compile(r"<title\b[^<>]{0,200}>", re.IGNORECASE)
_TITLE_END = re.compile(r"</title>", re.IGNORECASE)
_REALM = re.compile(r'realm="(?P<realm>[^"]{0,256})"', re.IGNORECASE)


@dataclass(frozen=True)
class WebPage:
    """What a web port answered to one GET, for identification."""

    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: str  # the first PROBE_BYTES, decoded leniently
    realm: str | None = None  # from WWW-Authenticate, on a 401
    title: str | None = None  # the page's <title>, whitespace collapsed

    @property
    def server(self) -> str:
        return self.headers.get("server", "")


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """One client serves thousands of devices: sessions are kept per (host, port) by us, not
    by a jar that would grow with every device and send one device's cookie to its neighbour."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class HttpClient:
    """The HTTP side of one poll job. Use as ``async with HttpClient() as http`` or call ``aclose``."""

    def __init__(self, *, timeout: float = 3.0, max_bytes: int = MAX_BYTES,
                 max_connections: int = 1000) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            # No idle connections kept: httpcore scans its whole pool on every request, which
            # with one kept-alive connection per device in a farm costs more than reconnecting.
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=0),
            follow_redirects=False,  # a redirect is information (a login page, https), not a detour
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            headers={"User-Agent": "minerwatch"},
        )
        self._digests: dict[tuple[str, int, str, str], httpx.DigestAuth] = {}
        self._tokens: dict[tuple[str, int, str], str] = {}
        self._logins: dict[tuple[str, int, str], asyncio.Lock] = {}

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, host: str, port: int, endpoint: Http, *, driver: str,
                    credentials: Credentials | None) -> Any:
        """The decoded JSON reply of ``endpoint`` on ``host:port``, logging in as ``endpoint.auth`` says."""
        where = _where(host, port)
        if endpoint.auth is None:
            status, body = await self._request(host, port, endpoint.method, endpoint.path, json=endpoint.json)
            return self._reply(where, endpoint.path, status, body)
        credential = credentials.for_driver(driver, host) if credentials is not None else None
        if credential is None:
            raise AuthFailed(f"{where} needs a login and no credentials are configured for {driver}")
        if endpoint.auth == "digest":
            return await self._fetch_digest(host, port, endpoint, credential)
        if not isinstance(endpoint.auth, Login):
            raise ValueError(f"driver {driver} names an unknown HTTP auth scheme {endpoint.auth!r}")
        return await self._fetch_token(host, port, endpoint, driver, endpoint.auth, credential)

    async def probe(self, host: str, port: int, path: str = "/") -> WebPage:
        """What ``GET path`` answers, whatever its status, for the drivers' web signatures."""
        status, headers, body = await self._request(host, port, "GET", path, limit=PROBE_BYTES,
                                                    truncate=True, with_headers=True)
        text = body.removeprefix(_BOM).decode("utf-8", errors="replace")
        realm = _REALM.search(headers.get("www-authenticate", ""))
        return WebPage(status=status, headers=headers, body=text,
                       realm=realm.group("realm") if realm else None, title=_title(text))

    # --- auth

    async def _fetch_digest(self, host: str, port: int, endpoint: Http, credential: Credential) -> Any:
        key = (host, port, credential.username, credential.password)
        auth = self._digests.get(key)
        if auth is None:
            auth = self._digests[key] = httpx.DigestAuth(credential.username, credential.password)
        try:
            status, body = await self._request(host, port, endpoint.method, endpoint.path,
                                               json=endpoint.json, auth=auth)
        except Exception:
            # A challenge httpx could not answer (qop="auth-int" raises NotImplementedError) would
            # fail every later poll from memory, whatever the device asks then: forget it.
            self._digests.pop(key, None)
            raise
        if status in (401, 403):
            self._digests.pop(key, None)  # a refused login is not worth remembering
            raise AuthFailed(f"{_where(host, port)} refused the login for user {credential.username}")
        return self._reply(_where(host, port), endpoint.path, status, body)

    async def _fetch_token(self, host: str, port: int, endpoint: Http, driver: str, login: Login,
                           credential: Credential) -> Any:
        key = (host, port, driver)
        token = self._tokens.get(key) or await self._login(host, port, key, login, credential, stale=None)
        for attempt in (1, 2):
            headers = {login.header: login.header_format.format(token=token)}
            status, body = await self._request(host, port, endpoint.method, endpoint.path,
                                               json=endpoint.json, headers=headers)
            refused = status in (401, 403)
            if not refused and login.expired is not None:
                refused = login.expired(status, self._lenient(body))
            if not refused:
                return self._reply(_where(host, port), endpoint.path, status, body)
            if attempt == 1:
                log.debug("%s: %s session refused, logging in again", _where(host, port), driver)
                token = await self._login(host, port, key, login, credential, stale=token)
        self._tokens.pop(key, None)
        raise AuthFailed(f"{_where(host, port)} refused a fresh {driver} session for user {credential.username}")

    async def _login(self, host: str, port: int, key: tuple[str, int, str], login: Login,
                     credential: Credential, stale: str | None) -> str:
        """A token for ``key``: one login at a time per device; others reuse its result."""
        lock = self._logins.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._tokens.get(key)
            if current is not None and current != stale:
                return current  # another request of this poll logged in while we waited
            fields = login.body(credential)
            status, headers, body = await self._request(
                host, port, login.method, login.path, with_headers=True,
                json=fields if login.send_as == "json" else None,
                data=fields if login.send_as == "form" else None,
                params=fields if login.send_as == "query" else None)
            token = self._token(login, status, headers, body)
            if token is None:
                self._tokens.pop(key, None)
                raise AuthFailed(f"{_where(host, port)} refused the login for user {credential.username}")
            self._tokens[key] = token
            return token

    def _token(self, login: Login, status: int, headers: Mapping[str, str], body: bytes) -> str | None:
        if status >= 400:
            return None
        if login.cookie:
            # the session cookie's "name=value", sent back as the Cookie header
            cookie = headers.get("set-cookie", "").split(";", 1)[0].strip()
            return cookie if "=" in cookie else None
        token = login.token_at(self._lenient(body)) if login.token_at else None
        return token if isinstance(token, str) and token else None

    # --- the wire

    async def _request(self, host: str, port: int, method: str, path: str, *, limit: int | None = None,
                       truncate: bool = False, with_headers: bool = False, **options: Any) -> Any:
        """(status, body) of one request, or (status, headers, body).

        A body longer than ``limit`` is an error, or with ``truncate`` cut to its first ``limit``
        bytes; either way reading stops there, so a device streaming without end costs nothing.
        """
        where = _where(host, port)
        limit = self.max_bytes if limit is None else limit
        url = f"http://{_host(host)}:{port}{path}"
        try:
            async with asyncio.timeout(self.timeout):
                async with self._client.stream(method, url, **options) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            if not truncate:
                                raise ProtocolError(f"{where} sent more than {limit / 1e6:g} MB")
                            del body[limit:]
                            break
                    status = response.status_code
                    headers = {k.lower(): v for k, v in response.headers.items()}
        except CollectorError:
            raise
        except TimeoutError as exc:
            raise DeviceUnreachable(f"no answer on {where} within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _translate(where, exc, self.timeout) from exc
        return (status, headers, bytes(body)) if with_headers else (status, bytes(body))

    def _reply(self, where: str, path: str, status: int, body: bytes) -> Any:
        if status >= 300:
            raise ProtocolError(f"{where} answered HTTP {status} to {path}")
        return decode(_unwrap(body), where)

    @staticmethod
    def _lenient(body: bytes) -> Any:
        """The reply as JSON where it is JSON (a login answer, an "expired" check), else None."""
        try:
            return decode(_unwrap(body), "login")
        except ProtocolError:
            return None


def _title(page: str) -> str | None:
    """The page's <title>, whitespace collapsed, or None."""
    start = _TITLE.search(page)
    end = _TITLE_END.search(page, start.end()) if start else None
    return " ".join(page[start.end():end.start()].split()) if end else None


def _unwrap(body: bytes) -> bytes:
    """The JSON inside: without a UTF-8 BOM, and out of a JSONP ``callback(...)`` wrapper."""
    body = body.strip().removeprefix(_BOM).strip()
    if body[:1] not in (b"{", b"[", b""):
        call = _JSONP_CALL.match(body)
        closed = body.removesuffix(b";").rstrip()
        if call and closed.endswith(b")"):
            return closed[call.end():-1].strip()
    return body


def _translate(where: str, exc: httpx.HTTPError, timeout: float) -> CollectorError:
    if isinstance(exc, httpx.TimeoutException):
        return DeviceUnreachable(f"no answer on {where} within {timeout:g} s")
    if isinstance(exc, httpx.ConnectError):
        return DeviceUnreachable(f"could not connect to {where} ({_reason(exc)})")
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in str(exc):
            return DeviceUnreachable(f"{where} closed the connection without answering")
        return ProtocolError(f"{where} did not answer in HTTP")
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"{where} sent a body its own Content-Encoding cannot decode")
    if isinstance(exc, httpx.TransportError):
        return DeviceUnreachable(f"the connection to {where} failed ({_reason(exc)})")
    return ProtocolError(f"{where} answered but not as a miner")


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    match = re.search(r"\[Errno \d+\] (?P<why>[^\]]+)", text)
    return (match.group("why") if match else text).strip().rstrip(".").lower()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _where(host: str, port: int) -> str:
    return f"{_host(host)}:{port}"
