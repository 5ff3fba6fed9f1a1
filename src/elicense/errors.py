"""Errors users see. Every refusal is an :class:`ElicenseError` with a one-line ``user_message``
and a stable ``code``; entry points print or return that and never a traceback."""

from __future__ import annotations


class ElicenseError(Exception):
    """Base of every error a user may see."""

    code = "error"

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class InvalidInput(ElicenseError):
    """Malformed input: an address, a date, a field, a file."""

    code = "invalid_input"


class NotFound(ElicenseError):
    """Something asked for does not exist: a holder, an agency, a licence, a transaction."""

    code = "not_found"


class NotAllowed(ElicenseError):
    """The account lacks the rights for this action (role, agency, authority)."""

    code = "not_allowed"


class Conflict(ElicenseError):
    """The action clashes with the current state: already done, closed, wrong status, replayed."""

    code = "conflict"


class NodeUnreachable(ElicenseError):
    """The JSON-RPC node does not answer."""

    code = "node_unreachable"


class NotDeployed(ElicenseError):
    """The contracts are not deployed on this chain (or the deployment file is stale)."""

    code = "not_deployed"


class KeystoreError(ElicenseError):
    """A keystore is missing, unreadable or the password is wrong."""

    code = "keystore"


class DecryptionError(ElicenseError):
    """A ciphertext could not be decrypted with the given key."""

    code = "decryption"
