"""Files the CLI writes for one person: presentations, exports, consent requests, attachments."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidInput

PRIVATE = 0o600  # like a keystore: readable and writable by its owner only


def write_private(path: str | Path, data: str | bytes) -> Path:
    """Writes ``data`` (text as UTF-8) to ``path`` with mode 0600, also when the file exists already
    with a wider mode (O_CREAT's mode applies only to a new file)."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else bytes(data)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), PRIVATE)
            out.write(raw)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
