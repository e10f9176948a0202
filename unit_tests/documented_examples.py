"""100ms's documented example answers (reference/100ms-api.md), as valid JSON, one per endpoint the streams read.

The docs' own JSON is hand-written and sometimes malformed (missing commas, trailing commas): these are the same
objects, written correctly. Where a page lists fields its example leaves out, they are added with values of the
documented type, and the secrets 100ms documents in these objects (storage credentials, webhook headers, RTMP
stream keys, presigned URLs) are planted with values that contain `SECRETS` markers, so that a test can assert
that none of them leaves the connector.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

# Every secret planted below contains one of these; none may appear in anything the connector outputs.
SECRETS = ("AKIAdocexample", "doc-secret-value", "sk-live-stream-key", "doc-webhook-token", "doc-presign-sig")

ROOM_ID = "631a05390e6ffae22efa610b"
TEMPLATE_ID = "627ce5b637300e55a72ba7ed"
SESSION_ID = "63172c2d3e3d9fdb008322e1"
CUSTOMER_ID = "627cdddff2e4e30487862ad1"

# §4.1 List rooms (commas restored; `recording_info.upload_info` with the documented `credentials`; `webhook`,
# `polls`, `size` and `key` from the object's field list).
ROOMS = {
    "limit": 10,
    "data": [
        {
            "id": ROOM_ID, "name": "sampleroom", "enabled": True,
            "description": "This is sample description for room", "customer_id": CUSTOMER_ID,
            "app_id": "627cdddff2e4e30487862ad3", "recording_source_template": False,
            "recording_info": {
                "enabled": True,
                "upload_info": {
                    "type": "s3", "location": "bucket", "prefix": "dev/627cdddff2e4e30487862ad1",
                    "options": {"region": "ap-south-1"},
                    "credentials": {"key": "AKIAdocexample0001", "secret": "doc-secret-value-room-storage"},
                },
            },
            "template_id": "63188115d11d6db790c73c60", "template": "new-template-1662550293", "region": "in",
            "created_at": "2022-09-08T15:07:37.83Z", "updated_at": "2022-09-08T15:07:37.83Z", "large_room": False,
            "size": 10000, "max_duration_seconds": 10000, "polls": ["631b2654f771854d9bf633db"],
            "webhook": {"url": "https://hooks.example.com/100ms",
                        "headers": {"Authorization": "Bearer doc-webhook-token", "X-Team": "video"}},
            "key": "627cdddff2e4e30487862ad1:sampleroom",
            "recording": {"enabled": True},
        }
    ],
    "last": ROOM_ID,
}  # fmt: skip

# §4.2 Template object, with the documented `settings.recording.upload.credentials.{key, secretKey}` (create-template
# response), `plugins`, and an RTMP destination whose URLs end with stream keys.
RECORDING_SETTINGS = {
    "upload": {
        "type": "s3", "location": "recordings-bucket", "prefix": "templates/",
        "options": {"region": "us-east-1"},
        "credentials": {"key": "AKIAdocexample0002", "secretKey": "doc-secret-value-template-storage"},
    },
    "thumbnails": {"enabled": True, "width": 1280, "height": 720, "offsets": [2], "fps": 30},
}  # fmt: skip
RTMP_DESTINATIONS = {
    "yt": {"name": "yt", "width": 1280, "height": 720, "maxDuration": 3600,
           "rtmpUrls": ["rtmp://a.rtmp.youtube.com/live2/sk-live-stream-key-1",
                        "rtmps://live-api-s.facebook.com:443/rtmp/sk-live-stream-key-2?s_bl=1"],
           "recordingEnabled": False, "autoStopTimeout": 60},
}  # fmt: skip
HLS_DESTINATIONS = {
    "40c39240-b2a4-4a1b-9a8b-9c8d5d5d5d5d": {
        "name": "40c39240-b2a4-4a1b-9a8b-9c8d5d5d5d5d", "role": "__internal_recorder", "maxDuration": 3600,
        "layers": [{"width": 1280, "height": 720, "videoBitrate": 2048, "audioBitrate": 64}],
        "playlistType": "event", "numPlaylistSegments": 10, "videoFrameRate": 30, "enableMetadataInsertion": False,
        "enableStaticUrl": True,
        "recording": {"hlsVod": True, "singleFilePerLayer": False, "enableZipUpload": False, "layers": [],
                      "thumbnails": {"width": 0, "height": 0}, "presignDuration": 3600},
        "autoStopTimeout": 60,
    }
}  # fmt: skip
TRANSCRIPTIONS = {
    "tr": {"name": "tr", "role": "host", "modes": ["recorded"], "outputModes": ["txt", "srt"], "customVocabulary": [],
           "summary": {"enabled": True, "context": "standup", "temperature": 0.5,
                       "sections": [{"title": "Agenda", "format": "bullets"}]},
           "translation": {"enabled": False, "roleLanguages": {}}},
}  # fmt: skip
DESTINATIONS = {"rtmpDestinations": RTMP_DESTINATIONS, "hlsDestinations": HLS_DESTINATIONS,
                "transcriptions": TRANSCRIPTIONS}  # fmt: skip
SETTINGS = {
    "region": "in", "recording": RECORDING_SETTINGS,
    "roomState": {"messageInterval": 5, "sendPeerList": False, "stopRoomStateOnJoin": True, "enabled": False},
    "retry": {},
}  # fmt: skip
TEMPLATE = {
    "id": TEMPLATE_ID, "name": "nixon-samuel_eventapp_bf33", "customerId": CUSTOMER_ID,
    "roles": {
        "host": {
            "name": "host",
            "publishParams": {
                "allowed": ["audio", "video", "screen"], "audio": {"bitRate": 32, "codec": "opus"},
                "video": {"bitRate": 300, "codec": "vp8", "frameRate": 30, "width": 480, "height": 360},
                "screen": {"codec": "vp8", "frameRate": 10, "width": 1920, "height": 1080},
                "simulcast": {"video": {"layers": [{"rid": "f", "scaleResolutionDownBy": 1, "maxBitrate": 700,
                                                    "maxFramerate": 25}]}, "screen": {}},
            },
            "subscribeParams": {
                "subscribeToRoles": ["host", "guest"], "maxSubsBitRate": 3200,
                "subscribeDegradation": {"packetLossThreshold": 25, "degradeGracePeriodSeconds": 1,
                                         "recoverGracePeriodSeconds": 4},
            },
            "permissions": {"endRoom": True, "removeOthers": True, "mute": True, "unmute": True, "changeRole": True,
                            "rtmpStreaming": True, "hlsStreaming": True, "browserRecording": True,
                            "sendRoomState": False, "pollRead": True, "pollWrite": True},
            "priority": 1, "maxPeerCount": 0,
        }
    },
    "settings": SETTINGS,
    "destinations": DESTINATIONS,
    "plugins": {"whiteboard": {"permissions": {"admin": ["host"], "reader": ["guest"]}},
                "transcriptions": {"permissions": {"admin": ["host"]}}},
    "createdAt": "2022-05-12T10:47:18.588Z", "updatedAt": "2022-05-12T10:47:18.588Z",
    "_id": TEMPLATE_ID, "customer": CUSTOMER_ID,
}  # fmt: skip
TEMPLATES = {"limit": 10, "data": [TEMPLATE], "last": TEMPLATE_ID}

# §4.4 List sessions.
PEER_ID = "2d873b0a-c2c9-41dc-ac72-c6ea9b2f2cc3"
SESSIONS = {
    "limit": 10,
    "data": [
        {
            "id": SESSION_ID, "room_id": "627ce5b8f2e4e30487862adb", "customer_id": CUSTOMER_ID, "active": False,
            "peers": {
                PEER_ID: {"id": PEER_ID, "session_id": SESSION_ID, "name": "Nixon K", "role": "backstage",
                          "user_id": "Batch1-student10", "joined_at": "2022-09-06T11:17:01.816Z",
                          "left_at": "2022-09-06T11:17:03.643Z"},
            },
            "created_at": "2022-09-06T11:17:01.817Z", "updated_at": "2022-09-06T11:17:03.65Z",
        }
    ],
    "last": SESSION_ID,
}  # fmt: skip

# §4.3 Active room peers: a map keyed by peer id, nanosecond times.
ACTIVE_ROOM_PEERS = {
    "peers": {
        "dcd88eb0-83e6-486a-bcae-c3be5e0f2c20": {"id": "dcd88eb0-83e6-486a-bcae-c3be5e0f2c20", "name": "John",
                                                 "user_id": "student-3461", "metadata": "", "role": "student",
                                                 "joined_at": "2023-01-25T12:06:34.080990401Z"},
        "4e03dce3-ddec-4bdd-b91b-0b18be1a7f10": {"id": "4e03dce3-ddec-4bdd-b91b-0b18be1a7f10", "name": "Nick",
                                                 "user_id": "teacher-81", "metadata": "", "role": "teacher",
                                                 "joined_at": "2023-01-25T12:04:30.366388779Z"},
    }
}  # fmt: skip

# §4.5 Analytics events, one of each family (track, recording, error), the event times made recent so that the
# 30-day clamp keeps them (`recent` replaces the documented date).
EVENT_ROOM = "633a78ee3bea2af508356a34"
EVENT_SESSION = "63f73bf05223403c9671c5c9"
TRACK_EVENT = {
    "version": "2.0", "id": "5ff0ce7b-0901-4566-8962-7543613b0456", "timestamp": "{recent}T10:12:00.78311898Z",
    "type": "track.add.success",
    "data": {"room_id": EVENT_ROOM, "session_id": EVENT_SESSION, "room_name": "exp",
             "peer_id": "c8e85ab4-d533-4de0-ba7c-4c58a4de6c74", "user_id": "187a1a92-8d9e-4b0e-9d4a-8a7c5a1c1d2e",
             "user_name": "John", "joined_at": "{recent}T10:12:00.587243415Z", "role": "host",
             "track_id": "d3c7a05d-81ee-48a0-8a6a-ec36be966312", "stream_id": "cc6934ca-0c91-4cb7-8a97-293be2d0d8a8",
             "type": "audio", "source": "regular", "mute": True, "started_at": "{recent}T10:12:00.781851067Z"},
}  # fmt: skip
RECORDING_EVENT = {
    "version": "2.0", "id": "0c9a7d4e-4b39-4f3c-8f9f-4d2b8c0a1e21", "timestamp": "{recent}T06:18:29.46Z",
    "type": "beam.recording.success",
    "data": {"beam_id": "64243a9e8bb5cd4e7b1c5d1a", "room_id": EVENT_ROOM, "session_id": EVENT_SESSION,
             "peer_id": "3f174686-cef9-4d9e-b3d5-ed91773e7f3e", "template_id": TEMPLATE_ID,
             "created_at": "{recent}T06:16:02.12Z", "duration": 142, "started_at": "{recent}T06:16:02.5Z",
             "stopped_at": "{recent}T06:18:24.821Z", "max_width": 1280, "max_height": 720,
             "recording_path": "s3://recordings-bucket/beam/64243a9e.mp4",
             "recording_presigned_url": "https://recordings-bucket.s3.amazonaws.com/beam/64243a9e.mp4?"
                                        "X-Amz-Credential=AKIAdocexample0003&X-Amz-Signature=doc-presign-sig",
             "meeting_url": "https://sample.app.100ms.live/preview/abc-defg-hij?skip_preview=true",
             "rtmp": [{"url": "rtmp://a.rtmp.youtube.com/live2/sk-live-stream-key-3"}],
             "session_started_at": "{recent}T06:15:00.1Z", "size": 364582},
}  # fmt: skip
ERROR_EVENT = {
    "version": "2.0", "id": "a3f2c1de-7d22-4d3b-9c55-2f2b1d0e9c10", "timestamp": "{recent}T09:01:02.123456789Z",
    "type": "client.join.failed",
    "data": {"user_id": "u-1", "user_name": "Ann", "peer_id": "5a1c9e0f-6e2d-4a52-9a9b-1c2d3e4f5a6b",
             "account_id": CUSTOMER_ID, "room_id": EVENT_ROOM, "session_id": EVENT_SESSION, "room_name": "exp",
             "template_id": TEMPLATE_ID, "role": "guest", "error_code": 4005, "error_name": "ICEFailure",
             "error_message": "ICE connection failed", "error_description": "Network issue", "domain": "WEBRTC",
             "is_terminal": True, "action": "JOIN",
             "agent": {"sdk": "web", "sdk_version": "0.10.1", "os": "macOS", "os_version": "14.1",
                       "device_model": "", "framework": "react", "framework_version": "18.2.0",
                       "framework_sdk_version": "0.8.0", "is_prebuilt": False, "domain": "app.example.com",
                       "string": "web:0.10.1;os:macOS"}},
}  # fmt: skip
EVENTS = {"track": TRACK_EVENT, "recording": RECORDING_EVENT, "error": ERROR_EVENT}

# §4.6 Recordings (the trailing comma of `asset_types` removed).
RECORDINGS = {
    "limit": 10,
    "data": [
        {"id": "642531cf94091a5af841456d", "room_id": "635fe195f5e1f4a0abb7d1ae",
         "session_id": "642531c8becbb0bb81952e36", "status": "completed", "created_at": "2023-03-30T06:53:03.67Z",
         "started_at": "2023-03-30T06:53:06.787Z", "updated_at": "2023-03-30T06:54:02.431Z",
         "stopped_at": "2023-03-30T06:53:58.182Z", "meeting_url": "https://sample.app.100ms.live/meeting/abc-defg-hij",
         "started_by": "3f174686-cef9-4d9e-b3d5-ed91773e7f3e", "stopped_by": "",
         "asset_types": ["room-composite", "chat", "transcript", "summary"]}
    ],
    "last": "642531cf94091a5af841456d",
}  # fmt: skip

# §4.6 Recording assets: `num_layers` a string, and a per-layer room-vod asset whose `layer` is a string too.
ROOM_VOD = {
    "id": "6425240f94091a5af8414523", "job_id": "642523f794091a5af841451e", "room_id": "635fe195f5e1f4a0abb7d1ae",
    "session_id": "642523f0becbb0bb81952d9c", "type": "room-vod", "path": "s3://bucket/vod/index.m3u8",
    "thumbnails": None, "metadata": {"num_layers": "4", "max_width": 1280, "max_height": 720},
    "duration": 30, "size": 364582, "status": "completed", "created_at": "2023-03-30T06:23:03.216Z",
}  # fmt: skip
LAYER_ASSET = {
    **ROOM_VOD, "id": "6425240f94091a5af8414524", "path": "s3://bucket/vod/layer-0.mp4",
    "thumbnails": ["s3://bucket/vod/thumb-0.jpg"],
    "metadata": {"layer": "0", "resolution": {"width": 1280, "height": 720}, "max_width": 1280, "max_height": 720},
}  # fmt: skip
RECORDING_ASSETS = {"limit": 10, "data": [LAYER_ASSET, ROOM_VOD], "last": ROOM_VOD["id"]}

# §5 Live streams and external streams (the field lists; recording assets embedded as 100ms does).
LIVE_STREAMS = {
    "limit": 10,
    "data": [
        {"id": "6426ab2294091a5af8414611", "room_id": "635fe195f5e1f4a0abb7d1ae",
         "session_id": "6426ab1fbecbb0bb81953001", "status": "completed", "destination": "hls",
         "playback": {"url": "https://cdn.100ms.live/beam/6426ab22/master.m3u8"},
         "meeting_url": "https://sample.app.100ms.live/streaming/meeting/abc-defg-hij",
         "recording": {"hls_vod": True, "single_file_per_layer": True},
         "created_at": "2023-03-31T09:40:18.31Z", "started_at": "2023-03-31T09:40:21.1Z",
         "updated_at": "2023-03-31T09:55:00.5Z", "stopped_at": "2023-03-31T09:54:58Z",
         "started_by": "3f174686-cef9-4d9e-b3d5-ed91773e7f3e", "stopped_by": "",
         "recording_assets": [dict(LAYER_ASSET, job_id="6426ab2294091a5af8414611")]},
    ],
    "last": "6426ab2294091a5af8414611",
}  # fmt: skip
EXTERNAL_STREAMS = {
    "limit": 10,
    "data": [
        {"id": "6426ac9e94091a5af8414650", "room_id": "635fe195f5e1f4a0abb7d1ae",
         "session_id": "6426ac9bbecbb0bb81953010", "status": "completed", "destination": "rtmp",
         "rtmp_urls": ["rtmp://a.rtmp.youtube.com/live2/sk-live-stream-key-4"],
         "meeting_url": "https://sample.app.100ms.live/streaming/meeting/abc-defg-hij", "recording": False,
         "resolution": {"width": 1280, "height": 720}, "created_at": "2023-03-31T09:46:38.9Z",
         "started_at": "2023-03-31T09:46:40.2Z", "updated_at": "2023-03-31T10:00:01.77Z",
         "stopped_at": "2023-03-31T10:00:00.1Z", "started_by": "", "stopped_by": "", "recording_assets": []},
    ],
    "last": "6426ac9e94091a5af8414650",
}  # fmt: skip

# §5 Room codes (trailing commas removed): `limit` 20 and `last` "" as in the example.
ROOM_CODES = {
    "limit": 20,
    "data": [
        {"code": "hkj-sdf-fda", "room_id": ROOM_ID, "role": "host", "enabled": True,
         "created_at": "2023-01-20T11:08:01.129Z", "updated_at": "2023-01-20T11:08:01.129Z"},
        {"code": "pqr-stu-vwx", "room_id": ROOM_ID, "role": "guest", "enabled": True,
         "created_at": "2023-01-20T11:08:01.129Z", "updated_at": "2023-01-20T11:08:01.129Z"},
    ],
    "last": "",
}  # fmt: skip


def dated(body: Any, day: str) -> Any:
    """`body` with `{recent}` replaced by `day` (YYYY-MM-DD) wherever it appears."""
    if isinstance(body, dict):
        return {k: dated(v, day) for k, v in body.items()}
    if isinstance(body, list):
        return [dated(v, day) for v in body]
    return body.replace("{recent}", day) if isinstance(body, str) else body


def fresh(body: Any) -> Any:
    return copy.deepcopy(body)


# ------------------------------------------------------------------------------------------ schema checks

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 `date-time`, any number of fractional digits (jsonschema checks it only with an extra package)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    head, _, rest = value.replace("z", "Z").replace("Z", "+00:00").partition(".")
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        head = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    datetime.fromisoformat(head)
    return True


def schema_errors(record: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every way `record` breaks `schema` (JSON Schema draft 7, `date-time` checked), as readable lines."""
    validator = Draft7Validator(schema, format_checker=FORMATS)
    return [f"{'.'.join(map(str, e.absolute_path)) or '<record>'}: {e.message}" for e in validator.iter_errors(record)]
