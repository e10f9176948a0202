"""Secrets where 100ms documents them (storage credentials, webhook headers, RTMP stream keys, stream keys),
each listed by Workspace.secrets() so a test can scan a connector's output; template plugins; asset layers."""

import re

import orjson
import pytest
import requests
from sandbox_testkit import NOW, Client, workspace

from source_100ms.sandbox import Sandbox, Workspace

SECRET = re.compile(r"sbxsecret-[a-z-]+-[0-9a-f]{24}")


@pytest.fixture(scope="module")
def ws():
    return workspace(7)


def test_template_settings_carry_the_documented_storage_credentials(sb, client):
    with_rec = [t for t in sb.workspace.templates.objects.values() if t["settings"]["recording"]]
    assert with_rec
    for t in with_rec:
        for body in (client.get(f"/v2/templates/{t['id']}/settings")[1], client.get(f"/v2/templates/{t['id']}")[1]):
            settings = body.get("settings", body)
            upload = settings["recording"]["upload"]
            assert {"type", "location", "prefix", "options", "credentials"} <= set(upload)
            creds = upload["credentials"]
            assert set(creds) == {"key", "secretKey"} and all(SECRET.fullmatch(v) for v in creds.values())
        status, configs = client.get(f"/v2/templates/{t['id']}/recordings")
        assert status == 200 and isinstance(configs, list) and configs
        assert configs[0]["upload"]["credentials"] == t["settings"]["recording"]["upload"]["credentials"]


def test_some_hls_and_browser_recordings_upload_with_credentials(ws):
    uploads = []
    for t in ws.templates.objects.values():
        for d in (t["destinations"].get("hlsDestinations") or {}).values():
            uploads.append(d["recording"].get("upload"))
        for d in (t["destinations"].get("browserRecordings") or {}).values():
            uploads.append(d.get("upload"))
    with_creds = [u for u in uploads if u]
    assert with_creds and len(with_creds) < len(uploads), "some, not all"
    assert all(SECRET.fullmatch(u["credentials"]["secretKey"]) for u in with_creds)


def test_templates_have_plugins_with_permissions(sb, client):
    _, body = client.get("/v2/templates", {"limit": 100})
    for t in body["data"]:
        plugins = t["plugins"]
        assert set(plugins["whiteboard"]["permissions"]) == {"admin", "writer", "reader"}
        assert set(plugins["whiteboard"]["permissions"]["admin"]) <= set(t["roles"])
        if "transcriptions" in t["destinations"]:
            assert plugins["transcriptions"]["permissions"]["admin"]
    assert any("transcriptions" in t["plugins"] for t in body["data"])


def test_rooms_with_recording_carry_upload_credentials_and_webhooks_secret_headers(ws):
    recording = [r for r in ws.rooms.objects.values() if r["recording_info"]["enabled"]]
    hooked = [r for r in ws.rooms.objects.values() if r["webhook"]["url"]]
    assert recording and hooked
    for r in recording:
        creds = r["recording_info"]["upload_info"]["credentials"]
        assert set(creds) == {"key", "secret"} and all(SECRET.fullmatch(v) for v in creds.values())
    for r in hooked:
        headers = r["webhook"]["headers"]
        assert SECRET.fullmatch(headers["X-Api-Key"])
        assert headers["Authorization"].startswith("Bearer ") and SECRET.fullmatch(headers["Authorization"][7:])
    for r in ws.rooms.objects.values():
        if not r["recording_info"]["enabled"]:
            assert "upload_info" not in r["recording_info"]


def test_rtmp_stream_keys_are_the_last_path_segment(ws):
    urls = [u for t in ws.templates.objects.values() for d in (t["destinations"].get("rtmpDestinations") or {}).values()
            for u in d["rtmpUrls"]]  # fmt: skip
    urls += [u for x in ws.external_streams.objects.values() for u in x["rtmp_urls"]]
    beam = [ws.event(r, i) for r, e in ws.room_events.items() for i in range(e.total)
            if ws.events.event_type(r, i) == "beam.recording.success"]  # fmt: skip
    urls += [x["url"] for e in beam for x in e["data"]["rtmp"]]
    assert urls and any(e["data"]["rtmp"] for e in beam)
    for u in urls:
        assert u.startswith("rtmp://") and SECRET.fullmatch(u.rsplit("/", 1)[1]), u


def test_stream_keys_are_secret(sb, client):
    rid, key = next((r, k) for r, k in sb.workspace.stream_keys.items() if sb.workspace.rooms.objects[r]["enabled"])
    status, body = client.get(f"/v2/stream-keys/room/{rid}")
    assert status == 200 and body["data"][0]["key"] == key["key"] and SECRET.fullmatch(key["key"])


def test_secrets_lists_exactly_the_secrets_the_api_answers():
    """Walk every endpoint that can carry a secret: every secret found is listed, every one listed is found."""
    with Sandbox(workspace=workspace(7)) as sb:
        c = Client(sb)
        ws = sb.workspace
        text = []
        lists = [("/v2/templates", {}), ("/v2/rooms", {"enabled": "true"}), ("/v2/rooms", {"enabled": "false"}),
                 ("/v2/external-streams", {})]  # fmt: skip
        for path, params in lists:
            items, _ = c.walk(path, params)
            text.append(orjson.dumps(items).decode())
        for tid in ws.templates.asc:
            for sub in ("settings", "destinations", "recordings"):
                text.append(orjson.dumps(c.get(f"/v2/templates/{tid}/{sub}")[1]).decode())
        for rid in ws.rooms.asc:
            text.append(orjson.dumps(c.get(f"/v2/stream-keys/room/{rid}")[1]).decode())
            start = None
            while True:
                _, body = c.get(
                    "/v2/analytics/events", {"room_id": rid, "limit": 100, **({"start": start} if start else {})}
                )
                text.append(orjson.dumps(body["events"]).decode())
                start = body["next"]
                if not start:
                    break
        found = set(SECRET.findall("".join(text)))
        listed = sb.secrets()
        assert listed == ws.secrets() and len(listed) == len(set(listed)) > 40
        assert found == set(listed)
        assert requests.get(sb.url + "/_sandbox/secrets", timeout=5).json() == listed
        c.close()


def test_secrets_are_unique_and_stable_for_a_seed(ws):
    again = Workspace(seed=7, scale="small", now=NOW)
    assert again.secrets() == ws.secrets()
    assert set(Workspace(seed=8, scale="small", now=NOW).secrets()).isdisjoint(ws.secrets())
    values = [v for t in ws.templates.objects.values() if t["settings"]["recording"]
              for v in t["settings"]["recording"]["upload"]["credentials"].values()]  # fmt: skip
    assert len(values) == len(set(values))


def test_a_disabled_rooms_stream_key_leaves_the_secrets():
    ws = workspace(7)
    rid, key = next((r, k) for r, k in ws.stream_keys.items() if ws.rooms.objects[r]["enabled"])
    assert key["key"] in ws.secrets()
    ws.disable_room(rid)
    assert key["key"] not in ws.secrets()


def test_layered_assets_have_a_string_layer_and_num_layers_stays_a_string(ws):
    layered = [a for a in ws.recording_assets.objects.values() if "layer" in a["metadata"]]
    assert layered
    for a in layered:
        assert a["type"] == "room-vod" and isinstance(a["metadata"]["layer"], str) and a["metadata"]["layer"].isdigit()
        assert set(a["metadata"]["resolution"]) == {"width", "height"}
        ls = ws.live_streams.objects[a["job_id"]]
        assert ls["recording"]["single_file_per_layer"] is True and a in ls["recording_assets"]
        vod = next(x for x in ls["recording_assets"] if "num_layers" in x["metadata"])
        n = vod["metadata"]["num_layers"]
        assert isinstance(n, str) and int(a["metadata"]["layer"]) < int(n)
        assert sorted(x["metadata"]["layer"] for x in ls["recording_assets"] if "layer" in x["metadata"]) == [
            str(k) for k in range(int(n))
        ]
    for a in ws.recording_assets.objects.values():
        if "num_layers" in a["metadata"]:
            assert isinstance(a["metadata"]["num_layers"], str)
