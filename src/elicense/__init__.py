"""elicense: electronic licences and certificates on Ethereum."""

from .client import Client, QueriedLicence, RegisteredUser
from .errors import (
    Conflict, DecryptionError, ElicenseError, InvalidInput, KeystoreError, NodeUnreachable, NotAllowed, NotDeployed,
    NotFound,
)

__all__ = [
    "Client", "QueriedLicence", "RegisteredUser", "Conflict", "DecryptionError", "ElicenseError", "InvalidInput",
    "KeystoreError", "NodeUnreachable", "NotAllowed", "NotDeployed", "NotFound",
]
__version__ = "0.1.0"
