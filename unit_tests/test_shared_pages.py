"""SharedPages and SharedPagesRequester: a list page several streams read is requested once per read."""

import threading
import time

import pytest
import requests

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


def test_given_fetch_fails_when_others_wait_then_each_asks_itself_and_nobody_hangs():
    pages, started = SharedPages(), threading.Event()

    def failing() -> requests.Response:
        started.set()
        time.sleep(0.2)
        raise requests.ConnectionError("reset")

    fallback = Fetcher((b'{"data": []}', 200))
    errors, results = [], []

    def owner():
        try:
            pages.get("k", failing)
        except requests.ConnectionError as error:
            errors.append(error)

    first = threading.Thread(target=owner)
    first.start()
    started.wait(2)
    waiter = threading.Thread(target=lambda: results.append(pages.get("k", fallback)))
    waiter.start()
    first.join(5)
    waiter.join(5)
    assert len(errors) == 1 and fallback.calls == 1 and results[0].content == b'{"data": []}'


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
