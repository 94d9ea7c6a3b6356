"""Password hashing (Argon2id through argon2-cffi) and the password policy.

The policy follows NIST SP 800-63B: a minimum length, no composition rules, and a check
against a list of common passwords (see data/SOURCE.md), plus "not your user name".
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
MAX_LENGTH = 256  # longer input is refused before hashing (a cheap denial-of-service guard)

_hasher = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile


class PasswordRejected(ValueError):
    """The new password breaks the policy; the message is Spanish and names the rule."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def check_policy(password: str, *, username: str, min_length: int) -> None:
    if len(password) < min_length:
        raise PasswordRejected(f"La contraseña debe tener al menos {min_length} caracteres.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"La contraseña puede tener como máximo {MAX_LENGTH} caracteres.")
    lowered = password.lower()
    if lowered in common_passwords():
        raise PasswordRejected(
            "Esa contraseña es demasiado común. Elija otra (por ejemplo, una frase de varias palabras)."
        )
    if username and username.lower() in lowered:
        raise PasswordRejected("La contraseña no puede contener el nombre de usuario.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters (re-hashed at the next login)."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the user name does not exist, so that the answer takes as long
    as for a real account (no user enumeration through timing)."""
    return _hasher.hash("ventanilla-no-such-user")
