"""The HTTP transport over real sockets, against small servers on loopback (simfarm's HTTP server)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from collectors.asic import iceriver, innosilicon, vnish
from collectors.asic.driver import Http
from collectors.credentials import Credentials
from collectors.errors import AuthFailed, DeviceUnreachable, ProtocolError
from collectors.transport.http import HttpClient
from simfarm.asic.webauth import Sessions, bearer
from simfarm.device import digest_authorized, digest_challenge
from simfarm.servers import Connections, HttpProtocol, listen

HOST = "127.0.0.1"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def serve():
    """serve(handler) -> port of an HTTP server on loopback answering with ``handler``."""
    servers, connections = [], Connections()

    async def start(handler: Callable) -> int:
        server = await listen(HOST, 0, lambda: HttpProtocol(connections, handler))
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    connections.abort()
    for server in servers:
        server.close()


@pytest.fixture
async def raw():
    """raw(on_connect) -> port of a TCP server whose connections ``on_connect`` handles."""
    servers = []

    async def start(on_connect: Callable) -> int:
        server = await asyncio.start_server(on_connect, HOST, 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()


def creds(driver: str, username: str, password: str) -> Credentials:
    return Credentials({driver: {"username": username, "password": password}})


async def test_plain_json_with_bom_and_html_content_type(serve):
    port = await serve(lambda *a: (200, {"Content-Type": "text/html"}, b'\xef\xbb\xbf{"ok": 1}'))
    async with HttpClient() as http:
        assert await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None) == {"ok": 1}


async def test_jsonp_is_unwrapped(serve):
    port = await serve(lambda *a: (200, {"Content-Type": "application/javascript"},
                                   b'jQuery1123_4({"minertype": "DG1+", "n": [1, 2]});\n'))
    async with HttpClient() as http:
        reply = await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)
    assert reply == {"minertype": "DG1+", "n": [1, 2]}


async def test_post_sends_the_json_body(serve):
    seen = {}

    def handler(method, path, headers, body, now):
        seen.update(method=method, body=json.loads(body))
        return 200, JSON, b"{}"

    port = await serve(handler)
    async with HttpClient() as http:
        await http.fetch(HOST, port, Http("x", "/set", method="POST", json={"a": 1}), driver="epic",
                         credentials=None)
    assert seen == {"method": "POST", "body": {"a": 1}}


def digest_handler(calls: list[int]):
    realm, nonce = "antMiner Configuration", "0123456789abcdef"

    def handler(method, path, headers, body, now):
        if not digest_authorized(headers, method, realm, nonce, "root", "root"):
            calls.append(401)
            return 401, {"WWW-Authenticate": digest_challenge(realm, nonce)}, b"401 Unauthorized"
        calls.append(200)
        return 200, JSON, b'{"minertype": "Antminer S21"}'

    return handler


async def test_digest_login_reuses_the_challenge(serve):
    calls: list[int] = []
    port = await serve(digest_handler(calls))
    endpoint = Http("system_info", "/cgi-bin/get_system_info.cgi", auth="digest")
    async with HttpClient() as http:
        for _ in range(3):
            reply = await http.fetch(HOST, port, endpoint, driver="antminer", credentials=Credentials())
            assert reply == {"minertype": "Antminer S21"}
    assert calls == [401, 200, 200, 200]  # the 401 round-trip is paid once per device


async def test_digest_wrong_password_is_auth_failed(serve):
    port = await serve(digest_handler([]))
    endpoint = Http("system_info", "/cgi-bin/get_system_info.cgi", auth="digest")
    async with HttpClient() as http:
        with pytest.raises(AuthFailed, match=rf"^{HOST}:{port} refused the login for user root$"):
            await http.fetch(HOST, port, endpoint, driver="antminer",
                             credentials=creds("antminer", "root", "wrong"))


def vnish_handler(sessions: Sessions, logins: list[str]):
    """VNish's API: POST /api/v1/unlock {"pw"} -> {"token"}; 401 without a valid bearer token."""

    def handler(method, path, headers, body, now):
        if path == "/api/v1/unlock":
            if json.loads(body).get("pw") != "admin":
                return 401, JSON, b'{"err": "Wrong password"}'
            logins.append("ok")
            return 200, JSON, json.dumps({"token": sessions.issue()}).encode()
        if not sessions.valid(bearer(headers)):
            return 401, JSON, b'{"err": "Unauthorized"}'
        return 200, JSON, b'{"miner": {"hr_realtime": 100.5}}'

    return handler


async def test_token_login_is_cached_and_renewed_after_expiry(serve):
    sessions, logins = Sessions(), []
    port = await serve(vnish_handler(sessions, logins))
    endpoint = Http("summary", "/api/v1/summary", auth=vnish.LOGIN)
    async with HttpClient() as http:
        for _ in range(2):
            reply = await http.fetch(HOST, port, endpoint, driver="vnish", credentials=Credentials())
            assert reply == {"miner": {"hr_realtime": 100.5}}
        assert logins == ["ok"]
        sessions.expire_all()  # the firmware's own session timeout, or a reboot
        assert await http.fetch(HOST, port, endpoint, driver="vnish", credentials=Credentials())
        assert logins == ["ok", "ok"]


async def test_concurrent_requests_of_one_device_log_in_once(serve):
    sessions, logins = Sessions(), []
    port = await serve(vnish_handler(sessions, logins))
    async with HttpClient() as http:
        await asyncio.gather(*(http.fetch(HOST, port, Http(f"e{i}", "/api/v1/summary", auth=vnish.LOGIN),
                                          driver="vnish", credentials=Credentials()) for i in range(5)))
    assert logins == ["ok"]


async def test_token_login_refused_is_auth_failed(serve):
    port = await serve(vnish_handler(Sessions(), []))
    async with HttpClient() as http:
        with pytest.raises(AuthFailed, match=rf"^{HOST}:{port} refused the login for user admin$"):
            await http.fetch(HOST, port, Http("summary", "/api/v1/summary", auth=vnish.LOGIN), driver="vnish",
                             credentials=creds("vnish", "admin", "nope"))


async def test_a_token_refused_right_after_login_is_auth_failed(serve):
    def handler(method, path, headers, body, now):
        if path == "/api/v1/unlock":
            return 200, JSON, b'{"token": "t"}'
        return 403, JSON, b"{}"

    port = await serve(handler)
    async with HttpClient() as http:
        with pytest.raises(AuthFailed, match="refused a fresh vnish session for user admin"):
            await http.fetch(HOST, port, Http("summary", "/api/v1/summary", auth=vnish.LOGIN), driver="vnish",
                             credentials=Credentials())


async def test_innosilicon_form_login_and_expired_marker(serve):
    sessions, forms = Sessions(), []

    def handler(method, path, headers, body, now):
        if path == "/api/auth":
            forms.append(parse_qs(body.decode()))
            return 200, JSON, json.dumps({"success": True, "jwt": sessions.issue()}).encode()
        if not sessions.valid(bearer(headers)):
            return 200, JSON, b'{"success": false, "token": "expired"}'  # DragonMint's way
        return 200, JSON, b'{"success": true, "all": {}}'

    port = await serve(handler)
    endpoint = Http("all", "/api/getAll", method="POST", auth=innosilicon.LOGIN)
    async with HttpClient() as http:
        assert (await http.fetch(HOST, port, endpoint, driver="innosilicon", credentials=Credentials()))["success"]
        sessions.expire_all()
        assert (await http.fetch(HOST, port, endpoint, driver="innosilicon", credentials=Credentials()))["success"]
    assert forms == [{"username": ["admin"], "password": ["admin"]}] * 2


async def test_iceriver_session_cookie(serve):
    sessions = Sessions()

    def handler(method, path, headers, body, now):
        url = urlsplit(path)
        if url.path == "/user/loginpost":
            query = parse_qs(url.query)
            if query.get("pwd") != ["12345678"]:
                return 200, {"Content-Type": "text/html"}, b"<html>login</html>"
            return 302, {"Set-Cookie": f"session={sessions.issue()}; Path=/", "Location": "/"}, b""
        if not sessions.valid(headers.get("cookie", "").removeprefix("session=")):
            return 302, {"Location": "/user/login"}, b""
        return 200, JSON, b'{"data": {"rtpow": "100G"}}'

    port = await serve(handler)
    endpoint = Http("userpanel", "/user/userpanel?post=4", method="POST", auth=iceriver.LOGIN)
    async with HttpClient() as http:
        assert await http.fetch(HOST, port, endpoint, driver="iceriver", credentials=Credentials())
        sessions.expire_all()
        assert await http.fetch(HOST, port, endpoint, driver="iceriver", credentials=Credentials())


async def test_body_over_the_cap_is_a_protocol_error(serve):
    big = b'{"x": "' + b"a" * 1_500_000 + b'"}'
    port = await serve(lambda *a: (200, JSON, big))
    async with HttpClient() as http:
        with pytest.raises(ProtocolError, match=rf"^{HOST}:{port} sent more than 1 MB$"):
            await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)


async def test_a_hanging_device_is_unreachable_within_the_timeout(raw):
    async def hang(reader, writer):
        await reader.read(1000)
        await asyncio.sleep(30)

    port = await raw(hang)
    async with HttpClient(timeout=0.5) as http:
        started = time.perf_counter()
        with pytest.raises(DeviceUnreachable, match=rf"^no answer on {HOST}:{port} within 0.5 s$"):
            await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)
        assert time.perf_counter() - started < 1.5


async def test_garbage_instead_of_http_is_a_protocol_error(raw):
    async def garbage(reader, writer):
        await reader.read(1000)
        writer.write(b"\x16\x03\x01\x02\x00garbage that is no HTTP status line\r\n\r\n")
        await writer.drain()
        writer.close()

    port = await raw(garbage)
    async with HttpClient() as http:
        with pytest.raises(ProtocolError, match=rf"^{HOST}:{port} did not answer in HTTP$"):
            await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)


async def test_html_instead_of_json_is_a_protocol_error(serve):
    port = await serve(lambda *a: (200, {"Content-Type": "text/html"}, b"<html><body>hi</body></html>"))
    async with HttpClient() as http:
        with pytest.raises(ProtocolError, match="answered but not as a miner"):
            await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)


async def test_http_error_status_is_a_protocol_error(serve):
    port = await serve(lambda *a: None)  # simfarm's server answers 404
    async with HttpClient() as http:
        with pytest.raises(ProtocolError, match=rf"^{HOST}:{port} answered HTTP 404 to /nope$"):
            await http.fetch(HOST, port, Http("x", "/nope"), driver="epic", credentials=None)


async def test_refused_connection_is_unreachable():
    async with HttpClient() as http:  # nothing listens on port 1 of loopback
        with pytest.raises(DeviceUnreachable, match=rf"^could not connect to {HOST}:1 "):
            await http.fetch(HOST, 1, Http("x", "/x"), driver="epic", credentials=None)


async def test_probe_reads_status_realm_title_and_server(serve):
    def handler(method, path, headers, body, now):
        if path == "/":
            return 401, {"WWW-Authenticate": 'Digest realm="blackMiner Configuration", nonce="x"',
                         "Server": "lighttpd/1.4.32"}, b"<html><head><TITLE>\n Login </TITLE></head></html>"
        return 200, {}, b"x" * 200_000

    port = await serve(handler)
    async with HttpClient() as http:
        page = await http.probe(HOST, port)
        assert (page.status, page.realm, page.title, page.server) == (
            401, "blackMiner Configuration", "Login", "lighttpd/1.4.32")
        assert len((await http.probe(HOST, port, "/big")).body) == 64 * 1024  # cut, not refused


def cpu_seconds_of(started: float) -> float:
    return time.process_time() - started


async def test_a_body_made_to_backtrack_the_jsonp_unwrapper_is_read_at_once(serve):
    # "a(", spaces, no closing parenthesis: tried as JSONP from every space, it took 30 s at 4 KB
    port = await serve(lambda *a: (200, {"Content-Type": "application/javascript"}, b"a(" + b" " * 4000 + b"x"))
    async with HttpClient() as http:
        started = time.process_time()
        with pytest.raises(ProtocolError, match="answered but not as a miner"):
            await http.fetch(HOST, port, Http("x", "/x"), driver="epic", credentials=None)
        assert cpu_seconds_of(started) < 1.0  # a third of the poll's timeout; it took 30 s


async def test_a_page_of_unclosed_titles_is_read_at_once(serve):
    port = await serve(lambda *a: (200, {"Content-Type": "text/html"}, b"<title>" * 9000))
    async with HttpClient() as http:
        started = time.process_time()
        page = await http.probe(HOST, port)
        assert cpu_seconds_of(started) < 1.0  # a third of the poll's timeout; it took 5 s
    assert page.title is None
