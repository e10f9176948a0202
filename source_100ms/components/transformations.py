"""Record transformations: 100ms timestamps, parent ids, and the removal of secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from airbyte_cdk.sources.declarative.transformations import RecordTransformation

_FRACTION_OVER_MICROSECONDS = re.compile(r"(\.\d{6})\d+")
ZERO_TIME = "0001-01-01T00:00:00Z"


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value == ZERO_TIME:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class TimestampPrecisionTransformation(RecordTransformation):
    """Makes the named cursor fields readable by the CDK's cursor: microseconds at most, the unset time as null.

    Why: 100ms sends Go-style RFC 3339 times with 0 to 9 fractional digits
    (`2023-02-23T10:12:00.78311898Z`). The CDK parses cursor values with `strptime`, whose `%f` takes at most
    six digits, so a nanosecond time would fail the cursor; microseconds are also the finest precision the
    warehouses Airbyte writes to can hold. 100ms writes an unset time as Go's zero time `0001-01-01T00:00:00Z`:
    as a cursor value it is older than any start date, and the cursor would drop the record. As null it is
    what it means (not set), and the CDK keeps a record without a cursor value. Examples:
    `10:12:00.78311898Z` -> `10:12:00.783118Z`; `0001-01-01T00:00:00Z` -> null; six digits or fewer, as sent.
    """

    parameters: InitVar[Mapping[str, Any]]
    fields: list[str] = field(default_factory=list)
    # The stream's `cursor_field` (from `$parameters`), when `fields` is not given.
    cursor_field: str | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._fields = list(self.fields) or ([self.cursor_field] if self.cursor_field else [])

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        for name in self._fields:
            value = record.get(name)
            if value == ZERO_TIME:
                record[name] = None
            elif isinstance(value, str) and len(value) > 27:
                # `search` and slicing rather than `sub`: `sub` expands its template for every record.
                extra = _FRACTION_OVER_MICROSECONDS.search(value)
                if extra is not None:
                    record[name] = value[: extra.start() + 7] + value[extra.end() :]


@dataclass
class PeerDurationTransformation(RecordTransformation):
    """Adds `duration_seconds` to a session participant: `left_at - joined_at`, null while still in the room.

    Why: the attendance question ("how long was each person there") needs time arithmetic on RFC 3339
    strings with up to nine fractional digits, which Jinja interpolation in `AddFields` cannot do reliably.
    Example: joined `11:17:01.816Z`, left `11:17:03.643Z` -> `duration_seconds: 1.827`.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        joined, left = _parse(record.get("joined_at")), _parse(record.get("left_at"))
        record["duration_seconds"] = (
            round((left - joined).total_seconds(), 3) if joined is not None and left is not None else None
        )


@dataclass
class PartitionFieldsTransformation(RecordTransformation):
    """Copies the parent id a record was read for (`room_id`, `template_id`) from its partition onto the record.

    Why not `AddFields` with `{{ stream_partition.room_id }}`: that renders a Jinja template and runs
    `ast.literal_eval` for every record, about 12% of the CPU of a read of analytics events, and needs
    `value_type: string` so that an all-digit id does not become a number. This copies the value as it is.
    A field missing from the partition is read from the slice's `extra_fields` (a parent's other fields).
    Example, partition `{"room_id": "6311..."}`: `{"id": "e1"}` -> `{"id": "e1", "room_id": "6311..."}`.
    """

    parameters: InitVar[Mapping[str, Any]]
    fields: list[str] = field(default_factory=list)
    # The stream's `parent_field` (from `$parameters`), when `fields` is not given.
    parent_field: str | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._fields = list(self.fields) or ([self.parent_field] if self.parent_field else [])

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        partition = stream_slice.partition if stream_slice is not None else {}
        extra = (stream_slice.extra_fields or {}) if stream_slice is not None else {}
        for name in self._fields:
            record[name] = partition[name] if name in partition else extra.get(name)


REDACTED = "<redacted by source-100ms>"
# A field whose name holds one of these words is a secret (`secretKey`, `X-Api-Key`, `credentials`, `token`...).
SECRET_WORDS = frozenset(
    {
        "secret", "secrets", "key", "keys", "apikey", "token", "tokens", "password", "passwords", "passwd",
        "authorization", "credential", "credentials", "signature", "sig", "presigned",
    }
)  # fmt: skip
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|[0-9]+")


_ID_CHARACTERS = "0123456789abcdefABCDEF-_"


def is_secret_name(name: str) -> bool:
    """Whether a field or parameter name says secret: `secretKey`, `app_secret`, `X-Api-Key`, `presigned_url`.

    A name made only of hexadecimal digits, dashes and underscores is an id, not words (the keys of a session's
    `peers` map are peer ids): every secret word has a letter past `f`. Ids are answered without the cache,
    which they would flood (tens of thousands of peers in a sync, each a new name) and keep the field names
    from."""
    if not name.strip(_ID_CHARACTERS):
        return False
    return _says_secret(name)


@lru_cache(maxsize=4096)
def _says_secret(name: str) -> bool:
    return any(word.lower() in SECRET_WORDS for word in _WORDS.findall(name))


def redact_url(text: str) -> str:
    """A URL without what it carries as a credential: user information, secret-named query parameters, and the
    stream key that ends an RTMP URL (`rtmp://host/app/<key>`)."""
    parts = urlsplit(text)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    path = parts.path
    if parts.scheme.lower() in ("rtmp", "rtmps") and path.strip("/"):
        head, _, _ = path.rstrip("/").rpartition("/")
        path = f"{head}/{REDACTED}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(name) for name, _ in pairs):
            query = urlencode([(name, REDACTED if is_secret_name(name) else value) for name, value in pairs])
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


# A URL anywhere in a text: a scheme, `://`, then everything up to a space, a quote or an angle bracket, less the
# punctuation that ends a sentence (`see https://h/x, then`).
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*[^\s\"'<>.,;:!?)]")


def redact_text(text: str) -> str:
    """`text` with each URL in it redacted (`redact_url`): a field may be one URL or free text holding some."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def redact(value: Any) -> Any:
    """`value` with every secret removed (see `SecretRedaction`); containers are changed in place."""
    if isinstance(value, dict):
        for name in [name for name in value if isinstance(name, str) and is_secret_name(name)]:
            del value[name]
        for name, item in value.items():
            if isinstance(item, dict | list):
                redact(item)
            elif isinstance(item, str) and "://" in item:
                value[name] = redact_text(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                redact(item)
            elif isinstance(item, str) and "://" in item:
                value[index] = redact_text(item)
    return value


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield str(value)


def secret_values(value: Any) -> Iterable[str]:
    """Every secret text `redact` would remove from `value`: under secret-named fields, and inside URLs."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str) and is_secret_name(name):
                yield from _leaves(item)
            else:
                yield from secret_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from secret_values(item)
    elif isinstance(value, str) and "://" in value:
        for match in _URL_IN_TEXT.finditer(value):
            yield from _url_secrets(match.group(0))


def _url_secrets(url: str) -> Iterable[str]:
    """What `redact_url` removes from `url`."""
    parts = urlsplit(url)
    if parts.password:
        yield parts.password
    if parts.scheme.lower() in ("rtmp", "rtmps") and parts.path.strip("/"):
        yield parts.path.rstrip("/").rpartition("/")[2]
    for name, item in parse_qsl(parts.query, keep_blank_values=True):
        if is_secret_name(name):
            yield item


@dataclass
class SecretRedaction(RecordTransformation):
    """Removes every secret from a record before it leaves the connector: one rule for every stream.

    Why: 100ms puts customers' secrets in what it returns: storage credentials in rooms
    (`recording_info.upload_info.credentials`) and templates (`settings.recording.upload.credentials.{key,
    secretKey}`, also in template settings, destinations and recording configs), webhook headers in rooms,
    RTMP stream keys in `rtmpUrls` and `rtmp_urls`, stream keys in `GET /v2/stream-keys`, presigned recording
    URLs. A warehouse is no place for them, and custom streams can read any endpoint. The rule:

    - a field whose name holds the word secret, key, token, password, authorization, credential(s), signature
      or presigned (any case, camelCase and snake_case split) is removed, with everything under it;
    - a URL keeps its scheme, host and path, loses its user information, the value of secret-named query
      parameters, and, for `rtmp(s)://`, the stream key that ends its path.

    Example: `{"webhook": {"url": "https://h/x", "headers": {"Authorization": "Bearer s"}}}` ->
    `{"webhook": {"url": "https://h/x", "headers": {}}}`; `rtmp://live.host/app/sk-123` ->
    `rtmp://live.host/app/<redacted by source-100ms>`.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        redact(record)
