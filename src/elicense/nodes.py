"""Local chains as child processes: Anvil (default) or Ganache, on 127.0.0.1, stopped by their pid.

Used by the demo, the tests and the benchmarks. Both nodes get the same well-known development
mnemonic, so ``dev_key(0)`` is a funded account on either.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account

from .artifacts import PROJECT_ROOT
from .errors import ElicenseError, NodeUnreachable

DEV_MNEMONIC = "test test test test test test test test test test test junk"
Account.enable_unaudited_hdwallet_features()


def dev_key(index: int = 0) -> str:
    """Private key of development account ``index`` (the Anvil/Hardhat test mnemonic)."""
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str:
    local = PROJECT_ROOT / "node_modules" / ".bin" / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise ElicenseError(f"{name} is not installed; run `make setup` (npm install) first")
    return found


@dataclass
class LocalChain:
    """One local EVM node process."""

    kind: str = "anvil"
    port: int = 0
    chain_id: int = 31337
    accounts: int = 10
    block_time: float | None = None
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "anvil":
            cmd = [
                _binary("anvil"), "--host", "127.0.0.1", "--port", str(self.port),
                "--chain-id", str(self.chain_id), "--accounts", str(self.accounts),
                "--mnemonic", DEV_MNEMONIC, "--gas-limit", "30000000", "--silent",
            ]
            if self.block_time:
                cmd += ["--block-time", str(self.block_time)]
            return cmd
        if self.kind == "ganache":
            cmd = [
                "node", str(PROJECT_ROOT / "node_modules" / "ganache" / "dist" / "node" / "cli.js"),
                "--server.host", "127.0.0.1", "--server.port", str(self.port),
                "--chain.chainId", str(self.chain_id), "--chain.networkId", str(self.chain_id),
                "--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", str(self.accounts),
                "--chain.hardfork", "shanghai", "--miner.blockGasLimit", "30000000", "--logging.quiet",
            ]
            if self.block_time:
                cmd += ["--miner.blockTime", str(self.block_time)]
            return cmd
        raise ElicenseError(f"unknown node kind {self.kind!r}: use anvil or ganache")

    def start(self, timeout: float = 30.0) -> "LocalChain":
        if not self.port:
            self.port = free_port()
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeUnreachable(f"{self.kind} exited at start (code {self.process.returncode}); port {self.port} taken?")
            if _rpc_ready(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise NodeUnreachable(f"{self.kind} did not answer on {self.url} within {timeout:.0f}s")

    def stop(self) -> None:
        """Stops this node, and only it, by its own process id."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def __enter__(self) -> "LocalChain":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _rpc_ready(port: int) -> bool:
    import json
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return b"result" in response.read()
    except OSError:
        return False


# Chain ids of the local split topology: the EU level, the country's main chain, one per certificate type.
UPPER_CHAIN_ID = 7000
MAIN_CHAIN_ID = 7100
SIDE_CHAIN_IDS = {t: MAIN_CHAIN_ID + t for t in range(1, 6)}


@dataclass
class LocalNetwork:
    """A main chain, one side chain per certificate type and optionally an EU-level chain, each
    its own Anvil (or Ganache) process with its own chain id and port."""

    kind: str = "anvil"
    cert_types: tuple[int, ...] = (1, 2, 3, 4, 5)
    upper: bool = False
    log_dir: Path | None = None
    nodes: dict[str, LocalChain] = field(default_factory=dict)

    def start(self) -> "LocalNetwork":
        from .types import CERT_TYPE_NAMES

        wanted = {"main": MAIN_CHAIN_ID, **{CERT_TYPE_NAMES[t]: SIDE_CHAIN_IDS[t] for t in self.cert_types}}
        if self.upper:
            wanted["eu"] = UPPER_CHAIN_ID
        try:
            for name, chain_id in wanted.items():
                log = self.log_dir / f"{name}.log" if self.log_dir else None
                self.nodes[name] = LocalChain(kind=self.kind, chain_id=chain_id, log_path=log).start()
        except BaseException:
            self.stop()
            raise
        return self

    def topology(self, relayers: list[str] | None = None):
        from .topology import Topology
        from .types import CERT_TYPE_NAMES

        sides = {t: (self.nodes[CERT_TYPE_NAMES[t]].url, SIDE_CHAIN_IDS[t]) for t in self.cert_types}
        upper = (self.nodes["eu"].url, UPPER_CHAIN_ID) if self.upper else None
        return Topology.split((self.nodes["main"].url, MAIN_CHAIN_ID), sides, upper, relayers)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    def __enter__(self) -> "LocalNetwork":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
