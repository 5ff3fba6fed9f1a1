"""One thin wrapper per contract: typed arguments in, frozen dataclasses out."""

from .anchors import Anchored, AnchorRegistry, Checkpoint, RegistryMirror
from .identity import Identity, IdentityRegistry
from .issuers import Agency, IssuerRegistry, ProposalOutcome
from .licences import BatchInfo, HolderRecord, IssuedBatch, IssuedLicence, LicenceInfo, LicenceRegistry
from .personal import (ConsentDecision, ConsentInfo, ConsentRequest, FileCheck, PersonalDataRegistry, PersonalRecord,
                       ReadEntry, RecordChange, SignedRead)
from .sharing import AccessOutcome, Asset, DataSharing, DirectoryEntry, Grant, PublishedAsset

__all__ = [
    "Agency", "BatchInfo", "IssuedBatch", "Anchored", "AnchorRegistry", "Checkpoint", "RegistryMirror", "HolderRecord", "Identity", "IdentityRegistry", "IssuedLicence", "IssuerRegistry",
    "LicenceInfo", "LicenceRegistry", "ProposalOutcome",
    "AccessOutcome", "Asset", "DataSharing", "DirectoryEntry", "Grant", "PublishedAsset",
    "ConsentDecision", "ConsentInfo", "ConsentRequest", "FileCheck", "PersonalDataRegistry", "PersonalRecord",
    "ReadEntry", "RecordChange", "SignedRead",
]
