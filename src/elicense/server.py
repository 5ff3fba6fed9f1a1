"""Runs the REST API and the pages with uvicorn, in the foreground (`elicense serve`, `make demo`) or
in a thread (tests, the demo's scripted run)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from .api import FRONTEND, create_app
from .errors import InvalidInput


class Server:
    """uvicorn on 127.0.0.1 in a background thread; ``url`` once started, ``stop()`` to end it."""

    def __init__(self, client, service=None, *, host: str = "127.0.0.1", port: int = 0, faucet: bool = False,
                 frontend: Path | None = None, static: dict[str, Path] | None = None, storage=None,
                 gateway_log: Path | None = None, personal: list[str] = (), sharing: list[str] = ()):
        self.sock = socket.socket()
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.host, self.port = host, self.sock.getsockname()[1]
        app = create_app(client, service=service, faucet=faucet, frontend=frontend or FRONTEND, static=static,
                         storage=storage, gateway_log=gateway_log, personal=personal, sharing=sharing)
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "Server":
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def wait(self, console) -> None:
        """Serves until Ctrl-C (or SIGTERM, which the CLI turns into the same unwinding)."""
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            console.print("stopping")

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(client, service, *, host: str, port: int, faucet: bool, frontend: Path | None, console, storage=None,
          personal: list[str] = (), sharing: list[str] = ()) -> None:
    """Serves until interrupted (Ctrl-C)."""
    with Server(client, service, host=host, port=port, faucet=faucet, frontend=frontend, storage=storage,
                personal=personal, sharing=sharing) as server:
        if not (frontend or FRONTEND).joinpath("dist").is_dir():
            console.print("[yellow]the pages are not built (frontend/dist missing): run `make frontend`[/]")
        console.print(f"elicense serving on [bold]{server.url}/[/] (API docs {server.url}/docs); Ctrl-C stops")
        server.wait(console)
