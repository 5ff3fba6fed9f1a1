"""Compiled contracts (ABI and bytecode) from Brownie's build folder, so that the client deploys and
calls contracts without Brownie."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from .errors import NotDeployed

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    return Path(os.environ.get("ELICENSE_BUILD_DIR", PROJECT_ROOT / "build" / "contracts"))


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    """ABI and bytecode of contract ``name``."""
    path = build_dir() / f"{name}.json"
    if not path.exists():
        raise NotDeployed(f"no build artifact for {name} at {path}; run `make build` (brownie compile) first")
    data = json.loads(path.read_text())
    return {"abi": data["abi"], "bytecode": data.get("bytecode", ""), "deployedBytecode": data.get("deployedBytecode", "")}


# The deployable contracts; their ABIs include every custom error they can raise (inherited ones too).
CONTRACTS = ("IdentityRegistry", "IssuerRegistry", "LicenseRegistry", "AnchorRegistry", "RegistryMirror", "DataSharing",
             "PersonalDataRegistry")


def runs_code(chain, address: str, name: str) -> bool:
    """Whether ``address`` runs contract ``name``'s compiled code, so a server never acts for a
    look-alike. Immutables (EIP-712's cached domain, for one) are zero words in the artifact and
    filled in at deployment: only those bytes may differ."""
    expected = bytes.fromhex(load(name).get("deployedBytecode", "").removeprefix("0x"))
    actual = bytes(chain.w3.eth.get_code(address))
    return bool(expected) and len(actual) == len(expected) and all(
        a == e or e == 0 for a, e in zip(actual, expected))


def all_abis() -> list[list[dict]]:
    return [load(name)["abi"] for name in CONTRACTS]
