"""The raw floor of the throughput benchmark: the least a program can do to emit the same records.

One `requests` session, the same pages the connector asks for (`GET /v2/analytics/events?room_id=…` at
`limit=100`, following `next`), and one Airbyte RECORD line per event, with `room_id` added, as the
connector prints them. No retries, no schema, no state: a floor, not a connector.

Usage: python bench/raw_floor.py CONFIG_JSON
"""

from __future__ import annotations

import sys
import time

import jwt
import orjson
import requests


def main(config_path: str) -> int:
    config = orjson.loads(open(config_path, "rb").read())
    credentials = config["credentials"]
    now = int(time.time())
    token = jwt.encode(
        {"access_key": credentials["app_access_key"], "type": "management", "version": 2, "jti": "floor",
         "iat": now, "nbf": now, "exp": now + 3600},
        credentials["app_secret"], algorithm="HS256",
    )  # fmt: skip
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = config["api_url"].rstrip("/") + "/v2/analytics/events"
    out = sys.stdout.buffer
    for room_id in config["room_ids"]:
        start = None
        while True:
            params = {"room_id": room_id, "limit": 100, **({"start": start} if start else {})}
            body = session.get(url, params=params, timeout=60).json()
            emitted_at = int(time.time() * 1000)
            for event in body.get("events") or []:
                event["room_id"] = room_id
                record = {"stream": "analytics_events", "data": event, "emitted_at": emitted_at}
                out.write(orjson.dumps({"type": "RECORD", "record": record}) + b"\n")
            start = body.get("next")
            if not start or not body.get("events"):
                break
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
