"""Fault injection for the reliability tests: a TCP proxy that can cut a database.

:class:`TcpCutter` sits between a client (the action server) and a server
(PostgreSQL). ``cut_on(b"INSERT INTO case_status_changes")`` drops every connection
the moment a client sends those bytes (mid-transaction: the case row was already
inserted) and refuses new ones until :meth:`restore`. PostgreSQL sees the client
vanish and rolls the transaction back, exactly as when the database host fails.
Connections must not use TLS (``sslmode=disable``) so the SQL is visible.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpCutter:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._down = False
        self._trigger: bytes | None = None
        self.cuts = 0
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_on(self, trigger: bytes) -> None:
        """Cut everything as soon as a client sends ``trigger``."""
        self._trigger = trigger

    def cut(self) -> None:
        with self._lock:
            self._down = True
            self.cuts += 1
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        with self._lock:
            self._down = False
            self._trigger = None

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_client and self._trigger and self._trigger in data:
                    self.cut()
                    return
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
