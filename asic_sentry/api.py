"""The ASIC sentry's API, for its commander alone: HTTPS with mutual TLS (a client must show a
certificate the farm's CA signed, ``minerwatch pki``), read-only, two routes.

- ``GET /v1/cycles?after=SEQ&max_bytes=N``: the cycles after SEQ, oldest first, as an Arrow IPC
  stream of one record batch (``seq`` int64, ``polled_at`` float64 Unix s, ``cycle`` binary: the
  buffer's own file, zstd JSON lines); header ``X-Minerwatch-Buffer`` is the buffer's id, so a
  commander whose cursor belongs to a wiped buffer knows to start over. Arrow frames the cycles
  and the commander reads them without a parser of ours.
- ``GET /v1/status``: the sentry's name, its buffer (cycles, bytes, oldest and newest), its last
  poll, as JSON.

The standard library's threaded HTTP server serves it: a handful of requests a minute from one
client, each a read of files the poll job has finished.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa

from asic_sentry.buffer import Buffer

log = logging.getLogger(__name__)

BUFFER_HEADER = "X-Minerwatch-Buffer"
MAX_PULL_BYTES = 64 * 1024 * 1024  # one answer's cycles; a commander catching up asks again
SCHEMA = pa.schema([("seq", pa.int64()), ("polled_at", pa.float64()), ("cycle", pa.binary())])
ARROW_STREAM = "application/vnd.apache.arrow.stream"


class Api:
    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, buffer: Buffer,
                 status: Callable[[], dict]) -> None:
        handler = type("Handler", (_Handler,), {"buffer": buffer, "status": staticmethod(status)})
        self.server = _TlsServer(address, handler, context)
        self.thread = threading.Thread(target=self.server.serve_forever, name="asic-sentry-api", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        # The handshake happens in the request's own thread (do_handshake_on_connect), so a client
        # that connects and says nothing holds up only itself.
        sock, address = self.socket.accept()
        sock.settimeout(30)
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            log.warning("refused a connection from %s: %s", client_address[0], exc)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        log.exception("the API failed to answer %s", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    buffer: Buffer
    status: Callable[[], dict]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/v1/status":
            self._send(HTTPStatus.OK, "application/json", json.dumps(self.status()).encode())
        elif url.path == "/v1/cycles":
            self._cycles(parse_qs(url.query))
        else:
            self._send(HTTPStatus.NOT_FOUND, "application/json", b'{"error": "no such route"}')

    def _cycles(self, query: dict[str, list[str]]) -> None:
        try:
            after = int(query.get("after", ["0"])[0])
            max_bytes = min(int(query.get("max_bytes", [str(MAX_PULL_BYTES)])[0]), MAX_PULL_BYTES)
        except ValueError:
            self._send(HTTPStatus.BAD_REQUEST, "application/json", b'{"error": "after and max_bytes are numbers"}')
            return
        cycles = self.buffer.after(after, max_bytes)
        bodies = []
        for cycle in cycles:
            try:
                bodies.append(cycle.path.read_bytes())
            except FileNotFoundError:  # dropped (disk full) since it was listed: the rest still go
                break
        batch = pa.record_batch([pa.array([c.seq for c in cycles[:len(bodies)]], pa.int64()),
                                 pa.array([c.polled_at for c in cycles[:len(bodies)]], pa.float64()),
                                 pa.array(bodies, pa.binary())], schema=SCHEMA)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, SCHEMA) as writer:
            writer.write_batch(batch)
        self._send(HTTPStatus.OK, ARROW_STREAM, sink.getvalue().to_pybytes(), {BUFFER_HEADER: self.buffer.id})

    def _send(self, status: HTTPStatus, kind: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.client_address[0], format % args)
