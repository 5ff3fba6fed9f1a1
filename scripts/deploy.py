"""Deploy every elicense contract to the network Brownie is connected to.

    brownie run scripts/deploy.py --network development      # Brownie starts Anvil
    ELICENSE_DEPLOYER_KEY=0x... brownie run scripts/deploy.py --network <yours>

The work is done by the same client as `elicense deploy`; this script only chooses the signer.
"""

import os

from brownie import web3

from elicense import Client
from elicense.chain import Chain, account_from_key
from elicense.nodes import dev_key


def deployer():
    # On a local development chain Brownie's accounts[0] is development key 0 (the test mnemonic).
    return account_from_key(os.environ.get("ELICENSE_DEPLOYER_KEY") or dev_key(0))


def main():
    client = Client(Chain(web3.provider.endpoint_uri), sender=deployer())
    authorities = [a for a in os.environ.get("ELICENSE_AUTHORITIES", "").split(",") if a]
    deployment = client.deploy_all(authorities=authorities or None)
    print(f"IdentityRegistry {deployment.identity_registry}")
    print(f"IssuerRegistry   {deployment.issuer_registry}")
    for cert_type, address in sorted(deployment.licence_registries.items()):
        print(f"LicenseRegistry  type {cert_type}: {address}")
    return deployment
