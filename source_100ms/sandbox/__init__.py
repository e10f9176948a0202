"""A local, deterministic stand-in for the 100ms REST API v2 (https://api.100ms.live).

from source_100ms.sandbox import Sandbox
with Sandbox(seed=1, scale="small") as sb:
    config = sb.config()          # a connector config that reads the sandbox
    truth = sb.ground_truth()     # primary keys a full read must emit, per stream
"""

from .data import SCALES, Workspace
from .loopback import CountingServer, SilentServer, TricklingServer
from .server import FAULT_KINDS, Sandbox, mint_token

__all__ = [
    "FAULT_KINDS", "SCALES", "CountingServer", "Sandbox", "SilentServer", "TricklingServer", "Workspace", "mint_token",
]  # fmt: skip
