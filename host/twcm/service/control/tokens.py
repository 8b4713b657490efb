"""The REST API's tokens (docs/api.md#tokens): a JSON file, mode 0600, that holds for each
token its name, kind (admin or read_only), creation time and a SHA-256 hash. The secret
itself is shown once, when it is made (`twcm token add`, or the first start of `twcm run`),
and never stored: a lost token is revoked and replaced, not recovered.

A token is 32 random bytes (256 bits), so a hash without salt or stretching is enough:
nobody can guess one, and the file alone does not let anyone in.

The service reads the file again whenever it changes on disk, so `twcm token add` and
`revoke` take effect at once on a running `twcm run`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from twc.contract import SITE_RULE, site_ok

Kind = Literal["admin", "read_only"]
KINDS: tuple[Kind, ...] = ("admin", "read_only")
PREFIX = "twcm_"
FILE_NAME = "api-tokens.json"  # beside the database, unless [api] tokens says otherwise


@dataclass(frozen=True)
class Token:
    """A token as the file keeps it: never its secret."""
    name: str
    kind: Kind
    created: float
    sha256: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenFile:
    """The tokens in `path`; every change is written at once (a new file renamed over the
    old one, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tokens: list[Token] = []
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of what was read

    def tokens(self) -> list[Token]:
        """The tokens, read again if the file changed on disk."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._tokens, self._seen = [], None
            return []
        if self._seen != (st.st_mtime_ns, st.st_size):
            self._tokens = self._read()
            self._seen = (st.st_mtime_ns, st.st_size)
        return list(self._tokens)

    def _read(self) -> list[Token]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Token(t["name"], t["kind"], float(t["created"]), t["sha256"])
                    for t in data["tokens"] if t["kind"] in KINDS]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{self.path}: not a twcm token file ({e}): fix: move it away "
                             "and make new tokens with `twcm token add`") from None

    def _write(self, tokens: list[Token]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"tokens": [asdict(t) for t in tokens]}, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o600)  # whatever the umask or an older file's mode
        os.replace(tmp, self.path)
        self._seen = None

    def add(self, name: str, kind: Kind) -> str:
        """A new token: its secret, to be shown once. ValueError for a bad or taken name."""
        if not site_ok(name):
            raise ValueError(f"the token name {name!r} is not allowed: give {SITE_RULE}")
        if kind not in KINDS:
            raise ValueError(f"the kind {kind!r} is not one of {', '.join(KINDS)}")
        tokens = self.tokens()
        if any(t.name == name for t in tokens):
            raise ValueError(f"there is already a token named {name!r}: revoke it first "
                             "(`twcm token revoke NAME`) or choose another name")
        secret = PREFIX + secrets.token_urlsafe(32)
        self._write(tokens + [Token(name, kind, round(time.time(), 1), _hash(secret))])
        return secret

    def revoke(self, name: str) -> None:
        """Remove the token `name`; KeyError naming the tokens there are if there is none."""
        tokens = self.tokens()
        if not any(t.name == name for t in tokens):
            raise KeyError(f"no token named {name!r}: the tokens are "
                           f"{', '.join(t.name for t in tokens) or '(none)'}")
        self._write([t for t in tokens if t.name != name])

    def check(self, secret: str) -> Token | None:
        """The token whose secret this is, if any (compared in constant time)."""
        digest = _hash(secret)
        found = None
        for t in self.tokens():
            if hmac.compare_digest(t.sha256, digest):
                found = t
        return found

    def first_admin(self) -> str | None:
        """On the first start (no file yet): a new admin token, whose secret is returned to
        be shown once; None when the file exists."""
        if self.path.exists():
            return None
        return self.add("admin", "admin")


class MemoryTokens(TokenFile):
    """Tokens held in memory only (twcm demo: a throwaway admin token per run)."""

    def __init__(self) -> None:
        super().__init__(Path("(memory)"))

    def tokens(self) -> list[Token]:
        return list(self._tokens)

    def _write(self, tokens: list[Token]) -> None:
        self._tokens = tokens
