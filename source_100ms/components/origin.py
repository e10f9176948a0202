"""Where the management token may go: the configured API origin, checked after parsing, and config errors.

`api_url` is `https://api.100ms.live` or a loopback address (the local sandbox, a test proxy). Anything else is
refused, whatever the spec's pattern let through: the check parses the URL as `urllib` and `requests` do and
compares what they would connect to, so userinfo (`https://api.100ms.live@evil`), another host, a decimal or
octal IP (`https://2130706433`), a path, a query or a fragment cannot slip by as text that merely looks right.
Every request is checked against the same origin once more at send time (see `ManagementTokenAuthenticator`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

DEFAULT_API_URL = "https://api.100ms.live"
PRODUCTION_HOST = "api.100ms.live"
LOOPBACK_NAMES = {"localhost"}
# Characters that have no business in a URL the connector builds: control characters and the backslash (some
# parsers read it as a slash, `urljoin` drops tabs and newlines silently).
_FORBIDDEN_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")


def config_error(message: str) -> AirbyteTracedException:
    """A mistake the user fixes in the configuration: the message is shown at the Airbyte form."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ApiOrigin:
    """Scheme, host and port of the API: the only place the token is sent."""

    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        default = {"https": 443, "http": 80}[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    def owns(self, url: str) -> bool:
        """Whether `url` (as `requests` will send it) goes to this origin."""
        try:
            return origin_of(url) == self
        except ValueError:
            return False


def origin_of(url: str) -> ApiOrigin:
    """The origin `url` connects to; ValueError for anything that is not a plain http(s) URL with a host."""
    if not isinstance(url, str) or _FORBIDDEN_IN_URL.search(url):
        raise ValueError("control characters, spaces or backslashes")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme {parts.scheme!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("user information before the host")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("no host")
    try:
        port = parts.port or {"https": 443, "http": 80}[parts.scheme]
    except ValueError as error:  # a port that is not a number
        raise ValueError(str(error)) from error
    return ApiOrigin(parts.scheme, host, port)


def api_origin(config: Mapping[str, Any]) -> ApiOrigin:
    """The origin of `config['api_url']`; a config error unless it is 100ms's API or a loopback address."""
    raw = config.get("api_url") or DEFAULT_API_URL
    text = str(raw).strip()
    fix = (
        f"`api_url` must be {DEFAULT_API_URL} (the default; leave it empty) or a loopback address such as "
        f"http://127.0.0.1:8080 for the local sandbox (got {str(raw)[:100]!r})"
    )
    try:
        origin = origin_of(text)
    except ValueError as error:
        raise config_error(f"{fix}: {error}.") from error
    parts = urlsplit(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise config_error(f"{fix}: give the address without a path, query or fragment.")
    if origin == ApiOrigin("https", PRODUCTION_HOST, 443) or _is_loopback(origin.host):
        return origin
    raise config_error(f"{fix}: the connector sends its 100ms token to no other host.")
