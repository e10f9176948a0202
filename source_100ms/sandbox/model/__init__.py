"""The sandbox's data model: a deterministic 100ms workspace, split by what each module models.

- ``clock``: times as integer ns and as 100ms renders them; ``ids``: ObjectIds, UUIDs, room codes;
  ``store``: the indexed collections; ``vocab``: scales and fixed vocabularies; ``context``: what every
  generator shares (seed, random stream, clock, account ids).
- ``templates``; ``rooms`` (and room codes); ``sessions`` (and peers); ``media`` (recordings, assets,
  live and external streams); ``events`` (analytics events) and ``late_events`` (those that arrive after
  their session's end); ``polls`` (and stream keys).
- ``activity``: what happens when the clock moves on; ``timeline``: the steady stream of sessions of a busy
  workspace; ``workspace``: the composition, ground truth, secrets, summary.
"""

from .vocab import SCALES
from .workspace import Workspace

__all__ = ["SCALES", "Workspace"]
