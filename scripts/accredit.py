"""Propose (and, with enough authority keys, approve) the accreditation of an agency.

    ELICENSE_AGENCY=EDU-UH ELICENSE_AGENCY_NAME="University of Helsinki" ELICENSE_SIGNER=0x... \
    ELICENSE_TYPES=degree brownie run scripts/accredit.py --network development
"""

import os

from brownie import web3

from elicense import Client
from elicense.chain import Chain, account_from_key
from elicense.nodes import dev_key


def main():
    keys = [k for k in os.environ.get("ELICENSE_AUTHORITY_KEYS", "").split(",") if k] or [dev_key(0)]
    authorities = [account_from_key(k) for k in keys]
    client = Client(Chain(web3.provider.endpoint_uri), sender=authorities[0])
    outcome = client.issuers.propose_add_agency(
        authorities[0], os.environ["ELICENSE_AGENCY"], os.environ["ELICENSE_AGENCY_NAME"],
        os.environ["ELICENSE_SIGNER"].split(","), os.environ["ELICENSE_TYPES"].split(","),
        os.environ.get("ELICENSE_PARENT") or None,
    )
    for authority in authorities[1:]:
        if outcome.executed:
            break
        outcome = client.issuers.approve(authority, outcome.proposal_id)
    print(f"proposal {outcome.proposal_id}: {'executed' if outcome.executed else 'waiting for approvals'}")
    return outcome
