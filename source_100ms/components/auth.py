"""The 100ms management-token authenticator: the token, and the checks every request passes at send time."""

from __future__ import annotations

import logging
import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import jwt
import requests
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from jwt.warnings import InsecureKeyLengthWarning

from source_100ms.components.origin import api_origin, config_error
from source_100ms.components.transport import (
    RATE_LIMIT_PATIENCE_SECONDS,
    rate_limit_wait,
    rate_limiter,
    read_body_within,
    resend,
)

logger = logging.getLogger("airbyte")

# 100ms's own samples mint tokens valid for 24 hours; the Node SDK back-dates `iat` by 10 seconds so that a
# server clock slightly behind ours does not reject a token as "not yet valid".
TOKEN_LIFETIME_SECONDS = 24 * 3600
CLOCK_SKEW_SECONDS = 10
# Renew well before expiry so that a request sent near the end of a token's life never carries a dead token.
RENEW_BEFORE_EXPIRY_SECONDS = 15 * 60

# Defaults of the hidden spec fields `request_deadline_seconds` and `retry_window_seconds` (see the manifest).
REQUEST_DEADLINE_SECONDS = 300
RETRY_WINDOW_SECONDS = 600
_SENT_AT = "_source_100ms_sent_at"


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
        with warnings.catch_warnings():
            # The App Secret's length is 100ms's choice, not the user's: PyJWT's advice to use a longer key is noise.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
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
    at most once per request, and re-applies the authenticator before the retry.

    The CDK applies the authenticator to every request just before it is sent, so it is also where the token is
    guarded and the sending is paced (`source_100ms.components.transport`):
    - a request whose URL, as `requests` will send it, is not on the configured API origin is refused before
      the header is added, whatever code path built it, and a redirect to another origin is not followed;
    - every request waits for its turn on the origin's shared `RateLimiter`; a 429 is waited out and sent again
      here, for every worker at once;
    - the whole answer must arrive within `request_deadline_seconds`, not just each byte within the socket timeout.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    _minter: _TokenMinter | None = field(init=False, repr=False, default=None)
    _pasted_token: str = field(init=False, repr=False, default="")

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._origin = api_origin(self.config)
        ceiling = self.config.get("requests_per_second")
        self._limiter = rate_limiter(self._origin.url, float(ceiling) if ceiling else None)
        self._deadline_seconds = float(self.config.get("request_deadline_seconds") or REQUEST_DEADLINE_SECONDS)
        # A 429 is waited out at most this long per request (never longer than the CDK would retry a request).
        self._rate_limit_patience = min(
            RATE_LIMIT_PATIENCE_SECONDS,
            float(self.config.get("retry_window_seconds") or RETRY_WINDOW_SECONDS),
        )
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

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self._origin.owns(request.url or ""):
            raise config_error(
                f"Refused to send the 100ms token to {str(request.url)[:200]!r}: the connector sends it only to "
                f"{self._origin.url}. Check the custom streams' `url` and `api_url`."
            )
        self._limiter.acquire()
        request.headers[self.auth_header] = self.token
        request.__dict__[_SENT_AT] = time.monotonic()
        hooks = request.hooks.setdefault("response", [])
        if self._on_response not in hooks:
            hooks.append(self._on_response)
        return request

    def _on_response(self, response: requests.Response, **send_kwargs: Any) -> requests.Response:
        """Read the body within the deadline; wait out 429s for every worker and send the request again."""
        if response.is_redirect and not self._origin.owns(
            requests.compat.urljoin(response.url or "", response.headers.get("Location", ""))
        ):
            response.close()
            raise config_error(
                f"{self._origin.url} redirected {str(response.url).split('?')[0]} to another host "
                f"({str(response.headers.get('Location'))[:200]!r}); the connector does not follow it, its requests "
                "stay on the API. Check `api_url` (a proxy in between?)."
            )
        streamed = bool(send_kwargs.get("stream"))
        sent_at = response.request.__dict__.get(_SENT_AT, time.monotonic())
        if not streamed:
            read_body_within(response, sent_at, self._deadline_seconds)
        patience_until = time.monotonic() + self._rate_limit_patience
        while response.status_code == 429:
            wait = self._limiter.on_answer(True, rate_limit_wait(response), sent_at)
            if time.monotonic() + wait > patience_until:
                break  # the CDK's own retries take it from here
            if self._limiter.rate_limited in (1, 10, 100) or self._limiter.rate_limited % 1000 == 0:
                logger.warning(
                    f"100ms is rate-limiting requests (429 number {self._limiter.rate_limited}): every worker waits "
                    f"{wait:.1f} s, then sends at most {self._limiter.learned_per_second:.1f} requests per second "
                    "until 100ms accepts more."
                )
            self._limiter.acquire()
            response.request.headers[self.auth_header] = self.token
            sent_at = time.monotonic()
            response = resend(response, send_kwargs)
            if not streamed:
                read_body_within(response, sent_at, self._deadline_seconds)
        if response.status_code != 429:
            self._limiter.on_answer(False)
        return response

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
