"""The 100ms management-token authenticator."""

from __future__ import annotations

import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import jwt
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from jwt.warnings import InsecureKeyLengthWarning

from source_100ms.config_checks import config_error

# 100ms's own samples mint tokens valid for 24 hours; the Node SDK back-dates `iat` by 10 seconds so that a
# server clock slightly behind ours does not reject a token as "not yet valid".
TOKEN_LIFETIME_SECONDS = 24 * 3600
CLOCK_SKEW_SECONDS = 10
# Renew well before expiry so that a request sent near the end of a token's life never carries a dead token.
RENEW_BEFORE_EXPIRY_SECONDS = 15 * 60

# The App Secret's length is 100ms's choice, not the user's: PyJWT's advice to use a longer key is noise here.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)


class _TokenMinter:
    """One cached management token per set of app credentials, shared by every stream and worker thread."""

    def __init__(self, access_key: str, secret: str) -> None:
        self._access_key = access_key
        self._secret = secret
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0
        # Tokens minted to replace a token the API rejected: if one of these is rejected too, the
        # credentials themselves are wrong and renewing again would not help.
        self._minted_after_rejection: set[str] = set()
        self.minted = 0

    def current(self) -> str:
        with self._lock:
            if not self._token or time.time() >= self._renew_at:
                self._mint(after_rejection=False)
            return self._token

    def renew_after_rejection(self, rejected_token: str) -> None:
        """Replace `rejected_token` unless another thread already did."""
        with self._lock:
            if self._token == rejected_token:
                self._mint(after_rejection=True)

    def was_minted_after_rejection(self, token: str) -> bool:
        with self._lock:
            return token in self._minted_after_rejection

    def _mint(self, after_rejection: bool) -> None:
        issued_at = int(time.time()) - CLOCK_SKEW_SECONDS
        claims = {
            "access_key": self._access_key,
            "type": "management",
            "version": 2,
            "jti": str(uuid.uuid4()),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + TOKEN_LIFETIME_SECONDS,
        }
        self._token = jwt.encode(claims, self._secret, algorithm="HS256")
        add_to_secrets(self._token)
        self._renew_at = issued_at + TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_EXPIRY_SECONDS
        self.minted += 1
        if after_rejection:
            self._minted_after_rejection.add(self._token)


_minters: dict[tuple[str, str], _TokenMinter] = {}
_minters_lock = threading.Lock()


def token_minter(access_key: str, secret: str) -> _TokenMinter:
    with _minters_lock:
        key = (access_key, secret)
        if key not in _minters:
            _minters[key] = _TokenMinter(access_key, secret)
        return _minters[key]


@dataclass
class ManagementTokenAuthenticator(DeclarativeAuthenticator):
    """Sends `Authorization: Bearer <management token>` for either credential mode of the spec.

    Why not the CDK's `JwtAuthenticator`: it signs a new token for every request, has no `jti`, and cannot be
    told to renew a token the API rejected. 100ms management tokens are HS256 JWTs with the claims
    `access_key`, `type: "management"`, `version: 2`, `jti`, `iat`, `nbf`, `exp`; this authenticator mints one
    per process from the app access key and secret, renews it 15 minutes before it expires, and renews it once
    more when the API answers 401 (see `ManagementApiErrorHandler`). A pasted token is sent as it is.

    The CDK's HTTP client calls `refresh_and_set_access_token` on a `REFRESH_TOKEN_THEN_RETRY` error resolution,
    at most once per request, and re-applies the header before the retry.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    _minter: _TokenMinter | None = field(init=False, repr=False, default=None)
    _pasted_token: str = field(init=False, repr=False, default="")

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        credentials = self.config.get("credentials") or {}
        auth_type = credentials.get("auth_type")
        if auth_type == "app_credentials":
            access_key = str(credentials.get("app_access_key") or "").strip()
            secret = str(credentials.get("app_secret") or "").strip()
            if not access_key or not secret:
                raise config_error(
                    "Both the App Access Key and the App Secret are required: copy them from the 100ms "
                    "dashboard, Developer section."
                )
            add_to_secrets(secret)
            self._minter = token_minter(access_key, secret)
        elif auth_type == "management_token":
            self._pasted_token = str(credentials.get("management_token") or "").strip()
            if not self._pasted_token:
                raise config_error(
                    "The management token is empty: paste a token from the 100ms dashboard, Developer section, "
                    "or switch to App Access Key and Secret so that the connector mints its own tokens."
                )
            add_to_secrets(self._pasted_token)
        else:
            raise config_error(
                "Choose how to authenticate: `credentials.auth_type` must be `app_credentials` (recommended) "
                "or `management_token`."
            )

    @property
    def mints_tokens(self) -> bool:
        return self._minter is not None

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        if self._minter is not None:
            return f"Bearer {self._minter.current()}"
        return f"Bearer {self._pasted_token}"

    def refresh_and_set_access_token(self) -> None:
        """Called by the CDK's HTTP client after a 401, once per request."""
        if self._minter is not None:
            self._minter.renew_after_rejection(self._minter.current())

    def rejected_after_renewal(self, authorization_header: str) -> bool:
        """True when the API rejected a token minted to replace a rejected one: the credentials are wrong."""
        if self._minter is None:
            return True
        token = authorization_header.removeprefix("Bearer ").strip()
        return self._minter.was_minted_after_rejection(token)
