"""Password hashing, JWTs, API keys and encryption of secrets at rest."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import string
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from jose import JWTError, jwt
from passlib.context import CryptContext

from app.core.settings import Settings

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "cnt_"
_password_context = CryptContext(schemes=["argon2"], deprecated="auto")
# A valid hash to verify against when the username is unknown, so that a wrong
# username costs the same time as a wrong password.
_DUMMY_HASH = _password_context.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Argon2 hash (blocking: in a request, use ``PasswordHasher``)."""
    return _password_context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password (blocking); an absent hash costs the same as a wrong password."""
    if password_hash is None:
        _password_context.verify(password, _DUMMY_HASH)
        return False
    return _password_context.verify(password, password_hash)


class PasswordHasher:
    """Password hashing in worker threads, ``concurrency`` at a time.

    Argon2 is deliberately slow; run on the event loop, a burst of logins would stall
    every other request. The threads release the GIL while hashing (the argon2 C
    library), so the event loop keeps answering; callers beyond ``concurrency`` wait
    for a thread without holding anything else.
    """

    def __init__(self, concurrency: int):
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="password-hash")

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await self._run(verify_password, password, password_hash)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def create_access_token(settings: Settings, *, subject: str, organization_id: str, version: int) -> tuple[str, int]:
    """A signed JWT for a user; returns the token and its lifetime in seconds.

    ``ver`` is the user's credentials version: any change of password, login, role,
    scope or activity bumps it, and tokens with an older one are refused.
    """
    lifetime = settings.access_token_minutes * 60
    now = datetime.now(UTC)
    claims = {"sub": subject, "org": organization_id, "ver": version, "iat": now,
              "exp": now + timedelta(seconds=lifetime), "typ": "access"}
    return jwt.encode(claims, settings.jwt_key(), algorithm=JWT_ALGORITHM), lifetime


# Expiry is checked on every use (below), the rest once per token.
_DECODE_OPTIONS = {"require_exp": True, "require_iat": True, "require_sub": True, "verify_exp": False}


@lru_cache(maxsize=4096)
def _verified_claims(key: str, token: str) -> dict[str, Any] | None:
    """The claims of a well-formed access token signed with ``key`` (cached: a client sends the same
    token with every request, and checking its signature each time is most of the cost of a small request)."""
    try:
        claims = jwt.decode(token, key, algorithms=[JWT_ALGORITHM], options=_DECODE_OPTIONS)
    except JWTError:
        return None
    exp = claims.get("exp")
    if claims.get("typ") != "access" or type(claims.get("ver")) is not int or type(exp) not in (int, float):
        return None
    return claims


def decode_access_token(settings: Settings, token: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token (``exp`` is required), else None."""
    claims = _verified_claims(settings.jwt_key(), token)
    if claims is None or claims["exp"] <= time.time():
        return None
    return claims


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # API keys carry 256 bits of entropy, so a fast hash is enough (DESIGN.md)
    # and lets every request look the key up by its hash in one indexed query.
    return hashlib.sha256(key.encode()).hexdigest()


class SecretBox:
    """Symmetric encryption (Fernet: AES-128-CBC + HMAC-SHA256) for SIP passwords and PINs."""

    def __init__(self, key_material: str):
        digest = hashlib.sha256(key_material.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong key: a deployment error, not bad input
            raise RuntimeError("cannot decrypt a stored secret: is CENTRALINO_ENCRYPTION_KEY the one it was written with?") from exc


SIP_PASSWORD_ALPHABET = string.ascii_letters + string.digits
# Characters a caller-chosen SIP password may use: none of them has a meaning in
# the files it reaches (pjsip/db_text/baresip/XML) — no quotes, ';', ':', ',', '<', '>', spaces.
SIP_PASSWORD_ALLOWED = set(string.ascii_letters + string.digits + "-_.!@%^*+=?~/#$&()[]{}")


def generate_sip_password(length: int = 20) -> str:
    while True:
        candidate = "".join(secrets.choice(SIP_PASSWORD_ALPHABET) for _ in range(length))
        if any(c.islower() for c in candidate) and any(c.isupper() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


def generate_auth_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))


def generate_pin(length: int = 6) -> str:
    """A random PIN that ``weak_pin_reason`` accepts."""
    while True:
        pin = "".join(secrets.choice(string.digits) for _ in range(length))
        if weak_pin_reason(pin) is None:
            return pin


def weak_pin_reason(pin: str, extension: int | None = None) -> str | None:
    """Why a voicemail PIN is too easy to guess (one digit repeated, a run such as 1234 or 9876, the mailbox's own
    number), or None when it is fine."""
    if len(set(pin)) == 1:
        return "a single digit repeated"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {9}):
        return "a run of consecutive digits"
    if extension is not None and pin in (str(extension), str(extension) * 2, str(extension)[::-1]):
        return "the extension number"
    if len(pin) % 2 == 0 and pin[: len(pin) // 2] == pin[len(pin) // 2:] and len(set(pin[: len(pin) // 2])) <= 2:
        return "a short pattern repeated"
    return None


def sip_password_problems(password: str, *, forbidden_substrings: tuple[str, ...] = ()) -> list[str]:
    """Why a caller-chosen SIP password is too weak or unsafe; empty when it is fine."""
    problems = []
    if len(password) < 12:
        problems.append("at least 12 characters")
    bad = sorted(set(password) - SIP_PASSWORD_ALLOWED)
    if bad:
        problems.append("only letters, digits and -_.!@%^*+=?~/#$&()[]{} (not " + " ".join(repr(c) for c in bad) + ")")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < 3:
        problems.append("at least three of: lower case, upper case, digits, symbols")
    lowered = password.lower()
    if any(s and s.lower() in lowered for s in forbidden_substrings):
        problems.append("must not contain the extension or auth ID")
    return problems
