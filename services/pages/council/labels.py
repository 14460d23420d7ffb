"""The council's recorded values under the names its templates use (the words themselves are
in services.pages.labels, shared with the kiosk's council board)."""

from __future__ import annotations

from services.pages.labels import LABELS as WORDS

# How an implementation may end (domain.motion.Motion.finish).
OUTCOMES = ("done", "stalled", "cancelled")

LABELS = {
    "STATUS": WORDS["motion_status"],
    "STEP": WORDS["motion_step"],
    "CHOICE": WORDS["choice"],
    "THRESHOLD": WORDS["threshold"],
    "BASE": WORDS["base"],
    "TITLE": WORDS["title"],
    "OUTCOMES": OUTCOMES,
}
