"""Error handling for every request to the 100ms API."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    DefaultErrorHandler,
)
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

from source_100ms.components.auth import RETRY_WINDOW_SECONDS, ManagementTokenAuthenticator
from source_100ms.components.decoder import is_complete_json, parsed_body
from source_100ms.components.transformations import secret_values

logger = logging.getLogger("airbyte")


def endpoint_of(url: str | None) -> str:
    """The URL without its query string: enough to name the endpoint, never a credential."""
    parts = urlsplit(url or "")
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


def _endpoint(response: requests.Response) -> str:
    return endpoint_of(response.url)


def _host(exception: requests.RequestException) -> str:
    request = getattr(exception, "request", None)
    return urlsplit(getattr(request, "url", "") or "").netloc or "the 100ms API"


def _what_happened(exception: Exception) -> str:
    """A network failure in words: refused, timed out, TLS, cut off."""
    text = str(exception)
    if isinstance(exception, requests.exceptions.SSLError):
        return f"the TLS handshake with {_host(exception)} failed ({text[:200]})"
    if isinstance(exception, requests.exceptions.ConnectTimeout):
        return f"{_host(exception)} did not accept a connection in time"
    if isinstance(exception, requests.exceptions.ReadTimeout):
        return f"{_host(exception)} did not answer in time ({text[:200]})"
    if isinstance(exception, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            return f"{_host(exception)} refused the connection (nothing listens there)"
        if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
            return f"the name {_host(exception)} does not resolve"
        return f"the connection to {_host(exception)} failed or was cut off ({text[:200]})"
    if isinstance(exception, requests.exceptions.ChunkedEncodingError):
        return f"the answer of {_host(exception)} was cut off"
    return f"the request failed ({type(exception).__name__}: {text[:200]})"


@dataclass
class ManagementApiErrorHandler(DefaultErrorHandler):
    """The manifest's error handler (filters, retries, backoff) plus what a response filter cannot express.

    1. A 401 with app credentials first asks the CDK to renew the management token and retry
       (`REFRESH_TOKEN_THEN_RETRY`); a 401 on a token that was itself minted after a 401, or on a pasted token,
       is a config error telling the user which credential to check. The CDK's own message for a second 401
       talks about OAuth, which would mislead a 100ms user.
    2. A successful status whose body is not JSON (an HTML page from a proxy, a body cut short) is retried.
       Left alone, the CDK's JSON decoder turns such a body into `{}`, which reads as "no more records" and
       silently drops the rest of the list.
    3. A network failure is retried with a sentence that says what happened (refused, timed out, TLS, cut
       off) and where; it is never called a rate limit. A 4xx that no filter names (431, 405, 413...) fails at
       once: sending it again cannot succeed.
    4. An answer a filter ignores (a parent that is gone or disabled) is logged as a warning naming it.
    5. In debug mode the CDK logs every body before any record is redacted: the secrets a body holds are handed
       to the CDK's log filter first, so the logs mask them as they mask the credentials.
    6. How long a request is retried comes from the config (`retry_window_seconds`), so that `check` can
       answer within 30 seconds (the manifest's check overrides it) while a sync rides out a longer outage.

    Everything else goes to the declarative response filters; a response that is retried gets the endpoint in
    its message, which is what the user reads once the retries run out.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.max_time = int(self.config.get("retry_window_seconds") or RETRY_WINDOW_SECONDS)
        # Built from the same config, this authenticator shares the process-wide token cache with the
        # requester's authenticator, so it can tell a renewed token from a stale one.
        self._authenticator = ManagementTokenAuthenticator(config=self.config, parameters={})

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if isinstance(response_or_exception, Exception):
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=f"{_what_happened(response_or_exception)}; retried until the retries ran out.",
            )
        if isinstance(response_or_exception, requests.Response):
            response = response_or_exception
            if response.status_code == 401:
                return self._unauthorized(response)
            if response.ok and is_complete_json(response) and logger.isEnabledFor(logging.DEBUG):
                # The CDK logs every body in debug mode, before any record is redacted: register the secrets the
                # body holds, so that its log filter masks them (see SecretRedaction for what counts).
                for secret in secret_values(parsed_body(response)):
                    if len(secret) >= 6:
                        add_to_secrets(secret)
            if response.ok and not is_complete_json(response):
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.transient_error,
                    error_message=(
                        f"100ms answered {_endpoint(response)} with a body that is not complete JSON "
                        f"(content type {response.headers.get('Content-Type', 'unknown')!r}); retried until the "
                        "retries ran out. This is usually a proxy or a network problem: run the sync again."
                    ),
                )
        resolution = super().interpret_response(response_or_exception)
        if not isinstance(response_or_exception, requests.Response):
            return resolution
        response = response_or_exception
        if resolution.response_action == ResponseAction.IGNORE:
            logger.warning(resolution.error_message or f"Skipped {_endpoint(response)} ({response.status_code}).")
        elif (
            400 <= response.status_code < 500
            and response.status_code not in (408, 429)
            and (resolution.response_action in (ResponseAction.RETRY, None))
        ):
            message = response.text[:300] if response.text else ""
            return ErrorResolution(
                response_action=ResponseAction.FAIL,
                failure_type=FailureType.system_error,
                error_message=f"100ms answered {_endpoint(response)} with {response.status_code} ({message}); "
                "sending it again cannot help.",
            )
        elif resolution.response_action in (ResponseAction.RETRY, ResponseAction.RATE_LIMITED):
            # The CDK's message once retries run out is this one: say which endpoint kept failing.
            resolution = ErrorResolution(
                response_action=resolution.response_action,
                failure_type=resolution.failure_type,
                error_message=f"{_endpoint(response)}: {resolution.error_message}",
            )
        return resolution

    def _unauthorized(self, response: requests.Response) -> ErrorResolution:
        sent = response.request.headers.get("Authorization", "") if response.request is not None else ""
        if self._authenticator.mints_tokens and not self._authenticator.rejected_after_renewal(sent):
            return ErrorResolution(
                response_action=ResponseAction.REFRESH_TOKEN_THEN_RETRY,
                failure_type=FailureType.config_error,
                error_message="100ms rejected the management token; minting a new one and retrying once.",
            )
        if self._authenticator.mints_tokens:
            message = (
                "100ms rejected the management token signed with your App Access Key and App Secret "
                f"(401 on {_endpoint(response)}). Check that both come from the same app in the 100ms dashboard, "
                "Developer section, and that the secret has not been rotated."
            )
        else:
            message = (
                f"100ms rejected the pasted management token (401 on {_endpoint(response)}): it has expired or "
                "is not valid. Paste a new token from the 100ms dashboard, Developer section, or switch to "
                "App Access Key and App Secret so that the connector mints and renews tokens itself."
            )
        return ErrorResolution(
            response_action=ResponseAction.FAIL, failure_type=FailureType.config_error, error_message=message
        )
