"""SharedPages and SharedPagesRequester: a list page several streams read is requested once per read."""

import re
import threading
import time

import pytest
import requests
from airbyte_cdk.models import AirbyteStreamStatus

from source_100ms.components.decoder import parsed_body
from source_100ms.components.shared_pages import SharedPages
from unit_tests.fake_api import FakeApi, config, query, records
from unit_tests.helpers import oid, read_streams


def _response(body: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = "https://api.100ms.live/v2/sessions"
    return response


class Fetcher:
    def __init__(self, *bodies: tuple[bytes, int], delay: float = 0.0) -> None:
        self.bodies, self.delay, self.calls = list(bodies), delay, 0

    def __call__(self) -> requests.Response:
        self.calls += 1
        time.sleep(self.delay)
        body, status = self.bodies[min(self.calls, len(self.bodies)) - 1]
        return _response(body, status)


def test_given_page_fetched_when_asked_again_then_copy_of_kept_bytes_without_second_request():
    pages, fetch = SharedPages(), Fetcher((b'{"data": [{"id": "s1", "peers": {}}], "last": "s1"}', 200))
    first = pages.get("k", fetch)
    second = pages.get("k", fetch)
    assert fetch.calls == 1 and second.content == first.content and second is not first
    # each reader parses its own records: one reader's changes never reach another
    parsed_body(first)["data"][0]["room_id"] = "changed"
    assert "room_id" not in parsed_body(second)["data"][0]
    assert (pages.fetched, pages.shared) == (1, 1)


def test_given_readers_at_once_when_page_in_flight_then_one_request_for_all():
    pages, fetch = SharedPages(), Fetcher((b'{"data": [], "last": ""}', 200), delay=0.2)
    results: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: results.append(pages.get("k", fetch))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert fetch.calls == 1 and len(results) == 6 and {r.content for r in results} == {b'{"data": [], "last": ""}'}


@pytest.mark.parametrize(
    "broken",
    [(b"<html>502 Bad Gateway</html>", 200), (b'{"data": [{"id": "s1"', 200), (b'{"message": "boom"}', 500)],
)
def test_given_broken_or_failed_answer_when_asked_again_then_never_handed_out(broken):
    pages, fetch = SharedPages(), Fetcher(broken, (b'{"data": []}', 200))
    assert pages.get("k", fetch).content == broken[0]
    assert pages.get("k", fetch).content == b'{"data": []}'
    assert fetch.calls == 2


def test_given_fetch_fails_while_others_wait_then_they_get_the_same_error_without_fetching_it_again():
    pages, started, release = SharedPages(), threading.Event(), threading.Event()
    failure = requests.ConnectionError("reset after the retries ran out")

    def failing() -> requests.Response:
        started.set()
        release.wait(5)
        raise failure

    fallback = Fetcher((b'{"data": []}', 200))
    raised: list[BaseException] = []

    def reader(fetch):
        try:
            pages.get("k", fetch)
        except requests.ConnectionError as error:
            raised.append(error)

    owner = threading.Thread(target=reader, args=(failing,))
    owner.start()
    started.wait(2)
    waiters = [threading.Thread(target=reader, args=(fallback,)) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.1)  # the waiters are now blocked on the page in flight
    release.set()
    for thread in [owner, *waiters]:
        thread.join(5)
    assert raised == [failure] * 4, "every reader gets the error the one fetch ended with"
    assert fallback.calls == 0, "a failed page is not fetched again by each waiting reader"


def test_given_a_page_failed_when_a_reader_asks_later_then_it_is_fetched_again():
    pages = SharedPages()

    def failing() -> requests.Response:
        raise requests.ConnectionError("reset")

    with pytest.raises(requests.ConnectionError):
        pages.get("k", failing)
    later = Fetcher((b'{"data": []}', 200))
    assert pages.get("k", later).content == b'{"data": []}' and later.calls == 1


def test_given_more_bytes_than_kept_when_pages_added_then_oldest_dropped_and_asked_again():
    body = b'{"data": [], "pad": "' + b"x" * 100 + b'"}'
    pages = SharedPages(kept_bytes=3 * len(body))
    fetchers = {key: Fetcher((body, 200)) for key in "abcde"}
    for key, fetch in fetchers.items():
        pages.get(key, fetch)
    assert pages._size <= 3 * len(body) and len(pages._pages) == 3
    pages.get("a", fetchers["a"])  # dropped: asked again
    pages.get("e", fetchers["e"])  # kept
    assert fetchers["a"].calls == 2 and fetchers["e"].calls == 1


def _sessions(n: int, room: str) -> list[dict]:
    now = "2024-05-01T11:00:00.000000Z"
    return [
        {"id": oid(i), "room_id": room, "active": False, "created_at": "2024-05-01T10:00:00Z", "updated_at": now,
         "peers": {f"p{i}": {"id": f"p{i}", "joined_at": "2024-05-01T10:00:00Z"}}}
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_given_sessions_and_session_peers_in_one_read_when_read_then_each_sessions_page_requested_once(
    requests_mock,
):
    sessions = _sessions(35, oid(500))
    route = FakeApi(requests_mock).list(
        "/v2/sessions", lambda q: [s for s in sessions if str(s["active"]).lower() == q["active"][0]]
    )
    output = read_streams(config(), "sessions", "session_peers")
    assert sorted(r["id"] for r in records(output, "sessions")) == sorted(s["id"] for s in sessions)
    assert sorted(r["id"] for r in records(output, "session_peers")) == sorted(f"p{i}" for i in range(1, 36))
    asked = [tuple(sorted((k, tuple(v)) for k, v in query(r).items())) for r in route.request_history]
    # active=false: 4 pages of 10 (the last one short), active=true: 1 empty page; each once for both streams
    assert len(asked) == len(set(asked)) == 5


def test_given_two_reads_in_one_process_when_second_reads_then_fresh_pages():
    sessions = _sessions(3, oid(500))
    with requests_mock_session() as mocker:
        FakeApi(mocker).list("/v2/sessions", lambda q: sessions if q["active"][0] == "false" else [])
        first = records(read_streams(config(), "sessions"))
        sessions[0]["updated_at"] = "2024-05-02T11:00:00.000000Z"
        second = records(read_streams(config(), "sessions"))
    assert [r["updated_at"] for r in first if r["id"] == sessions[0]["id"]] == ["2024-05-01T11:00:00.000000Z"]
    assert [r["updated_at"] for r in second if r["id"] == sessions[0]["id"]] == ["2024-05-02T11:00:00.000000Z"]


def requests_mock_session():
    import requests_mock

    return requests_mock.Mocker()


def _recent_sessions(n: int) -> list[dict]:
    from datetime import UTC, datetime, timedelta

    rows = []
    for i in range(1, n + 1):
        created = datetime.now(UTC) - timedelta(days=i * 3)  # one every 3 days: about ten within the 30 days
        rows.append(
            {"id": oid(100 + n - i), "room_id": oid(600 + i), "active": False,  # newer sessions, larger ids
             "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "updated_at": (created + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "peers": {}}
        )  # fmt: skip
    return rows


@pytest.mark.parametrize("start_date", [None, "2024-01-01T00:00:00Z"])
def test_given_sessions_and_analytics_events_in_one_read_when_read_then_sessions_pages_asked_once(
    requests_mock, start_date
):
    sessions = _recent_sessions(40)
    route = FakeApi(requests_mock).list(
        "/v2/sessions", lambda q: [s for s in sessions if str(s["active"]).lower() == q["active"][0]]
    )
    events = requests_mock.get(
        "https://api.100ms.live/v2/analytics/events",
        json=lambda request, context: {"limit": 10, "total": 0, "next": "", "events": []},
    )
    extra = {"start_date": start_date} if start_date else {}
    output = read_streams(config(**extra), "sessions", "analytics_events")
    assert len(records(output, "sessions")) == 40
    asked = [tuple(sorted((k, tuple(v)) for k, v in query(r).items())) for r in route.request_history]
    assert len(asked) == len(set(asked)), "a sessions page was requested twice"
    # the rooms with a session in the last 30 days (and no others) were asked for events
    rooms = {query(r)["room_id"][0] for r in events.request_history}
    assert rooms == {oid(600 + i) for i in range(1, 11)}


def _failing_sessions_page(requests_mock):
    def respond(request, context):
        if query(request)["active"] == ["true"]:
            return {"limit": 10, "data": [], "last": ""}
        time.sleep(0.03)  # slow enough that the second stream asks while the first one's retries run
        context.status_code = 500
        return {"code": 500, "message": "internal error"}

    return requests_mock.get(re.compile(r"https://api\.100ms\.live/v2/sessions(\?|$)"), json=respond)


def test_given_a_sessions_page_that_keeps_failing_when_two_streams_read_it_then_one_retry_chain_fails_both(
    requests_mock,
):
    route = _failing_sessions_page(requests_mock)

    output = read_streams(config(), "sessions", "session_peers", expect_error=True)

    failing = [r for r in route.request_history if query(r)["active"] == ["false"]]
    assert len(failing) == 9, "the first try and 8 retries, shared: not one chain per stream"
    for stream in ("sessions", "session_peers"):
        assert output.get_stream_statuses(stream)[-1] == AirbyteStreamStatus.INCOMPLETE
    traces = [m.trace.error for m in output.errors if m.trace.error.stream_descriptor]
    assert len(traces) == 2 and all("/v2/sessions" in t.message and "500" in t.message for t in traces)


def test_given_a_shared_page_failure_when_two_streams_fail_then_each_error_trace_names_its_own_stream(requests_mock):
    _failing_sessions_page(requests_mock)

    output = read_streams(config(), "sessions", "session_peers", expect_error=True)

    named = sorted(m.trace.error.stream_descriptor.name for m in output.errors if m.trace.error.stream_descriptor)
    assert named == ["session_peers", "sessions"]


def test_given_templates_and_their_per_template_streams_in_one_read_when_read_then_each_templates_page_once(
    requests_mock,
):
    templates = [{"id": oid(i)} for i in range(1, 16)]
    api = FakeApi(requests_mock)
    listing = api.list("/v2/templates", templates)
    for template in templates:
        api.object(f"/v2/templates/{template['id']}/settings", {"region": "in"})
        api.object(f"/v2/templates/{template['id']}/destinations", {})

    output = read_streams(config(), "templates", "template_settings", "templates_destinations")

    assert len(records(output, "templates")) == 15 and len(records(output, "template_settings")) == 15
    starts = [query(r).get("start", [None])[0] for r in listing.request_history]
    assert sorted(starts, key=str) == sorted([None, oid(6)], key=str), "two pages, each asked once by three streams"


def test_given_rooms_and_room_codes_in_one_read_when_read_then_the_enabled_rooms_pages_are_shared(requests_mock):
    rooms = [{"id": oid(i), "enabled": i % 3 != 0} for i in range(1, 13)]
    api = FakeApi(requests_mock)
    listing = api.list("/v2/rooms", lambda q: [r for r in rooms if str(r["enabled"]).lower() == q["enabled"][0]])
    for room in rooms:
        api.list(f"/v2/room-codes/room/{room['id']}", [{"code": f"c-{room['id']}", "room_id": room["id"]}], key="code")

    output = read_streams(config(), "rooms", "room_codes")

    assert len(records(output, "rooms")) == 12 and len(records(output, "room_codes")) == 8
    asked = [tuple(sorted((k, tuple(v)) for k, v in query(r).items())) for r in listing.request_history]
    assert len(asked) == len(set(asked)), "a rooms page was requested twice"
