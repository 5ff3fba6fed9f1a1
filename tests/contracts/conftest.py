"""Fixtures for the contract tests: real contracts on the Anvil `development` network.

Deployments and the people around them are module-scoped; `fn_isolation` reverts the chain after
every test, so each test starts from the same deployed world.
"""

import eth_keys
import pytest
from brownie import IdentityRegistry, IssuerRegistry, LicenseRegistry, accounts
from eth_utils import keccak
from hexbytes import HexBytes

from helpers import BUSINESS, DEGREE, HEALTH, ZERO32, Role, org, types


def pytest_configure(config):
    # Brownie's own fixtures call rpc.* directly and warn about it on every test.
    config.addinivalue_line("filterwarnings", r"ignore:rpc\.\w+ should not be called directly:FutureWarning")


@pytest.fixture(scope="module", autouse=True)
def _fresh_chain_per_module(module_isolation):
    """Each test module starts from a clean chain and leaves none of its state behind."""


@pytest.fixture(autouse=True)
def _isolate(fn_isolation):
    """Each test sees the module's deployments, never another test's transactions."""


# ---------------------------------------------------------------- accounts


def private_key(label):
    """A deterministic secp256k1 key per label, so failing runs can be replayed."""
    return keccak(text=f"elicense test key: {label}")


def public_key(account):
    """The 64-byte uncompressed public key (x ‖ y, no 0x04 prefix) of a keyed account."""
    return eth_keys.keys.PrivateKey(bytes(HexBytes(account.private_key))).public_key.to_bytes()


@pytest.fixture(scope="module")
def deployer():
    return accounts[0]


@pytest.fixture(scope="module")
def authorities():
    """The three founding governing authorities (quorum 2)."""
    return list(accounts[1:4])


@pytest.fixture(scope="module")
def stranger():
    """An account registered nowhere and holding no role."""
    return accounts[9]


@pytest.fixture(scope="module")
def keyed(deployer):
    """Factory: an account with a known private key, funded from accounts[0]."""

    def make(label):
        account = accounts.add(private_key(label))
        if account.balance() == 0:
            deployer.transfer(account, "10 ether")
        return account

    return make


# ---------------------------------------------------------------- identity registry


@pytest.fixture(scope="module")
def identities(deployer):
    return IdentityRegistry.deploy({"from": deployer})


@pytest.fixture(scope="module")
def enrol(identities):
    """Factory: registers a keyed account with `role` and returns it."""

    def make(account, role, commitment=ZERO32):
        identities.register(int(role), public_key(account), commitment, {"from": account})
        return account

    return make


@pytest.fixture(scope="module")
def holder(keyed, enrol):
    return enrol(keyed("holder alice"), Role.HOLDER)


@pytest.fixture(scope="module")
def other_holder(keyed, enrol):
    return enrol(keyed("holder bob"), Role.HOLDER)


@pytest.fixture(scope="module")
def inspector(keyed, enrol):
    return enrol(keyed("inspector"), Role.INSPECTOR)


@pytest.fixture(scope="module")
def signers(keyed, enrol):
    """Accounts registered as Issuers, by the agency they will sign for."""
    names = ["ministry", "uni", "uni2", "other", "health", "spare", "civil"]
    return {name: enrol(keyed(f"signer {name}"), Role.ISSUER) for name in names}


# ---------------------------------------------------------------- issuer registry


@pytest.fixture(scope="module")
def issuers(deployer, authorities, identities):
    return IssuerRegistry.deploy(authorities, identities, {"from": deployer})


@pytest.fixture(scope="module")
def enact(issuers, authorities):
    """Factory: proposes with the first authority, approves with the second (quorum 2 of 3).

    Returns the approving transaction, in which the proposal took effect.
    """

    def make(method, *args):
        proposed = getattr(issuers, method)(*args, {"from": authorities[0]})
        proposal_id = proposed.events["ProposalCreated"]["id"]
        approved = issuers.approve(proposal_id, {"from": authorities[1]})
        assert "ProposalExecuted" in approved.events
        return approved

    return make


MINISTRY, UNIVERSITY, OTHER_UNI, HEALTH_AGENCY = org("EDU-MIN"), org("EDU-UNI"), org("EDU-OTH"), org("HLT-AGY")
CIVIL_REGISTRY = org("CIV-REG")
CIVIL_BIT = 1  # bit 0 of an agency's set: the civil-registry capability, no licence type


@pytest.fixture(scope="module")
def agencies(enact, signers):
    """EDU-MIN (degree, business) above EDU-UNI (degree); EDU-OTH (degree); HLT-AGY (health)."""
    enact("proposeAddAgency", MINISTRY, "Ministry of Education", [signers["ministry"]], types(DEGREE, BUSINESS), ZERO32)
    enact("proposeAddAgency", UNIVERSITY, "University", [signers["uni"], signers["uni2"]], types(DEGREE), MINISTRY)
    enact("proposeAddAgency", OTHER_UNI, "Other University", [signers["other"]], types(DEGREE), ZERO32)
    enact("proposeAddAgency", HEALTH_AGENCY, "Health Agency", [signers["health"]], types(HEALTH), ZERO32)
    return {"ministry": MINISTRY, "uni": UNIVERSITY, "other": OTHER_UNI, "health": HEALTH_AGENCY}


@pytest.fixture(scope="module")
def civil(enact, signers, agencies):
    """The signer of CIV-REG, the agency governance named a civil registry (bit 0 only): it may close records."""
    enact("proposeAddAgency", CIVIL_REGISTRY, "Civil Registry", [signers["civil"]], CIVIL_BIT, ZERO32)
    return signers["civil"]


# ---------------------------------------------------------------- licence registry


@pytest.fixture(scope="module")
def licenses(deployer, identities, issuers, agencies, civil, inspector, signers):
    """The degree registry (certificate type 3), with `inspector` authorised by EDU-UNI."""
    registry = LicenseRegistry.deploy(DEGREE, identities, issuers, {"from": deployer})
    registry.authoriseInspector(inspector, {"from": signers["uni"]})
    return registry
