"""What the spec's patterns let through but cannot be right (`config_checks.check_values`, run by `check`), and
the ids the spec accepts: a config error naming the field, before anything reaches 100ms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import FailureType, Status, SyncMode
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms import config_checks
from unit_tests.fake_api import FakeApi, config, query, records, session
from unit_tests.helpers import check_connection, oid, read_streams, read_through_entrypoint

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)

IMPOSSIBLE = [
    ({"start_date": "2024-02-30T00:00:00Z"}, "`start_date` '2024-02-30T00:00:00Z' is not a real date"),
    ({"start_date": "2023-13-01T00:00:00Z"}, "`start_date` '2023-13-01T00:00:00Z' is not a real date"),
    ({"room_filters": {"after": "2024-04-31T00:00:00Z"}}, "`room_filters.after` '2024-04-31T00:00:00Z' is not"),
    ({"room_filters": {"before": "2024-01-01T25:00:00Z"}}, "`room_filters.before` '2024-01-01T25:00:00Z' is not"),
    ({"start_date": "2024-06-01T12:16:00Z"}, "`start_date` 2024-06-01T12:16:00Z is in the future"),
    (
        {"room_filters": {"after": "2024-05-02T00:00:00Z", "before": "2024-05-01T00:00:00Z"}},
        "`room_filters.after` is later than `room_filters.before`",
    ),
]


@pytest.mark.parametrize("fields, words", IMPOSSIBLE, ids=["feb-30", "month-13", "april-31", "hour-25", "future",
                                                           "after-later-than-before"])  # fmt: skip
def test_given_value_that_cannot_be_right_when_checked_then_config_error_naming_the_field(fields, words):
    with pytest.raises(AirbyteTracedException) as raised:
        config_checks.check_values(config(**fields), now=NOW)
    assert raised.value.failure_type == FailureType.config_error
    assert words in raised.value.message, raised.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {"start_date": "2024-06-01T12:14:00Z"},  # 14 minutes ahead: clock skew, not a mistake
        {"start_date": "2024-02-29T00:00:00.123456789Z"},
        {"room_filters": {"after": "2024-05-01T00:00:00Z", "before": "2024-05-01T00:00:00Z"}},
        {},
    ],
    ids=["skew", "leap-day-nanoseconds", "after-equals-before", "nothing"],
)
def test_given_real_dates_when_checked_then_accepted(fields):
    config_checks.check_values(config(**fields), now=NOW)


@pytest.mark.parametrize("fields, words", [IMPOSSIBLE[0], IMPOSSIBLE[-1]], ids=["no-such-day", "empty-range"])
def test_given_value_that_cannot_be_right_when_check_then_failed_before_any_request(requests_mock, fields, words):
    output = check_connection(config(**fields))
    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED and words in status.message
    assert requests_mock.call_count == 0


def test_given_start_date_in_the_future_when_check_then_failed(requests_mock):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = check_connection(config(start_date=tomorrow)).connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED and "is in the future" in status.message
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("room_ids", "../../__admin/stats"),
        ("room_ids", "6500000100000000000000?1"),
        ("room_ids", oid(10).upper()),
        ("template_ids", oid(1) + "0"),
        ("template_ids", "a/b"),
    ],
)
def test_given_id_that_is_not_24_hex_when_check_then_failed_naming_the_field(requests_mock, field, value):
    status = check_connection(config(**{field: [oid(2), value]})).connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED
    assert f"`{field}` must hold 100ms ids: 24 hexadecimal characters" in status.message
    assert f"(got {value!r})" in status.message
    assert requests_mock.call_count == 0


def test_given_room_id_with_a_path_when_read_then_config_error_and_nothing_sent(requests_mock):
    output = read_through_entrypoint(config(room_ids=["../../__admin/stats?x="]), "room_codes")
    assert output.error.failure_type == FailureType.config_error
    assert (
        "`room_ids` must hold 100ms ids" in output.error.message and "'../../__admin/stats?x='" in output.error.message
    )
    assert requests_mock.call_count == 0


def test_given_start_date_with_a_fraction_the_spec_accepts_when_read_incrementally_then_read(requests_mock):
    """The spec accepts 1 to 9 fractional digits; the read starts at the whole second below (losing nothing)."""
    route = FakeApi(requests_mock).sessions(
        [session(oid(1), oid(9), created_at="2024-01-02T00:00:00Z", updated_at="2024-01-02T01:00:00Z")]
    )
    output = read_streams(config(start_date="2024-01-01T00:00:00.5Z"), "sessions", mode=SyncMode.incremental)
    assert output.errors == []
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert {query(r)["after"][0] for r in route.request_history} == {"2023-12-31T11:00:00.000Z"}
