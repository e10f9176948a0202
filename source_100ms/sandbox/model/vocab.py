"""Fixed vocabularies of a generated workspace: the scales, and the names, roles, regions, event types and
client errors that generated records draw from."""

from __future__ import annotations

SCALES = {
    "small": {"templates": 4, "rooms": 25, "sessions": 400, "events": 2_000, "polls": 4},
    "medium": {"templates": 8, "rooms": 120, "sessions": 4_000, "events": 20_000, "polls": 10},
    "large": {"templates": 20, "rooms": 600, "sessions": 30_000, "events": 100_000, "polls": 30},
    # a school or webinar platform: `sessions` of history before the last day, then `sessions_per_hour`
    "busy": {"templates": 6, "rooms": 320, "sessions": 2_500, "events": 40_000, "polls": 10, "sessions_per_hour": 60},
}

ACCESS_KEY = "65f1c0de4b1a2c3d4e5f6a7b"

ROLE_SETS = [
    ["host", "guest"],
    ["host", "guest", "viewer"],
    ["teacher", "student"],
    ["broadcaster", "co-broadcaster", "viewer-realtime", "hls-viewer"],
    ["speaker", "listener", "moderator"],
]
FIRST_NAMES = [
    "Asha", "Ben", "Chen", "Divya", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rhea", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf",
]  # fmt: skip
ROOM_WORDS = [
    "standup", "townhall", "classroom", "webinar", "support", "interview", "podcast", "demo", "lobby",
    "studio", "clinic", "workshop", "review", "sync", "office-hours", "retro",
]  # fmt: skip
REGIONS = ["in", "us", "eu", "auto"]
EVENT_TYPES_TRACK = ["track.add.success", "track.update.success", "track.remove.success"]
EVENT_TYPES_CLIENT = [
    "client.publish.failed",
    "client.subscribe.failed",
    "client.join.failed",
    "client.disconnected",
    "client.connect.failed",
]
EVENT_TYPES = EVENT_TYPES_TRACK + ["beam.recording.success"] + EVENT_TYPES_CLIENT
ERRORS = [
    (1003, "WebSocketConnectionLost", "Network connection lost", "NETWORK"),
    (3001, "CantAccessCaptureDevice", "User denied permission to access capture device", "TRACK"),
    (4001, "ICEFailure", "Ice connection state FAILED", "WEBRTC"),
    (2003, "EndpointUnreachable", "Endpoint is not reachable", "INIT"),
    (3008, "AutoplayBlocked", "Autoplay blocked because the user didn't interact", "TRACK"),
]
ACTIONS = {
    "client.publish.failed": "PUBLISH",
    "client.subscribe.failed": "SUBSCRIBE",
    "client.join.failed": "JOIN",
    "client.disconnected": "RECONNECT_SIGNAL",
    "client.connect.failed": "INIT",
}
