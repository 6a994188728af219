"""HTTP credentials for the provisioning server, per organization (besides the secret token in the URL).

Phones answer a challenge with HTTP Digest (RFC 7616, MD5 as phones implement it, ``qop=auth``) or send Basic
credentials; both are offered and accepted. Nonces are stateless: a timestamp signed with the service's key,
valid for ``NONCE_SECONDS``. Neither the credentials nor the ``Authorization`` header are ever logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time

REALM = "centralino-provisioning"
NONCE_SECONDS = 300
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - HTTP Digest as phones implement it


def new_nonce(key: str, now: float | None = None) -> str:
    stamp = str(int(now if now is not None else time.time()))
    signature = hmac.new(key.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.b64encode(f"{stamp}:{signature}".encode()).decode()


def _nonce_state(key: str, nonce: str, now: float) -> str:
    """"fresh", "stale" (genuine but old: the phone may retry at once) or "bad"."""
    try:
        stamp, signature = base64.b64decode(nonce, validate=True).decode().split(":", 1)
        issued = int(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return "bad"
    expected = hmac.new(key.encode(), stamp.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(expected, signature):
        return "bad"
    return "fresh" if 0 <= now - issued <= NONCE_SECONDS else "stale"


def challenges(key: str, stale: bool = False) -> list[str]:
    """The ``WWW-Authenticate`` values of a 401: Digest first (phones prefer the strongest they know), Basic."""
    digest = (f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{new_nonce(key)}"'
              + (", stale=true" if stale else ""))
    return [digest, f'Basic realm="{REALM}", charset="UTF-8"']


def check(authorization: str | None, method: str, uri: str, username: str, password: str, key: str,
          now: float | None = None) -> str:
    """"ok", "stale" (a genuine but expired nonce) or "refused" for a request's ``Authorization`` header."""
    if not authorization:
        return "refused"
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            given_user, _, given_password = base64.b64decode(rest.strip(), validate=True).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return "refused"
        same = hmac.compare_digest(given_user.encode(), username.encode()) & hmac.compare_digest(
            given_password.encode(), password.encode())
        return "ok" if same else "refused"
    if scheme.lower() != "digest":
        return "refused"
    params = {name.lower(): quoted if quoted else bare for name, quoted, bare in _PARAM.findall(rest)}
    if params.get("username") != username or params.get("realm") != REALM or params.get("uri") != uri:
        return "refused"
    if params.get("algorithm", "MD5").upper() != "MD5":
        return "refused"
    nonce = params.get("nonce", "")
    ha1, ha2 = _md5(f"{username}:{REALM}:{password}"), _md5(f"{method}:{uri}")
    if params.get("qop") == "auth":
        expected = _md5(f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
    else:
        expected = _md5(f"{ha1}:{nonce}:{ha2}")
    if not hmac.compare_digest(expected, params.get("response", "")):
        return "refused"
    state = _nonce_state(key, nonce, now if now is not None else time.time())
    return {"fresh": "ok", "stale": "stale"}.get(state, "refused")
