"""Which chains make up a deployment and which contracts live on each: the topology file.

Two shapes, one format and one code path:

* ``single``: one chain holds every contract (identity and issuer registries and one licence
  registry per certificate type); nothing is anchored.
* ``split``: a main chain holds identities and issuers; each certificate type has its own side
  chain with its licence registry, an AnchorRegistry and a RegistryMirror; relayers carry
  checkpoints both ways (side → main: journal roots; main → side: identity and accreditation
  roots). A main chain may itself anchor into a higher-level chain (the EU level) that runs the
  same contracts.

The file names every chain by RPC URL and chain id with its deployment record (addresses, genesis
hash, deployment block), so the same file points at local Anvils or at real networks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import types
from .chain import Chain
from .deployments import Deployment
from .errors import InvalidInput, NotDeployed

FORMAT = "elicense-topology/1"


def default_path() -> Path | None:
    value = os.environ.get("ELICENSE_TOPOLOGY")
    return Path(value) if value else None


@dataclass
class ChainEntry:
    name: str
    url: str
    chain_id: int
    cert_types: tuple[int, ...] = ()  # licence registries on this chain
    parent: str | None = None  # the chain whose AnchorRegistry anchors this one ("up")
    deployment: Deployment | None = None

    def to_json(self) -> dict:
        return {
            "url": self.url, "chain_id": self.chain_id,
            "cert_types": [types.CERT_TYPE_NAMES[t] for t in self.cert_types], "parent": self.parent,
            "deployment": self.deployment.to_json() if self.deployment else None,
        }


@dataclass
class Topology:
    kind: str  # "single" or "split"
    main: str
    chains: dict[str, ChainEntry]
    relays: list[tuple[str, str]] = field(default_factory=list)  # (source, destination) pairs
    relayers: list[str] = field(default_factory=list)
    path: Path | None = None
    _connections: dict[str, Chain] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def single(cls, url: str, chain_id: int, deployment: Deployment | None = None, name: str = "main") -> "Topology":
        entry = ChainEntry(name, url, chain_id, tuple(types.CERT_TYPE_NAMES), None, deployment)
        return cls("single", name, {name: entry})

    @classmethod
    def split(cls, main: tuple[str, int], sides: dict[int, tuple[str, int]], upper: tuple[str, int] | None = None,
              relayers: list[str] | None = None, main_name: str = "main", upper_name: str = "eu") -> "Topology":
        """A main chain, one side chain per certificate type in ``sides`` and optionally a higher level."""
        chains = {main_name: ChainEntry(main_name, *main, (), upper_name if upper else None)}
        relays = []
        for cert_type, (url, chain_id) in sides.items():
            name = types.CERT_TYPE_NAMES[cert_type]
            chains[name] = ChainEntry(name, url, chain_id, (cert_type,), main_name)
            relays += [(name, main_name), (main_name, name)]
        if upper:
            chains[upper_name] = ChainEntry(upper_name, *upper)
            relays.append((main_name, upper_name))
        topology = cls("split", main_name, chains, relays, list(relayers or []))
        topology.validate()
        return topology

    # ------------------------------------------------------------------ file

    def to_json(self) -> dict:
        return {
            "format": FORMAT, "kind": self.kind, "main": self.main,
            "chains": {name: entry.to_json() for name, entry in self.chains.items()},
            "relays": [list(r) for r in self.relays], "relayers": self.relayers,
        }

    def save(self, path: Path | str | None = None) -> Path:
        path = Path(path or self.path or "topology.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(path)  # atomic: never half a file
        self.path = path
        return path

    @classmethod
    def load(cls, path: Path | str) -> "Topology":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise NotDeployed(f"cannot read the topology file {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise InvalidInput(f"the topology file {path} is not JSON: {exc}") from None
        return cls.from_json(data, path)

    @classmethod
    def from_json(cls, data: dict, path: Path | None = None) -> "Topology":
        where = str(path or "the topology")
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(f"{where} is not an elicense topology ({FORMAT})")
        try:
            chains = {}
            for name, c in data["chains"].items():
                chains[name] = ChainEntry(
                    name, str(c["url"]), int(c["chain_id"]), tuple(types.cert_type(t) for t in c.get("cert_types", [])),
                    c.get("parent"), Deployment.from_json(c["deployment"]) if c.get("deployment") else None,
                )
            topology = cls(
                str(data["kind"]), str(data["main"]), chains, [tuple(r) for r in data.get("relays", [])],
                [types.address(a, "relayer address") for a in data.get("relayers", [])], path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"{where} is malformed: {exc!r}") from None
        topology.validate(where)
        return topology

    def validate(self, where: str = "the topology") -> None:
        if self.kind not in ("single", "split"):
            raise InvalidInput(f"{where}: kind must be single or split, not {self.kind!r}")
        if self.main not in self.chains:
            raise InvalidInput(f"{where}: the main chain {self.main!r} is not among its chains")
        seen_ids: dict[int, str] = {}
        seen_types: dict[int, str] = {}
        for entry in self.chains.values():
            if entry.chain_id in seen_ids:
                raise InvalidInput(f"{where}: chains {seen_ids[entry.chain_id]} and {entry.name} share chain id {entry.chain_id}")
            seen_ids[entry.chain_id] = entry.name
            for t in entry.cert_types:
                if t in seen_types:
                    raise InvalidInput(f"{where}: {types.CERT_TYPE_NAMES[t]} registries on both {seen_types[t]} and {entry.name}")
                seen_types[t] = entry.name
            if entry.parent is not None and entry.parent not in self.chains:
                raise InvalidInput(f"{where}: {entry.name} anchors into unknown chain {entry.parent!r}")
        for source, destination in self.relays:
            if source not in self.chains or destination not in self.chains or source == destination:
                raise InvalidInput(f"{where}: bad relay {source} → {destination}")

    # ------------------------------------------------------------------ use

    def chain(self, name: str) -> Chain:
        """A connection to chain ``name``, opened once and shared (one nonce cache per chain)."""
        if name not in self._connections:
            entry = self.entry(name)
            connection = Chain(entry.url)
            if connection.chain_id != entry.chain_id:
                raise NotDeployed(f"{entry.url} is chain {connection.chain_id}, but the topology says {name} is {entry.chain_id}")
            self._connections[name] = connection
        return self._connections[name]

    def adopt(self, name: str, chain: Chain) -> None:
        """Uses an already open connection for ``name``."""
        self._connections[name] = chain

    def entry(self, name: str) -> ChainEntry:
        try:
            return self.chains[name]
        except KeyError:
            raise NotDeployed(f"the topology has no chain named {name!r}") from None

    def deployment(self, name: str) -> Deployment:
        entry = self.entry(name)
        if entry.deployment is None:
            raise NotDeployed(f"nothing is deployed on chain {name} yet; run `elicense deploy` first")
        return entry.deployment

    def name_of_chain_id(self, chain_id: int) -> str | None:
        return next((e.name for e in self.chains.values() if e.chain_id == chain_id), None)

    def chain_of_type(self, cert_type: int) -> str | None:
        return next((e.name for e in self.chains.values() if cert_type in e.cert_types), None)

    def check(self) -> None:
        """Every deployment record still matches its live chain (not a restarted Anvil)."""
        for name, entry in self.chains.items():
            if entry.deployment is not None:
                entry.deployment.check(self.chain(name), f"{self.path or 'the topology'} ({name})")

    @property
    def is_split(self) -> bool:
        return self.kind == "split"
