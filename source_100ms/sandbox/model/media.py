"""Recordings (jobs), their recording assets, live (HLS) streams and external (RTMP) streams of sessions,
as the list endpoints answer them. A recording runs while its session does, then goes through
``post_processing`` to ``completed`` (or ``failed``), and only then has assets."""

from __future__ import annotations

from .clock import HOUR, MINUTE, NS, ZERO_TIME, fmt_ts, parse_ts, quantize
from .context import Context
from .ids import object_id, uuid4s
from .sessions import Sessions
from .store import Collection

BUSY_RECORDING_RATE = 0.75  # a school or webinar platform records most sessions
LAYERS = [(1920, 1080), (1280, 720), (854, 480), (640, 360)]  # HLS layers, largest first


class Media:
    """Recordings, recording assets, live streams and external streams."""

    def __init__(self, ctx: Context, sessions: Sessions):
        self.ctx = ctx
        self.sessions = sessions
        self.recordings = Collection()
        self.recording_assets = Collection()
        self.live_streams = Collection()
        self.external_streams = Collection()
        self.planned_done: dict[str, int] = {}  # busy workspaces: when a post_processing recording completes

    def _rtmp_key(self, rng) -> str:
        rng.getrandbits(48)  # was the stream key; still drawn so that what follows keeps its values
        return self.ctx.mint("rtmp-key")

    def finalize(self) -> None:
        for coll in (self.recordings, self.recording_assets, self.live_streams, self.external_streams):
            coll.finalize()

    def asset(self, job_id: str, session: dict, atype: str, created: int, status: str = "completed") -> dict:
        rng = self.ctx.rng
        aid = object_id(created, rng)
        duration = rng.randint(30, 5400)
        meta: dict = {}
        thumbnails = None
        ext = "mp4"
        if atype in ("room-composite", "room-composite-legacy"):
            w, h = rng.choice([(1280, 720), (1920, 1080), (640, 360)])
            meta = {"resolution": {"width": w, "height": h}}
            if rng.random() < 0.4:
                thumbnails = [f"s3://recordings-bucket/{job_id}/thumb-{i}.png" for i in range(rng.randint(1, 3))]
        elif atype == "room-vod":
            meta = {"num_layers": str(rng.randint(1, 4)), "max_width": 1280, "max_height": 720}
            ext = "zip"
        elif atype == "chat":
            ext = "csv"
        elif atype == "transcript":
            meta = {"output_mode": rng.choice(["txt", "srt", "json"])}
            ext = meta["output_mode"]
        elif atype == "summary":
            ext = "json"
        elif atype == "track":
            peer = rng.choice(list(session["peers"].values())) if session["peers"] else None
            meta = {"track_id": uuid4s(rng), "stream_id": uuid4s(rng), "peer_id": peer["id"] if peer else "",
                    "track_type": rng.choice(["audio", "video"])}  # fmt: skip
            ext = "webm"
        elif atype == "stream":
            peer = rng.choice(list(session["peers"].values())) if session["peers"] else None
            meta = {"stream_id": uuid4s(rng), "peer_id": peer["id"] if peer else "",
                    "user_id": peer["user_id"] if peer else "", "stream_type": "regular"}  # fmt: skip
        return {
            "id": aid,
            "job_id": job_id,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "type": atype,
            "path": f"s3://recordings-bucket/{session['room_id']}/{job_id}/{atype}-{aid[-6:]}.{ext}",
            "status": status,
            "size": 0 if status == "failed" else rng.randint(2_000, 900_000_000),
            "duration": 0 if status == "failed" else duration,
            "created_at": self.ctx.ts(created),
            "thumbnails": thumbnails,
            "metadata": meta,
        }

    def add_asset(self, asset: dict, created: int) -> None:
        self.recording_assets.add(asset, created, room_id=asset["room_id"], session_id=asset["session_id"])

    def session_times(self, session: dict) -> tuple[int, int]:
        start = self.sessions.coll.created_ns[session["id"]]
        return start, parse_ts(session["updated_at"])

    def make_recording(self, session: dict, status: str, now: int) -> tuple[dict, list[tuple[dict, int]]]:
        rng = self.ctx.rng
        start, end = self.session_times(session)
        created = start + rng.randrange(2 * NS, 30 * NS)
        started = created + rng.randrange(NS, 5 * NS)
        rid = object_id(created, rng)
        peers = list(session["peers"].values())
        asset_types = ["room-composite"] + [t for t in ("chat", "transcript", "summary") if rng.random() < 0.5]
        rec = {
            "id": rid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "created_at": self.ctx.ts(created),
            "started_at": self.ctx.ts(started),
            "updated_at": self.ctx.ts(started),
            "stopped_at": ZERO_TIME,
            "meeting_url": f"https://sandbox.app.100ms.live/preview/{session['room_id']}?skip_preview=true",
            "started_by": rng.choice(peers)["id"] if peers and rng.random() < 0.7 else "",
            "stopped_by": "",
            "asset_types": asset_types,
        }
        assets: list[tuple[dict, int]] = []
        if status != "running":
            stopped = max(started + NS, end - rng.randrange(0, 3 * NS))
            rec["stopped_at"] = self.ctx.ts(stopped)
            rec["stopped_by"] = rng.choice(peers)["id"] if peers and rng.random() < 0.5 else ""
            done = min(stopped + rng.randrange(10 * NS, 300 * NS), now)
            rec["updated_at"] = self.ctx.ts(done if status != "post_processing" else stopped)
            assets = self.assets_of_recording(rec, session, status, done)
        self.recordings.add(rec, created, room_id=rec["room_id"], session_id=rec["session_id"])
        return rec, assets

    def assets_of_recording(self, rec: dict, session: dict, status: str, done: int) -> list[tuple[dict, int]]:
        rng = self.ctx.rng
        out = []
        if status == "completed":
            types = list(rec["asset_types"])
            if rng.random() < 0.15:
                types.append("track")
            if rng.random() < 0.1:
                types.append("stream")
            for i, t in enumerate(types):
                c = done + i * 1_000_000 + rng.randrange(1_000_000)
                out.append((self.asset(rec["id"], session, t, c), c))
        elif status == "failed" and rng.random() < 0.3:
            c = done
            out.append((self.asset(rec["id"], session, "room-composite", c, status="failed"), c))
        for a, c in out:
            self.add_asset(a, c)
        return out

    def complete_recording(self, rec: dict, session: dict, now: int) -> list[tuple[dict, int]]:
        rng = self.ctx.rng
        start, end = self.session_times(session)
        if rec["stopped_at"] == ZERO_TIME:
            stopped = max(parse_ts(rec["started_at"]) + NS, end - rng.randrange(0, 3 * NS))
            rec["stopped_at"] = self.ctx.ts(stopped)
        else:
            stopped = parse_ts(rec["stopped_at"])
        done = min(max(stopped + rng.randrange(10 * NS, 120 * NS), parse_ts(rec["updated_at"]) + NS), now)
        rec["status"] = "completed"
        rec["updated_at"] = self.ctx.ts(done)
        return self.assets_of_recording(rec, session, "completed", done)

    def make_live_stream(self, session: dict, now: int) -> dict:
        rng = self.ctx.rng
        start, end = self.session_times(session)
        created = start + rng.randrange(5 * NS, 60 * NS)
        lid = object_id(created, rng)
        active = session["active"]
        status = "running" if active else ("failed" if rng.random() < 0.05 else "completed")
        hls_vod = rng.random() < 0.6
        ls = {
            "id": lid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "destination": "hls",
            "playback": {"url": f"https://cdn.example-hls.net/beam/{lid}/master.m3u8"},
            "meeting_url": f"https://sandbox.app.100ms.live/streaming/meeting/{session['room_id']}",
            "recording": {"hls_vod": hls_vod, "single_file_per_layer": False},
            "created_at": self.ctx.ts(created),
            "started_at": self.ctx.ts(created + NS),
            "updated_at": self.ctx.ts(created + NS),
            "stopped_at": ZERO_TIME,
            "started_by": "",
            "stopped_by": "",
            "recording_assets": None,
        }
        if status != "running":
            stopped = max(created + 2 * NS, end - NS)
            ls["stopped_at"] = self.ctx.ts(stopped)
            ls["updated_at"] = self.ctx.ts(stopped + rng.randrange(NS, 30 * NS))
            if hls_vod and status == "completed":
                c = min(stopped + rng.randrange(30 * NS, 300 * NS), now)
                asset = self.asset(lid, session, "room-vod", c)
                self.add_asset(asset, c)
                ls["recording_assets"] = [asset]
        if hls_vod:
            self._single_files_per_layer(ls, session)
        self.live_streams.add(ls, created, room_id=ls["room_id"], session_id=ls["session_id"])
        return ls

    def _single_files_per_layer(self, ls: dict, session: dict) -> None:
        """Half the HLS recordings also keep one MP4 per layer: ``room-vod`` assets whose ``metadata.layer`` is
        a string (``"0"`` the largest), as the docs and the Node SDK type it. Drawn from the stream's own
        random stream, so the rest of the workspace keeps its values."""
        lrng = self.ctx.side_rng("layers", ls["id"])
        if lrng.random() >= 0.5:
            return
        ls["recording"]["single_file_per_layer"] = True
        vod = next((a for a in ls["recording_assets"] or [] if a["type"] == "room-vod"), None)
        if vod is None:
            return
        c0 = self.recording_assets.created_ns[vod["id"]]
        for k, (w, h) in enumerate(LAYERS[: int(vod["metadata"]["num_layers"])]):
            c = c0 + (k + 1) * 1_000_000 + lrng.randrange(1_000_000)
            aid = object_id(c, lrng)
            asset = {
                "id": aid,
                "job_id": ls["id"],
                "room_id": session["room_id"],
                "session_id": session["id"],
                "type": "room-vod",
                "path": f"s3://recordings-bucket/{session['room_id']}/{ls['id']}/layer-{k}-{aid[-6:]}.mp4",
                "status": "completed",
                "size": lrng.randint(2_000, 900_000_000),
                "duration": vod["duration"],
                "created_at": fmt_ts(quantize(c, lrng.random())),
                "thumbnails": None,
                "metadata": {"resolution": {"width": w, "height": h}, "layer": str(k)},
            }
            self.add_asset(asset, c)
            ls["recording_assets"].append(asset)

    def make_external_stream(self, session: dict) -> dict:
        rng = self.ctx.rng
        start, end = self.session_times(session)
        created = start + rng.randrange(5 * NS, 60 * NS)
        xid = object_id(created, rng)
        status = "running" if session["active"] else ("failed" if rng.random() < 0.05 else "completed")
        xs = {
            "id": xid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "destination": "rtmp",
            "rtmp_urls": [f"rtmp://a.rtmp.example.com/live2/{self._rtmp_key(rng)}"],
            "meeting_url": f"https://sandbox.app.100ms.live/preview/{session['room_id']}?skip_preview=true",
            "recording": rng.random() < 0.3,
            "resolution": {"width": 1280, "height": 720},
            "created_at": self.ctx.ts(created),
            "started_at": self.ctx.ts(created + NS),
            "updated_at": self.ctx.ts(created + NS),
            "stopped_at": ZERO_TIME,
            "started_by": "",
            "stopped_by": "",
            "recording_assets": [],
        }
        if status != "running":
            stopped = max(created + 2 * NS, end - NS)
            xs["stopped_at"] = self.ctx.ts(stopped)
            xs["updated_at"] = self.ctx.ts(stopped + NS)
        self.external_streams.add(xs, created, room_id=xs["room_id"], session_id=xs["session_id"])
        return xs

    def session_extras(self, session: dict, now: int) -> None:
        """Recordings, live and external streams of a freshly generated session."""
        rng = self.ctx.rng
        if not session["peers"]:
            return
        start, end = self.session_times(session)
        if session["active"]:
            if rng.random() < 0.4:
                self.make_recording(session, "running", now)
        elif rng.random() < 0.25:
            if rng.random() < 0.06:
                status = "failed"
            elif now - end < 2 * HOUR and rng.random() < 0.6:
                status = "post_processing"
            else:
                status = "completed"
            self.make_recording(session, status, now)
        if rng.random() < 0.06:
            self.make_live_stream(session, now)
        if rng.random() < 0.04:
            self.make_external_stream(session)

    # ----------------------------------------------------------------- busy workspaces (see timeline.py)

    def processing_ns(self, duration_ns: int) -> int:
        """How long a recording takes to process after its session: minutes, longer for long sessions."""
        return self.ctx.rng.randrange(2 * MINUTE, 15 * MINUTE) + duration_ns // 20

    def busy_extras(self, session: dict, now: int, end: int | None) -> None:
        """Recordings (most sessions are recorded), live and external streams of a busy workspace's session.

        A recording of an ended session completes ``processing_ns`` after the end: until then (when that is
        after ``now``) it is ``post_processing`` and ``planned_done`` says when it completes.
        """
        rng = self.ctx.rng
        if not session["peers"]:
            return
        if rng.random() < BUSY_RECORDING_RATE:
            if end is None:
                self.make_recording(session, "running", now)
            else:
                start = self.sessions.coll.created_ns[session["id"]]
                done = end + self.processing_ns(end - start)
                status = "failed" if rng.random() < 0.04 else ("post_processing" if done > now else "completed")
                rec, _ = self.make_recording(session, status, now)
                if status == "post_processing":
                    self.planned_done[rec["id"]] = done
        if rng.random() < 0.06:
            self.make_live_stream(session, now)
        if rng.random() < 0.04:
            self.make_external_stream(session)

    def stop_recording(self, rec: dict, session: dict, end: int) -> int:
        """A running recording stops with its session (at ``end``): ``post_processing`` until the returned time."""
        rng = self.ctx.rng
        stopped = max(parse_ts(rec["started_at"]) + NS, end - rng.randrange(0, 3 * NS))
        peers = list(session["peers"].values())
        rec["status"] = "post_processing"
        rec["stopped_at"] = self.ctx.ts(stopped)
        rec["stopped_by"] = rng.choice(peers)["id"] if peers and rng.random() < 0.5 else ""
        rec["updated_at"] = self.ctx.ts(stopped + rng.randrange(1_000_000, 500_000_000))
        start = self.sessions.coll.created_ns[session["id"]]
        done = end + self.processing_ns(end - start)
        self.planned_done[rec["id"]] = done
        return done

    def finish_recording(self, rec: dict, session: dict, done: int) -> list[tuple[dict, int]]:
        """A ``post_processing`` recording completes at ``done``; its assets are created then."""
        rec["status"] = "completed"
        rec["updated_at"] = self.ctx.ts(done)
        self.planned_done.pop(rec["id"], None)
        return self.assets_of_recording(rec, session, "completed", done)
