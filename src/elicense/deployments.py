"""Where the contracts live on each chain: one JSON file per chain id.

The file also records the chain's genesis block hash, so a file left over from an Anvil that has
since been restarted (same chain id, fresh state) is recognised as stale instead of pointing at
empty addresses.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import NotDeployed


def default_dir() -> Path:
    return Path(os.environ.get("ELICENSE_DEPLOYMENTS", "deployments"))


@dataclass
class Deployment:
    chain_id: int
    genesis: str
    identity_registry: str
    issuer_registry: str
    licence_registries: dict[int, str] = field(default_factory=dict)  # certificate type -> address
    block: int = 0

    def path(self, directory: Path) -> Path:
        return Path(directory) / f"{self.chain_id}.json"

    def save(self, directory: Path | None = None) -> Path:
        directory = Path(directory or default_dir())
        directory.mkdir(parents=True, exist_ok=True)
        path = self.path(directory)
        data = asdict(self)
        data["licence_registries"] = {str(k): v for k, v in self.licence_registries.items()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)  # atomic: a crash never leaves half a file
        return path

    @classmethod
    def load(cls, chain, directory: Path | None = None) -> "Deployment":
        """The deployment for ``chain`` (a :class:`elicense.chain.Chain`), checked against it."""
        directory = Path(directory or default_dir())
        path = directory / f"{chain.chain_id}.json"
        if not path.exists():
            raise NotDeployed(f"no deployment for chain {chain.chain_id} in {directory}/; run `elicense deploy` first")
        try:
            data = json.loads(path.read_text())
            data["licence_registries"] = {int(k): v for k, v in data["licence_registries"].items()}
            deployment = cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise NotDeployed(f"{path} is damaged ({exc}); deploy again") from None
        genesis = chain.w3.eth.get_block(0)["hash"].hex()
        if deployment.genesis.removeprefix("0x") != genesis.removeprefix("0x") or not chain.w3.eth.get_code(
            deployment.identity_registry
        ):
            raise NotDeployed(
                f"{path} belongs to an earlier chain with id {chain.chain_id} (the node was restarted); deploy again"
            )
        return deployment
