"""The SSH runner against a real asyncssh server on 127.0.0.1 with host keys made per test."""

import contextlib

import asyncssh
import pytest

from collectors.errors import AuthFailed, ProtocolError
from collectors.transport.ssh import KnownHosts, run

HOST = "127.0.0.1"
USER, PASSWORD = "root", "s3cret"
COMMAND = "cat /tmp/minerwatch-status.json"
OUTPUT = '{"hashrate": 95.2}\n'


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return (username, password) == (USER, PASSWORD)


async def _process(process):
    if process.command == COMMAND:
        process.stdout.write(OUTPUT)
        process.exit(0)
    elif process.command == "big":
        process.stdout.write("x" * 5000)
        process.exit(0)
    else:
        process.exit(127)


@contextlib.asynccontextmanager
async def ssh_server(host_key):
    server = await asyncssh.create_server(_Server, HOST, 0, server_host_keys=[host_key],
                                          process_factory=_process)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="module")
def host_keys():
    return asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key("ssh-ed25519")


async def test_strict_refuses_an_unknown_host_before_logging_in(tmp_path, host_keys):
    known = KnownHosts(tmp_path / "known_hosts")  # strict is the default
    async with ssh_server(host_keys[0]) as port:
        with pytest.raises(AuthFailed, match=f"^host key of {HOST} is not known; add it to {known.path}$"):
            await run(HOST, COMMAND, port=port, username=USER, password=PASSWORD, known_hosts=known)
    assert not known.path.exists()


async def test_strict_accepts_a_recorded_key(tmp_path, host_keys):
    known = KnownHosts(tmp_path / "known_hosts")
    async with ssh_server(host_keys[0]) as port:
        public = host_keys[0].export_public_key().decode().split()[:2]
        known.path.write_text(f"[{HOST}]:{port} {' '.join(public)}\n")
        assert await run(HOST, COMMAND, port=port, username=USER, password=PASSWORD,
                         known_hosts=known) == OUTPUT


async def test_accept_new_records_then_refuses_a_changed_key(tmp_path, host_keys):
    known = KnownHosts(tmp_path / "state" / "known_hosts", policy="accept-new")
    async with ssh_server(host_keys[0]) as port:
        assert await run(HOST, COMMAND, port=port, username=USER, password=PASSWORD,
                         known_hosts=known) == OUTPUT
        assert await run(HOST, COMMAND, port=port, username=USER, password=PASSWORD,
                         known_hosts=known) == OUTPUT
    assert len(known.path.read_text().splitlines()) == 1
    assert known.path.read_text().startswith(f"[{HOST}]:{port} ssh-ed25519 ")

    async with ssh_server(host_keys[1]) as new_port:
        # Same address and port, another key: what a spoofed or replaced controller looks like.
        known.path.write_text(known.path.read_text().replace(f":{port} ", f":{new_port} "))
        with pytest.raises(AuthFailed, match=f"^host key of {HOST} has changed since it was recorded"):
            await run(HOST, COMMAND, port=new_port, username=USER, password=PASSWORD,
                      known_hosts=known)
    assert len(known.path.read_text().splitlines()) == 1


async def test_wrong_password(tmp_path, host_keys):
    known = KnownHosts(tmp_path / "known_hosts", policy="accept-new")
    async with ssh_server(host_keys[0]) as port:
        with pytest.raises(AuthFailed, match=f"^{HOST}:{port} refused the SSH user name or password$") as error:
            await run(HOST, COMMAND, port=port, username=USER, password="wrong", known_hosts=known)
    assert "wrong" not in str(error.value)


async def test_failing_command_and_output_cap(tmp_path, host_keys):
    known = KnownHosts(tmp_path / "known_hosts", policy="accept-new")
    async with ssh_server(host_keys[0]) as port:
        with pytest.raises(ProtocolError, match="exit status 127"):
            await run(HOST, "nonexistent", port=port, username=USER, password=PASSWORD,
                      known_hosts=known)
        with pytest.raises(ProtocolError, match="sent more than 4 KB"):
            await run(HOST, "big", port=port, username=USER, password=PASSWORD,
                      known_hosts=known, max_bytes=4096)


def test_there_is_no_accept_any_policy(tmp_path):
    with pytest.raises(ValueError, match="strict"):
        KnownHosts(tmp_path / "known_hosts", policy="accept-any")
