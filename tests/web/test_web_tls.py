"""HTTPS served by ``minerwatch web`` itself ([web] tls_cert and tls_key, a certificate the farm's CA
issued): a browser that trusts the CA signs in and gets a Secure cookie, plain HTTP on that port is
refused, and unusable files or half a pair stop it with one sentence. Behind a reverse proxy instead
([web] trusted_proxy), the proxy's X-Forwarded-For and -Proto are believed from it alone."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess

import httpx
import pytest

from appliance import pki
from appliance.config import ConfigError, load
from tests.conftest import wait_until
from tests.web.conftest import csrf_token, login, web_config
from tests.web.test_web_process import MINERWATCH, free_port
from web import create_app


@pytest.fixture
def issued(tmp_path):
    """The farm's CA and a certificate for the web on 127.0.0.1."""
    pki.init(tmp_path / "ca-state", "test-farm")
    return pki.issue(tmp_path / "ca-state", "web", "web", ["127.0.0.1"]), tmp_path / "ca-state" / "pki" / "ca.crt"


def https_config(tmp_path, state, port: int, cert, key) -> str:
    return str(web_config(tmp_path, state, f'[web]\nlisten = "127.0.0.1:{port}"\ntls_cert = "{cert}"\n'
                                           f'tls_key = "{key}"\n'))


def test_the_web_serves_https_with_its_certificate_and_secure_cookies(tmp_path, state, issued):
    made, ca = issued
    port = free_port()
    web = subprocess.Popen([*MINERWATCH, "web", "--config", https_config(tmp_path, state, port, made.cert, made.key)],
                           stderr=subprocess.PIPE, text=True)
    base = f"https://127.0.0.1:{port}"
    trusting = ssl.create_default_context(cafile=str(ca))
    try:
        def answers() -> bool:
            try:
                return httpx.get(f"{base}/healthz", verify=trusting, timeout=2).status_code in (200, 503)
            except httpx.TransportError:
                return False
        wait_until(answers, "the web answering over HTTPS")
        with httpx.Client(base_url=base, verify=trusting, timeout=10) as browser:
            token = csrf_token(browser.get("/login").text)
            password = (state / "web" / "initial-admin-password").read_text().strip()
            form = {"username": "admin", "password": password, "csrf_token": token}
            # Over HTTPS a form must also come from this origin, as the browser's Referer says.
            assert browser.post("/login", data=form, headers={"Referer": "https://elsewhere.example/"}).status_code == 400
            signed = browser.post("/login", data=form, headers={"Referer": f"{base}/login"})
            assert signed.status_code == 302
            cookie = signed.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert browser.get("/api/v1/farm").status_code == 200
        # A client that does not trust the farm's CA is told so by TLS, before any HTTP.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{base}/login", timeout=5)
        try:  # plain HTTP on the HTTPS port: cheroot answers 400 or hangs up, and serves no page
            plain = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code
        except httpx.TransportError:
            plain = None
        assert plain in (400, None)
    finally:
        web.send_signal(signal.SIGTERM)
        _, err = web.communicate(timeout=30)
    assert web.returncode == 0, err
    assert f"minerwatch web: serving https://127.0.0.1:{port}/" in err and "Traceback" not in err


def test_a_key_that_is_not_the_certificates_stops_the_web_in_one_sentence(tmp_path, state, issued):
    made, ca = issued
    other = pki.issue(tmp_path / "ca-state", "other", "web", ["127.0.0.1"])
    config = https_config(tmp_path, state, free_port(), made.cert, other.key)
    done = subprocess.run([*MINERWATCH, "web", "--config", config], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(f"minerwatch web: the certificate {made.cert}, its key {other.key} cannot be used (")
    assert len(done.stderr.splitlines()) == 1

    missing = https_config(tmp_path, state, free_port(), tmp_path / "none.crt", made.key)
    done = subprocess.run([*MINERWATCH, "web", "--config", missing], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        1, f"minerwatch web: the certificate {tmp_path / 'none.crt'} cannot be read (No such file or directory)\n")
    checked = subprocess.run([*MINERWATCH, "config", "check", "--config", missing], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 1
    assert f"the certificate {tmp_path / 'none.crt'} cannot be read" in checked.stdout


def test_half_a_pair_is_a_mistake_on_its_line(tmp_path, state, issued):
    made, _ = issued
    path = web_config(tmp_path, state, f'[web]\ntls_cert = "{made.cert}"\n')
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:4: [web] tls_cert needs tls_key beside it: HTTPS takes the certificate and its key"]


def test_config_check_says_the_web_serves_https(tmp_path, state, issued):
    made, _ = issued
    config = https_config(tmp_path, state, 8443, made.cert, made.key)
    checked = subprocess.run([*MINERWATCH, "config", "check", "--config", config], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"`minerwatch web` serves on 127.0.0.1:8443 over HTTPS ({made.cert})" in checked.stdout


@pytest.fixture
def proxied(state, tmp_path, passwords):
    return create_app(load(web_config(tmp_path, state, '[web]\ntrusted_proxy = "10.0.0.5"\n')), {"TESTING": True})


def last_audit(state) -> dict:
    return json.loads((state / "web" / "audit.jsonl").read_text().splitlines()[-1])


def test_the_proxy_alone_is_believed_about_the_client(proxied, passwords, state):
    forwarded = {"X-Forwarded-For": "192.168.7.20", "X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
    through = proxied.test_client()
    through.environ_base.update(REMOTE_ADDR="10.0.0.5")
    token = csrf_token(through.get("/login", headers=forwarded).get_data(as_text=True))
    answer = through.post("/login", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.5"},
                          data={"username": "admin", "password": passwords["admin"], "csrf_token": token})
    assert answer.status_code == 302 and "Secure" in answer.headers["Set-Cookie"]
    assert (last_audit(state)["what"], last_audit(state)["from"]) == ("login", "192.168.7.20")

    # Anyone else saying the same is not believed: its own address is recorded, its cookie is not Secure.
    direct = proxied.test_client()
    token = csrf_token(direct.get("/login").get_data(as_text=True))
    answer = direct.post("/login", headers=forwarded, environ_base={"REMOTE_ADDR": "192.168.7.99"},
                         data={"username": "admin", "password": passwords["admin"], "csrf_token": token})
    assert answer.status_code == 302 and "Secure" not in answer.headers["Set-Cookie"]
    assert (last_audit(state)["what"], last_audit(state)["from"]) == ("login", "192.168.7.99")


def test_the_proxy_address_is_rate_limited_per_client_not_as_one(proxied, passwords):
    client = proxied.test_client()
    for n in range(proxied.config["LOGIN_FAILURES_PER_ADDRESS"]):
        refused = login(client, f"nobody{n}", "wrong", address="10.0.0.5")
    assert refused.status_code == 401
    # Every client behind the proxy has its own count: one address's failures lock out only it.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    other = client.post("/login", data={"username": "admin", "password": passwords["admin"], "csrf_token": token},
                        headers={"X-Forwarded-For": "192.168.7.21"}, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert other.status_code == 302
