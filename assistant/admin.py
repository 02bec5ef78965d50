"""The administrator password of the Kilder page: a salted scrypt hash in a self-describing string.

``scrypt:16384:8:1:<salt>:<hash>`` (the cost parameters n, r, p, then salt and
hash in URL-safe base64 without padding), so no character needs quoting in a
shell or a TOML string, and the parameters can be raised later without
breaking hashes already made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
COST = (2**14, 8, 1)  # n, r, p: ~16 MB and ~50 ms per check on one core
SALT_BYTES = 16
HASH_BYTES = 32
MAX_MEMORY = 64 * 1024 * 1024
MIN_LENGTH = 8


class PasswordHashError(ValueError):
    """The configured hash is not one ``hfa admin-password`` makes (Danish message with the fix)."""


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=length)


def hash_password(password: str) -> str:
    """The hash string to configure as ``admin_password_hash`` (a new random salt each time).

    Raises:
        ValueError: the password is shorter than ``MIN_LENGTH`` characters (Danish message).
    """
    if len(password) < MIN_LENGTH:
        raise ValueError(f"Adgangskoden skal være mindst {MIN_LENGTH} tegn.")
    salt = secrets.token_bytes(SALT_BYTES)
    n, r, p = COST
    digest = _scrypt(password, salt, n, r, p, HASH_BYTES)
    return f"{SCHEME}:{n}:{r}:{p}:{_encode(salt)}:{_encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (compared in constant time).

    Raises:
        PasswordHashError: ``stored`` is not a hash made by ``hfa admin-password``.
    """
    try:
        scheme, n, r, p, salt, digest = stored.strip().split(":")
        if scheme != SCHEME:
            raise ValueError(scheme)
        expected = _decode(digest)
        actual = _scrypt(password, _decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError) as exc:  # wrong form, bad base64, or parameters scrypt refuses
        raise PasswordHashError(
            "Den indstillede admin_password_hash (HFA_ADMIN_PASSWORD_HASH) er ikke en gyldig hash. "
            "Lav en ny med 'hfa admin-password', og sæt den i hfa.toml eller miljøet."
        ) from exc
    return hmac.compare_digest(actual, expected)
