"""A resident's consent to the privacy notice, and the erasure of their personal data."""

from __future__ import annotations

from domain.volunteer import Volunteer, VolunteerStatus, volunteer_id_for
from services.bus import Acting
from services.identity.commands import ErasePersonalData, RecordConsent
from services.identity.records import Registered, member_in_reach
from services.store.eventstore import retried_on_conflict

ERASED = "The person's personal data was erased."  # why their volunteer record reads left


@retried_on_conflict
def record_consent(command: RecordConsent, acting: Acting) -> Registered:
    member = member_in_reach(acting.app, acting.by, command.member_id)
    if command.withdrawn:
        member.withdraw_consent(command.notice_version, acting.by)
    else:
        member.give_consent(command.notice_version, acting.by)
    return Registered(member.id, acting.app.record(member))


@retried_on_conflict
def erase_member(command: ErasePersonalData, acting: Acting) -> Registered:
    """Delete the person's key, then record the erasure: a failure between the two leaves the
    data erased and the request retryable, never an erasure on record with the key still there.
    """
    app, by = acting.app, acting.by
    member = member_in_reach(app, by, command.member_id)
    member.erase(command.reason, by)
    volunteer = app.find(volunteer_id_for(member.id), Volunteer)
    if volunteer is not None and volunteer.status is not VolunteerStatus.LEFT:
        # An erased person volunteers no more: their record says so, in the same save.
        volunteer.change_status(VolunteerStatus.LEFT, ERASED, by)
    acting.vault.erase(member.id)
    return Registered(member.id, app.record(member, volunteer))
