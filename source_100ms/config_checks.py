"""Config mistakes explained to the person at the Airbyte form.

The CDK validates the config against the spec and reports the raw JSON-schema message
("'2024-01-01' does not match '^\\d{4}-...$'"); `explain` turns each kind of mistake into a sentence that
names the field and the fix. `unknown_ids` checks, at `check`, that the room and template ids the config
names exist in the workspace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from source_100ms.components.origin import config_error
from source_100ms.components.state import parse_datetime

ANALYTICS_RETENTION = timedelta(days=30)
# A start date this far past the connector's clock is a mistake, not clock skew.
FUTURE_TOLERANCE = timedelta(minutes=15)
DATE_FIELDS = {"start_date", "after", "before"}


def _field(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    return ".".join(path) if path else "config"


def _sentence(error: ValidationError) -> str:
    field, leaf = _field(error), str(error.absolute_path[-1]) if error.absolute_path else ""
    if error.validator == "required":
        missing = error.message.split("'")[1]
        if missing == "credentials":
            return (
                "Authentication is missing: set `credentials` to an App Access Key and App Secret (recommended) "
                "or to a management token."
            )
        return f"`{field}.{missing}` is required." if field != "config" else f"`{missing}` is required."
    if leaf == "credentials" or field.startswith("credentials"):
        return (
            "`credentials` must be either `auth_type: app_credentials` with `app_access_key` and `app_secret`, "
            "or `auth_type: management_token` with `management_token`, all as text."
        )
    if leaf in DATE_FIELDS:
        return f"`{field}` must be a UTC date-time such as 2024-01-01T00:00:00Z (got {error.instance!r})."
    if leaf == "page_size":
        return f"`page_size` must be a whole number from 10 to 100, as 100ms accepts (got {error.instance!r})."
    if leaf == "num_workers":
        return f"`num_workers` must be a whole number from 1 to 20 (got {error.instance!r})."
    if leaf == "api_url":
        return (
            f"`api_url` must be an https:// address such as https://api.100ms.live; http:// is accepted only for "
            f"localhost and 127.0.0.1 (got {error.instance!r})."
        )
    if error.validator == "pattern" and (field.startswith(("room_ids", "template_ids")) or leaf == "template_id"):
        name = field.split(".")[0] if field.startswith(("room_ids", "template_ids")) else field
        return (
            f"`{name}` must hold 100ms ids: 24 hexadecimal characters such as 631a05390e6ffae22efa610b (got "
            f"{error.instance!r})."
        )
    if leaf == "enabled" and field.startswith("room_filters"):
        return f"`room_filters.enabled` must be `any`, `enabled` or `disabled` (got {error.instance!r})."
    if error.validator == "type":
        return f"`{field}` must be of type {error.validator_value} (got {type(error.instance).__name__})."
    return f"`{field}`: {error.message}"


def explain(config: Mapping[str, Any], spec_schema: Mapping[str, Any]) -> None:
    """Raise a config error with a plain sentence for the first mistake in `config`, if any."""
    error = best_match(Draft7Validator(spec_schema).iter_errors(config))
    if error is not None:
        raise config_error(f"Config validation error: {_sentence(error)}")


def unknown_ids(wanted: Iterable[str], existing: Iterable[str]) -> list[str]:
    known = set(existing)
    return [i for i in wanted if i not in known]


def analytics_start_warning(config: Mapping[str, Any], now: datetime | None = None) -> str | None:
    """The warning for a `start_date` older than 100ms keeps analytics events, else None."""
    start = config.get("start_date")
    if not start:
        return None
    now = now or datetime.now(UTC)
    try:
        start_at = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    except ValueError:
        return None
    if start_at >= now - ANALYTICS_RETENTION:
        return None
    return (
        f"start_date {start} is older than the 30 days of analytics events 100ms keeps: analytics_events starts "
        f"at {(now - ANALYTICS_RETENTION).strftime('%Y-%m-%dT%H:%M:%SZ')}. Older events no longer exist at 100ms."
    )


def _date_fields(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    filters = config.get("room_filters") if isinstance(config.get("room_filters"), Mapping) else {}
    return [
        ("start_date", config.get("start_date")),
        *((f"room_filters.{k}", filters.get(k)) for k in ("after", "before")),
    ]


def check_values(config: Mapping[str, Any], now: datetime | None = None) -> None:
    """What the spec's patterns let through but cannot be right: a date that does not exist (2024-02-30), a
    start date in the future (the streams would read nothing until then), an empty date range."""
    now = now or datetime.now(UTC)
    parsed: dict[str, datetime] = {}
    for name, value in _date_fields(config):
        if not value:
            continue
        at = parse_datetime(value)
        if at is None:
            raise config_error(
                f"`{name}` {value!r} is not a real date and time: use a UTC date-time such as 2024-01-01T00:00:00Z."
            )
        parsed[name] = at
    start = parsed.get("start_date")
    if start is not None and start > now + FUTURE_TOLERANCE:
        raise config_error(
            f"`start_date` {config['start_date']} is in the future: nothing would be read until then. Use a date in "
            "the past, or leave it empty to read all history."
        )
    after, before = parsed.get("room_filters.after"), parsed.get("room_filters.before")
    if after is not None and before is not None and after > before:
        raise config_error("`room_filters.after` is later than `room_filters.before`: no room could match.")


_CDK_BOILERPLATE = re.compile(
    r"^Stream \w+ is not available: |Exhausted available request attempts\. Please see logs for more details\. "
    r"Exception: |; retried until the retries ran out"
)


def plain(message: str | None) -> str:
    """The CDK's check message (`repr` of an exception, with its retry boilerplate) as the sentence inside it."""
    text = (message or "the check failed").strip()
    for prefix in ("AirbyteTracedException(", "MessageRepresentationAirbyteTracedErrors(", "ValueError("):
        if text.startswith(prefix) and text.endswith(")"):
            text = text[len(prefix) : -1]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1].replace("\\'", "'").replace('\\"', '"')
    return _CDK_BOILERPLATE.sub("", text).strip()
