"""The words people read for the codes the records keep (statuses, flags, steps, fields,
kinds, choices), marked for the catalogs and translated where shown."""

from __future__ import annotations

from services.pages.i18n import N_, gettext

LABELS: dict[str, dict[str, str]] = {
    "entry_status": {
        "submitted": N_("Awaiting approval"),
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "voided": N_("Voided"),
    },
    "flag": {
        "late": N_("Recorded late"),
        "overlap": N_("Overlaps another entry"),
        "long-day": N_("Day over 16 hours"),
    },
    "entry_step": {
        "HoursSubmitted": N_("Submitted"),
        "HoursApproved": N_("Approved"),
        "HoursRejected": N_("Rejected"),
        "HoursAmended": N_("Amended"),
        "HoursVoided": N_("Voided"),
    },
    "field": {
        "activity": N_("Activity"),
        "started_at": N_("Started"),
        "minutes": N_("Time"),
        "place": N_("Place"),
        "content": N_("What was done"),
        "organiser": N_("Organiser"),
        "responsible": N_("Person in charge"),
        "category": N_("Category"),
        "building": N_("Building"),
        "beneficiary": N_("Beneficiary"),
        "status": N_("Status"),
    },
    "exchange_status": {
        "awaiting_confirmation": N_("Awaiting confirmation"),
        "settled": N_("Settled"),
        "disputed": N_("Disputed"),
        "cancelled": N_("Cancelled"),
        "expired": N_("Expired"),
        "withdrawn": N_("Withdrawn"),
    },
    "exchange_step": {
        "HelpRecorded": N_("Help recorded"),
        "ExchangeConfirmed": N_("Confirmed"),
        "ExchangeSettled": N_("Settled"),
        "ExchangeDisputed": N_("Disputed"),
        "DisputeResolved": N_("Dispute resolved"),
        "ExchangeWithdrawn": N_("Withdrawn"),
        "ExchangeExpired": N_("Expired"),
    },
    "party": {"provider": N_("Gave help"), "receiver": N_("Received help")},
    "outcome": {
        "uphold": N_("Uphold: the recorded time stands"),
        "adjust": N_("Adjust the time"),
        "cancel": N_("Cancel: nothing is owed"),
    },
    "movement": {
        "transfer": N_("Transfer"),
        "exchange": N_("Exchange"),
        "hours": N_("Volunteer hours"),
        "donation": N_("Donation"),
        "grant": N_("Grant"),
        "correction": N_("Correction"),
        "closure": N_("Account closed"),
        "family-gift": N_("Gift to family"),
    },
    # What a relative is to the member who sees the tie.
    "relation": {
        "spouse": N_("Spouse"),
        "parent": N_("Parent"),
        "child": N_("Child"),
        "sibling": N_("Brother or sister"),
        "grandparent": N_("Grandparent"),
        "grandchild": N_("Grandchild"),
    },
    "tie_status": {
        "proposed": N_("Waiting for consent"),
        "confirmed": N_("Confirmed"),
        "ended": N_("Ended"),
    },
    "volunteer_status": {"active": N_("Active"), "paused": N_("Paused"), "left": N_("Left")},
    "record": {
        "award": N_("Award"),
        "evaluation": N_("Evaluation"),
        "training": N_("Training"),
        "status": N_("Status change"),
    },
    "channel": {
        "console": N_("Console"),
        "import": N_("Import"),
        "system": N_("System"),
        "paper": N_("On paper, entered at the console"),
    },
    "motion_status": {
        "submitted": N_("Gathering support"),
        "seconded": N_("Seconded"),
        "lapsed": N_("Lapsed"),
        "admitted": N_("Admitted"),
        "declined": N_("Declined"),
        "scheduled": N_("On an agenda"),
        "voting": N_("Being voted on"),
        "adopted": N_("Adopted"),
        "rejected": N_("Voted down"),
        "no_quorum": N_("No quorum"),
        "implementing": N_("Being carried out"),
        "stalled": N_("Stalled"),
        "done": N_("Done"),
        "cancelled": N_("Cancelled"),
        "withdrawn": N_("Withdrawn"),
    },
    "motion_step": {
        "MotionSubmitted": N_("Motion submitted"),
        "MotionSupported": N_("Supported"),
        "MotionSeconded": N_("Seconded: enough support"),
        "MotionLapsed": N_("Lapsed: not enough support in time"),
        "MotionAdmitted": N_("Admitted by the council"),
        "MotionDeclined": N_("Declined by the council"),
        "MotionScheduled": N_("Put on a meeting's agenda"),
        "VotingOpened": N_("Voting opened"),
        "VotingClosed": N_("Voting closed"),
        "MotionWithdrawn": N_("Withdrawn by the mover"),
        "OwnerAssigned": N_("Owner assigned"),
        "MotionOwnerReassigned": N_("Handed to another owner"),
        "ProgressReported": N_("Progress reported"),
        "MilestoneAdded": N_("Milestone added"),
        "MilestoneReached": N_("Milestone reached"),
        "ImplementationUpdated": N_("Implementation updated"),
    },
    "choice": {"yes": N_("In favour"), "no": N_("Against"), "abstain": N_("Abstain")},
    "threshold": {
        "simple_majority": N_("More than half"),
        "two_thirds": N_("At least two thirds"),
        "majority_of_members": N_("More than half of all members"),
    },
    "base": {
        "cast": N_("the votes cast"),
        "present": N_("the members present"),
        "entitled": N_("all members entitled to vote"),
    },
    "title": {"chair": N_("Chair"), "secretary": N_("Secretary")},
    # Art. 10's quality ratings, as the station's forms word them (优秀 / 良好 / 合格 / 不合格).
    "rating": {
        "excellent": N_("Excellent"),
        "good": N_("Good"),
        "pass": N_("Pass"),
        "fail": N_("Fail"),
    },
    "role": {
        "coordinator": N_("Coordinator (social worker)"),
        "council": N_("Council officer"),
        "admin": N_("Administrator"),
    },
}


def label(kind: str, value: str | None) -> str:
    """The translated word for ``value`` of ``kind``; a value with no word is shown as it is."""
    if value is None:
        return ""
    word = LABELS[kind].get(value)
    return gettext(word) if word is not None else value


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, word) pairs for a select box."""
    return [(value, gettext(word)) for value, word in LABELS[kind].items()]
