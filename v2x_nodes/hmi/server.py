"""The HMI web server: the page over HTTP and live updates over a websocket, on one port.

It runs an asyncio loop (the ``websockets`` package) in a daemon thread. The component's
thread hands over encoded JSON with ``post_state``/``set_map``: the text is stored and the
loop is woken with ``call_soon_threadsafe``, so handlers never block on the network. Each
page gets the latest state only (slow clients skip intermediate states, counted as
``conflated``). Paths: ``/`` (the page), ``/hmi.js``, ``/hmi.css``, ``/state.json``,
``/map.json`` and the websocket at ``/ws``; anything else is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from v2x_nodes.hmi.errors import ServerError

LOG = logging.getLogger(__name__)
STATIC = {
    '/': ('index.html', 'text/html; charset=utf-8'),
    '/index.html': ('index.html', 'text/html; charset=utf-8'),
    '/hmi.js': ('hmi.js', 'text/javascript; charset=utf-8'),
    '/hmi.css': ('hmi.css', 'text/css; charset=utf-8'),
}
WS_PATH = '/ws'
CLOSE_TIMEOUT_S = 1.0


def load_assets() -> dict[str, bytes]:
    """The page's files, shipped as package data of ``v2x_nodes.hmi.web``."""
    root = resources.files('v2x_nodes.hmi.web')
    return {name: root.joinpath(name).read_bytes() for name, _ in set(STATIC.values())}


@dataclass
class ServerStats:
    connections: int = 0
    open_connections: int = 0
    sent: int = 0
    conflated: int = 0
    http_requests: int = 0
    not_found: int = 0


class _Client:
    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.sent_state = -1
        self.sent_map = -1


class HmiWebServer:
    """Serve the page and push state to every connected page. Start, post, stop (any thread)."""

    def __init__(self, host: str, port: int, *, on_error: Callable[[str], None] | None = None):
        self.host = host
        self.requested_port = port
        self.port = 0
        self.stats = ServerStats()
        self._assets = load_assets()
        self._on_error = on_error
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._clients: set[_Client] = set()
        self._connections: set[ServerConnection] = set()
        self._state_text = '{"type":"state","seq":0}'
        self._state_seq = 0
        self._map_text = '{"type":"map","lanes":[],"boundaries":[],"stop_lines":[]}'
        self._map_seq = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'http://{host}:{self.port}/'

    # --- from the component's thread -----------------------------------------------------
    def set_map(self, text: str) -> None:
        with self._lock:
            self._map_text, self._map_seq = text, self._map_seq + 1
        self._wake_all()

    def post_state(self, text: str) -> None:
        with self._lock:
            self._state_text, self._state_seq = text, self._state_seq + 1
        self._wake_all()

    def _wake_all(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake_clients)

    def _wake_clients(self) -> None:
        for client in self._clients:
            client.wake.set()

    def start(self, timeout_s: float = 5.0) -> None:
        """Bind and serve; raises ServerError (naming the address) when it cannot bind."""
        self._thread = threading.Thread(target=self._run, name='hmi-web', daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise ServerError(
                f'{self.host}:{self.requested_port}: server did not start in {timeout_s} s'
            )
        if self._start_error is not None:
            self._thread.join(timeout_s)
            raise ServerError(
                f'cannot serve the HMI on {self.host}:{self.requested_port}: {self._start_error}'
            ) from self._start_error

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close every connection and the listening socket; join the thread."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._request_stop)
            thread.join(timeout_s)
            if thread.is_alive():
                LOG.error('HMI web server thread did not end in %.1f s', timeout_s)
                return

    def _request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    # --- the loop's thread ------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except Exception as err:  # reported through start() or the error callback
            if not self._ready.is_set():
                self._start_error = err
                self._ready.set()
            elif self._on_error is not None:
                self._on_error(f'HMI web server failed: {err!r}')
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        connections = self._connections

        class Tracked(ServerConnection):
            """Known from the first byte on, so that stop() can abort a stuck handshake."""

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                connections.add(self)

            def connection_lost(self, exc: Exception | None) -> None:
                connections.discard(self)
                super().connection_lost(exc)

        self._server = await serve(
            self._handle,
            self.host,
            self.requested_port,
            process_request=self._process_request,
            create_connection=Tracked,
            ping_interval=5.0,
            ping_timeout=10.0,
            max_size=4096,  # pages send nothing of size
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        self._server.close()
        try:  # a client that never finishes its HTTP request must not hold the shutdown
            await asyncio.wait_for(self._server.wait_closed(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            LOG.warning(
                'HMI web server: connections still open after %.1f s, aborted', CLOSE_TIMEOUT_S
            )
            for conn in list(self._connections):
                conn.transport.abort()
            await asyncio.sleep(0.05)  # let the aborted transports run connection_lost
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split('?', 1)[0]
        if path == WS_PATH:
            return None
        self.stats.http_requests += 1
        if path == '/state.json':
            with self._lock:
                return _response(200, self._state_text.encode(), 'application/json')
        if path == '/map.json':
            with self._lock:
                return _response(200, self._map_text.encode(), 'application/json')
        entry = STATIC.get(path)
        if entry is None:
            self.stats.not_found += 1
            return _response(404, f'not found: {path}\n'.encode(), 'text/plain; charset=utf-8')
        name, content_type = entry
        return _response(200, self._assets[name], content_type)

    async def _handle(self, ws: ServerConnection) -> None:
        client = _Client()
        self._clients.add(client)
        self.stats.connections += 1
        self.stats.open_connections += 1
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            while not closed.done():
                await self._send_news(ws, client)
                client.wake.clear()
                waiter = asyncio.ensure_future(client.wake.wait())
                await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
        except ConnectionClosed:
            pass
        finally:
            closed.cancel()
            self._clients.discard(client)
            self.stats.open_connections -= 1

    async def _send_news(self, ws: ServerConnection, client: _Client) -> None:
        with self._lock:
            map_seq, map_text = self._map_seq, self._map_text
            state_seq, state_text = self._state_seq, self._state_text
        if map_seq != client.sent_map:
            await ws.send(map_text)
            client.sent_map = map_seq
            self.stats.sent += 1
        if state_seq != client.sent_state:
            if client.sent_state >= 0:
                self.stats.conflated += max(0, state_seq - client.sent_state - 1)
            await ws.send(state_text)
            client.sent_state = state_seq
            self.stats.sent += 1


def _response(status: int, body: bytes, content_type: str) -> Response:
    headers = Headers()
    headers['Content-Type'] = content_type
    headers['Content-Length'] = str(len(body))
    headers['Cache-Control'] = 'no-store'
    headers['Connection'] = 'close'
    return Response(status, http.HTTPStatus(status).phrase, headers, body)
