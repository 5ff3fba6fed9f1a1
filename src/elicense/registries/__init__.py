"""One thin wrapper per contract: typed arguments in, frozen dataclasses out."""

from .identity import Identity, IdentityRegistry
from .issuers import Agency, IssuerRegistry, ProposalOutcome
from .licences import HolderRecord, IssuedLicence, LicenceInfo, LicenceRegistry

__all__ = [
    "Agency", "HolderRecord", "Identity", "IdentityRegistry", "IssuedLicence", "IssuerRegistry",
    "LicenceInfo", "LicenceRegistry", "ProposalOutcome",
]
