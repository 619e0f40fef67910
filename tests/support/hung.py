"""A server that hangs: a loopback TCP listener that accepts connections and never answers,
as a Redis whose process is stopped (SIGSTOP), swapping or behind a dead link does.

With ``forward_to`` it passes bytes both ways to a real server until :meth:`HungServer.hang`,
so a site can start (and seed its store) on it first; after ``hang`` every connection, old
or new, is read from and never answered.
"""

from __future__ import annotations

import selectors
import socket
import threading

__all__ = ["HungServer"]


class HungServer:
    """A loopback listener that hangs (at once, or after :meth:`hang`).

    :param forward_to: a loopback port to pass bytes to until :meth:`hang`; ``None`` hangs
        from the start.
    """

    def __init__(self, forward_to: int | None = None) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._forward_to = forward_to
        self._hung = threading.Event()
        if forward_to is None:
            self._hung.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        #: connections accepted while hung (each is one try of the client).
        self.hung_connections = 0
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:port``."""
        return f"127.0.0.1:{self.port}"

    def hang(self) -> None:
        """From now on, answer nothing: forwarded bytes stop both ways."""
        self._hung.set()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._stop.set()
        self._thread.join(timeout=5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                if sock is self._listener:
                    self._accept()
                    continue
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._drop(sock, key.data)
                elif not self._hung.is_set() and key.data is not None:
                    key.data.sendall(data)
                # hung: the bytes are read and dropped; nothing ever answers

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        if self._hung.is_set() or self._forward_to is None:
            with self._lock:
                self.hung_connections += 1
            self._selector.register(client, selectors.EVENT_READ, None)
            return
        upstream = socket.create_connection(("127.0.0.1", self._forward_to))
        self._selector.register(client, selectors.EVENT_READ, upstream)
        self._selector.register(upstream, selectors.EVENT_READ, client)

    def _drop(self, sock: socket.socket, peer: socket.socket | None) -> None:
        for s in (sock, peer):
            if s is None:
                continue
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
