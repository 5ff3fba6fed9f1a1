"""Deploying the contracts of a topology: what goes on which chain, and the relayer sets.

The CLI, the Brownie scripts, the demo and the tests all deploy through here.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from . import types
from .chain import Chain
from .deployments import Deployment
from .registries.anchors import AnchorRegistry


def _genesis(chain: Chain) -> str:
    return "0x" + chain.w3.eth.get_block(0)["hash"].hex().removeprefix("0x")


def deploy_main(chain: Chain, signer: LocalAccount, authorities: list[str], cert_types=(), anchor: bool = True) -> Deployment:
    """Identity and issuer registries (and, in a single-chain topology, the licence registries)."""
    identity, first = chain.deploy("IdentityRegistry", [], signer)
    issuers, _ = chain.deploy("IssuerRegistry", [authorities or [signer.address], identity.address], signer)
    registries = {}
    for t in cert_types:
        number = types.cert_type(t)
        contract, _ = chain.deploy("LicenseRegistry", [number, identity.address, issuers.address], signer)
        registries[number] = contract.address
    anchors = chain.deploy("AnchorRegistry", [signer.address], signer)[0].address if anchor else ""
    return Deployment(chain.chain_id, _genesis(chain), identity.address, issuers.address, registries, first.block_number,
                      anchor_registry=anchors)


def deploy_side(chain: Chain, signer: LocalAccount, main_chain_id: int, cert_types) -> Deployment:
    """A side chain: its anchor registry, the mirror of the main chain's registries, its licence registries."""
    anchor, first = chain.deploy("AnchorRegistry", [signer.address], signer)
    mirror, _ = chain.deploy("RegistryMirror", [anchor.address, main_chain_id], signer)
    registries = {}
    for t in cert_types:
        number = types.cert_type(t)
        registries[number] = chain.deploy("LicenseRegistry", [number, mirror.address, mirror.address], signer)[0].address
    return Deployment(chain.chain_id, _genesis(chain), "", "", registries, first.block_number,
                      anchor_registry=anchor.address, registry_mirror=mirror.address)


def deploy_topology(topology, signer: LocalAccount, authorities: list[str], relayers: list[str]):
    """Deploys every chain of a split topology and registers ``relayers`` for every relay."""
    main = topology.entry(topology.main)
    for name, entry in topology.chains.items():
        chain = topology.chain(name)
        if entry.cert_types and name != topology.main:
            entry.deployment = deploy_side(chain, signer, main.chain_id, entry.cert_types)
        else:  # the main chain and a higher level run the same registries
            entry.deployment = deploy_main(chain, signer, authorities, entry.cert_types)
    topology.relayers = list(relayers)
    for source, destination in topology.relays:
        anchor = AnchorRegistry(topology.chain(destination), topology.deployment(destination).anchor_registry)
        anchor.set_relayers(signer, topology.entry(source).chain_id, list(relayers))
    return topology
