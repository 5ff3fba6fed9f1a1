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
    anchor_registry: str = ""  # checkpoints of the other chains of a topology
    registry_mirror: str = ""  # side chains: the main chain's registries, proven by Merkle proofs

    @property
    def any_contract(self) -> str:
        return next(a for a in (self.identity_registry, self.anchor_registry, self.registry_mirror,
                                *self.licence_registries.values()) if a)

    def path(self, directory: Path) -> Path:
        return Path(directory) / f"{self.chain_id}.json"

    def save(self, directory: Path | None = None) -> Path:
        directory = Path(directory or default_dir())
        directory.mkdir(parents=True, exist_ok=True)
        path = self.path(directory)
        data = self.to_json()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)  # atomic: a crash never leaves half a file
        return path

    def to_json(self) -> dict:
        data = asdict(self)
        data["licence_registries"] = {str(k): v for k, v in self.licence_registries.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Deployment":
        data = dict(data)
        data["licence_registries"] = {int(k): v for k, v in data.get("licence_registries", {}).items()}
        return cls(**data)

    def check(self, chain, where: str) -> None:
        """Refuses a deployment record that does not belong to ``chain`` as it is now."""
        if chain.chain_id != self.chain_id:
            raise NotDeployed(f"{where} is for chain {self.chain_id}, but the node at {chain.url} is chain {chain.chain_id}")
        genesis = chain.w3.eth.get_block(0)["hash"].hex()
        if self.genesis.removeprefix("0x") != genesis.removeprefix("0x") or not chain.w3.eth.get_code(self.any_contract):
            raise NotDeployed(
                f"{where} belongs to an earlier chain with id {chain.chain_id} (the node was restarted); deploy again"
            )

    @classmethod
    def load(cls, chain, directory: Path | None = None) -> "Deployment":
        """The deployment for ``chain`` (a :class:`elicense.chain.Chain`), checked against it."""
        directory = Path(directory or default_dir())
        path = directory / f"{chain.chain_id}.json"
        if not path.exists():
            raise NotDeployed(f"no deployment for chain {chain.chain_id} in {directory}/; run `elicense deploy` first")
        try:
            deployment = cls.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise NotDeployed(f"{path} is damaged ({exc}); deploy again") from None
        deployment.check(chain, str(path))
        return deployment
