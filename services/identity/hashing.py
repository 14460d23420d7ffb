"""Passwords, PINs and setup codes, kept as argon2 hashes: slow on purpose, since they can be
guessed."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.rules import RuleViolated
from services.composition.config import PASSWORD_HASHING

_hasher = PasswordHasher.from_parameters(PASSWORD_HASHING)
MIN_PASSWORD_LENGTH = 10
SETUP_CODE_DIGITS = 8  # typed on the kiosk's number pad; five wrong tries lock the number


def hashed(secret: str) -> str:
    return _hasher.hash(secret)


def verified(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolated(
            "weak-password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
        )


def new_setup_code() -> str:
    return f"{secrets.randbelow(10**SETUP_CODE_DIGITS):0{SETUP_CODE_DIGITS}d}"
