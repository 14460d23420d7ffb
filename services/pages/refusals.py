"""What a refusal or failure says to a person, in their language.

The domain explains itself in English for the API's problem details; a resident at the kiosk
reads Chinese. Each refusal code the rules can raise has a plain sentence here, marked for
the catalogs; a test checks that no code the code base raises is missing.
"""

from __future__ import annotations

from eventsourcing.persistence import PersistenceError
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from domain.rules import NotFound, RuleViolated
from services.bus import NotYours
from services.identity.records import SignInRefused
from services.pages.i18n import N_, gettext
from services.store.eventstore import ConcurrentUpdate
from services.web.problems import PositionAheadOfStore, ReadModelBehind, ReadModelFailing

# One sentence per refusal code, said to the person who tried; nothing was recorded.
BY_CODE: dict[str, str] = {
    # Said by several contexts (ledger, exchanges, hours, volunteers, council, identity).
    "contact-details-in-text": N_(
        "Please leave out phone and ID numbers; the station will put you in touch."
    ),
    "control-character": N_(
        "Some of what was entered holds an invisible control character. Please type it again."
    ),
    "date-in-future": N_("This can be recorded only after it has happened. Please check the date."),
    "date-out-of-range": N_(
        "This date is outside the years the station keeps records for. Please check the year."
    ),
    "time-zone-required": N_("Please give the time together with its time zone."),
    "idempotency-key-reused": N_(
        "This form was already sent with different details. Please start again from the beginning."
    ),
    "invalid-minutes": N_("Please enter the time as a whole number of minutes above zero."),
    "invalid-period": N_("The period must start before it ends. Please check the dates."),
    "member-inactive": N_("This membership is no longer active. Please ask the station staff."),
    "not-a-member-account": N_("Only residents' own time accounts can be used for this."),
    "reason-required": N_("Please say why, so the record can show it."),
    # Ledger: time accounts, transfers and corrections.
    "above-cap": N_("This would take an account above its upper limit. Nothing was recorded."),
    "account-closed": N_("This time account is closed, so nothing more can be recorded on it."),
    "account-not-found": N_("That time account could not be found. Please check and try again."),
    "already-corrected": N_("This transfer has already been fully corrected."),
    "balance-not-settled": N_(
        "The account still holds hours. Move them to the pool before closing it."
    ),
    "below-floor": N_("There are not enough hours in the account for this. Nothing was recorded."),
    "correcting-a-correction": N_(
        "A correction cannot be corrected again. Please record a new transfer instead."
    ),
    "invalid-limits": N_(
        "The lower limit must be zero or below and the upper limit zero or above, in whole minutes."
    ),
    "not-a-correction": N_("That transfer is not a correction of this one."),
    "not-a-reversal": N_(
        "A correction can only move hours back between the accounts of the original transfer."
    ),
    "occurred-in-future": N_(
        "Help cannot be recorded before it has happened. Please check the date and time."
    ),
    "over-correction": N_("A correction cannot take back more than the original transfer moved."),
    "partial-group-correction": N_(
        "A transfer between more than two accounts can only be corrected as a whole."
    ),
    "same-account": N_("The same account cannot be on both sides. Please choose someone else."),
    "system-account": N_("The community and pool accounts cannot be changed or closed."),
    "too-few-legs": N_("A transfer needs at least two accounts."),
    "transfer-not-found": N_("That transfer could not be found."),
    "unbalanced-transfer": N_(
        "The hours taken out and put in must be the same. Nothing was recorded."
    ),
    # Exchanges: help given, confirmed, disputed and resolved.
    "adjusted-minutes-mismatch": N_(
        "Please give one number of minutes for each person who was helped."
    ),
    "already-confirmed": N_(
        "This help has already been confirmed. If something is wrong, you can dispute it."
    ),
    "already-resolved": N_("A social worker has already settled this dispute."),
    "dispute-window-closed": N_(
        "The time to dispute this help has passed. Please ask a social worker, who can still "
        "correct it."
    ),
    "duplicate-pair": N_("Each helper and person helped can be named together only once."),
    "exchange-awaiting-confirmation": N_(
        "This help is still waiting to be confirmed, so this cannot be done yet."
    ),
    "exchange-cancelled": N_(
        "This help record was cancelled, so nothing more can be done with it."
    ),
    "exchange-disputed": N_("This help is under dispute. A social worker will look into it."),
    "exchange-expired": N_(
        "This help was not confirmed in time and has expired. The helper can record it again."
    ),
    "exchange-not-found": N_("That help record could not be found."),
    "exchange-settled": N_(
        "This help is already confirmed and settled, so this cannot be done now."
    ),
    "exchange-withdrawn": N_(
        "The helper has withdrawn this record, so nothing more can be done with it."
    ),
    "hold-needs-coordinator": N_(
        "These hours have already been used, so they cannot be held back here. Please ask a social"
        " worker."
    ),
    "invalid-exchange-rules": N_("Each exchange rule must be a whole number above zero."),
    "minutes-only-when-adjusting": N_("Give minutes only when you adjust them."),
    "mixed-group": N_(
        "A group record is one helper for several people, or several helpers for one person."
    ),
    "no-pairs": N_("Please say who helped whom."),
    "not-a-party": N_("Only the helper or the person helped can dispute this help."),
    "not-a-provider": N_("Only the person who gave this help can withdraw it."),
    "not-a-receiver": N_("Only the person who received this help can confirm it."),
    "not-the-provider": N_("You can record only help that you gave yourself."),
    "not-yet-expired": N_("This help still has time left to be confirmed."),
    "nothing-adjusted": N_(
        "These are the minutes already recorded. To keep them, uphold the record instead."
    ),
    "over-exchange-maximum": N_(
        "That is more time than one help record may carry. Please record longer help as several "
        "records."
    ),
    "receiver-required": N_("Please choose the person you are confirming for."),
    "self-exchange": N_("Nobody can exchange help with themselves. Please choose someone else."),
    # Listings: the board of offers and requests, and its categories.
    "category-exists": N_(
        "There is already a category with this code. Please choose another code."
    ),
    "category-name-required": N_("Please give the category's name in both Chinese and English."),
    "category-not-found": N_("That category could not be found."),
    "category-retired": N_("This category is no longer in use. Please choose another one."),
    "invalid-category-code": N_(
        "A category code is 2 to 32 lower-case letters, digits or dashes, starting with a letter."
    ),
    "listing-closed": N_("This listing is already closed."),
    "listing-not-found": N_("That listing could not be found. It may have been closed."),
    "not-your-listing": N_("Only the person who posted this listing can close it."),
    "title-required": N_("Please say in a few words what help this is."),
    "unknown-category": N_("That category does not exist. Please choose one from the list."),
    # Pool: donations to it and grants from it.
    "donation-over-balance": N_(
        "You can donate only hours you have earned, not hours you would owe."
    ),
    "pool-insufficient": N_("The pool does not hold that many hours. Please grant fewer."),
    # Volunteers: the registry, trainings, awards and evaluations.
    "attendee-unclear": N_(
        "Someone listed is not exactly one registered volunteer. Please write their member "
        "number, or a name only one volunteer has."
    ),
    "already-a-volunteer": N_("This resident is already a volunteer. Change their status instead."),
    "award-incomplete": N_("Please give the award's name and who gave it."),
    "consent-required": N_("Please record which version of the notice the volunteer agreed to."),
    "duplicate-attendee": N_("Each volunteer can be listed only once for a training."),
    "invalid-categories": N_("Each service category is 1 to 40 characters, without the | sign."),
    "invalid-skills": N_("Each skill is 1 to 40 characters, without the | sign."),
    "invalid-stars": N_("A star rating is from 1 to 5 stars."),
    "no-attendees": N_("Please name the volunteers who attended."),
    "status-unchanged": N_("The volunteer already has this status."),
    "training-incomplete": N_("Please give the training's name and its organiser."),
    "volunteer-left": N_("This volunteer has left, so no more service can be recorded for them."),
    "volunteer-not-found": N_("That volunteer could not be found."),
    "volunteer-paused": N_(
        "This volunteer is paused. Make them active again before recording service."
    ),
    # Hours: service-hour entries, their approval, amendment and import.
    "activity-required": N_("Please give the activity's name."),
    "category-required": N_("Please give the service category."),
    "entry-approved": N_("This entry is already approved. To change it, amend it with a reason."),
    "entry-not-found": N_("That service-hour entry could not be found."),
    "entry-rejected": N_("This entry was rejected, so this cannot be done now."),
    "entry-submitted": N_("This entry is still waiting for approval, so this cannot be done yet."),
    "entry-voided": N_("This entry was voided, so nothing more can be done with it."),
    "import-columns-missing": N_(
        "The list's first line must name all the columns. Please use the station's template."
    ),
    "malformed-row": N_(
        "This line could not be read. Check that no column is empty and that the date, start time "
        "and minutes are written correctly."
    ),
    "not-utf8": N_("Please save the list as a CSV file in UTF-8 and try again."),
    "not-your-entry": N_("You can record only your own service."),
    "nothing-amended": N_("This is what the entry already says. Nothing was changed."),
    "organiser-required": N_("Please give who organised the service."),
    "over-entry-maximum": N_(
        "One entry can hold only so many hours. Please split longer service into several entries."
    ),
    "requester-required": N_("Please say who asked for this change."),
    "responsible-required": N_("Please give the person responsible."),
    "volunteer-required": N_("Please choose the volunteer whose service this is."),
    # Certificates: proof of service and its verification code.
    "certificate-not-found": N_(
        "No certificate has this verification code. Please check the code."
    ),
    "nothing-to-certify": N_("There is no approved service in this period to certify."),
    "recording-body-required": N_("Please give the organisation that recorded the service."),
    # Motions: support, admission, amendments and their lifecycle.
    "already-supported": N_("You already support this motion."),
    "amending-a-settled-motion": N_(
        "This motion has already been decided, so it can no longer be amended."
    ),
    "amendments-pending": N_("Please settle this motion's amendments before the vote."),
    "motion-incomplete": N_("A motion needs a title and what it proposes."),
    "motion-not-found": N_("That motion could not be found."),
    "not-rescindable": N_(
        "Only an adopted motion that is not yet done or cancelled can be rescinded."
    ),
    "not-the-mover": N_("Only the person who proposed this motion can withdraw it."),
    "not-yet-decided": N_(
        "Only a motion that has already been decided can be reconsidered or rescinded."
    ),
    "own-motion": N_("You proposed this motion, so you cannot second it yourself."),
    "parent-vote-open": N_(
        "The motion this would amend is being voted on, so it can no longer be amended."
    ),
    "seconding-closed": N_("The time to support this motion is over."),
    "seconding-open": N_(
        "This motion still has time to gather support. Please wait until that time ends."
    ),
    # A motion's status, when what was asked is not possible in it.
    "motion-admitted": N_(
        "This motion is admitted but not yet on a meeting's agenda, so this cannot be done yet."
    ),
    "motion-adopted": N_("This motion has already been adopted."),
    "motion-cancelled": N_(
        "Carrying out this motion was cancelled, so nothing more can be done with it."
    ),
    "motion-declined": N_("The council declined this motion, so nothing more can be done with it."),
    "motion-done": N_("This motion has been carried out, so nothing more can be done with it."),
    "motion-implementing": N_("This motion is already being carried out."),
    "motion-lapsed": N_("This motion did not gather enough support in time and has lapsed."),
    "motion-no-quorum": N_(
        "Too few members voted on this motion for a decision, so nothing more can be done with it."
    ),
    "motion-rejected": N_("This motion was voted down, so nothing more can be done with it."),
    "motion-scheduled": N_("This motion is on a meeting's agenda and waiting for its vote."),
    "motion-seconded": N_(
        "This motion is waiting for the council to admit it, so this cannot be done yet."
    ),
    "motion-stalled": N_("Carrying out this motion has stalled, so this cannot be done now."),
    "motion-submitted": N_("This motion is still gathering support, so this cannot be done yet."),
    "motion-voting": N_("This motion is being voted on now, so this cannot be done."),
    "motion-withdrawn": N_("The mover withdrew this motion, so nothing more can be done with it."),
    # Meetings, votes and the council's rules.
    "agenda-mismatch": N_("Please arrange the motions already on the agenda, each once."),
    "not-on-agenda": N_("That motion is not on this meeting's agenda any more. Please reload."),
    "ballot-box-destroyed": N_(
        "This vote has been counted, so its ballots can no longer be opened."
    ),
    "duplicate-member": N_("Each council member can be listed only once."),
    "invalid-quorum": N_("A quorum is a number of people, zero or more, and a share from 0 to 1."),
    "invalid-seconding": N_("Seconding needs zero or more supporters and at least one day."),
    "meeting-closed": N_("This meeting is closed, so it can no longer be changed."),
    "invalid-owner": N_("Please choose the owner from the staff list."),
    "unknown-owner": N_("That staff member could not be found. Please choose from the list."),
    "not-an-owner": N_("The owner must be an active coordinator or council officer."),
    "owner-unchanged": N_("This is already the motion's owner. Please choose someone else."),
    "meeting-not-started": N_(
        "The meeting has not begun yet. Open the vote once the meeting is under way."
    ),
    "attendance-not-recorded": N_(
        "Record who is present at the meeting first: quorum is counted from the attendance."
    ),
    "meeting-incomplete": N_("Please give the meeting a title and a place."),
    "meeting-not-found": N_("That meeting could not be found."),
    "nobody-entitled": N_("Please name the council members entitled to vote at this meeting."),
    "not-a-council-member": N_(
        "Some of those named are not council members entitled at this meeting."
    ),
    "not-entitled": N_("You are not entitled to vote on this motion."),
    "not-present": N_(
        "Only members present at the meeting can vote. Please ask the secretary to record you as "
        "present."
    ),
    "not-scheduled": N_("Please put the motion on a meeting's agenda first."),
    "rules-unchanged": N_("These are the rules already in force. Nothing was changed."),
    "same-vote": N_("That is already your vote."),
    "vote-already-cast": N_("You have already voted, and this vote does not allow changes."),
    "voting-not-open": N_("Voting on this motion is not open."),
    # Each station has its own council (issue 17).
    "another-stations-council": N_(
        "This belongs to another station's council. Each station's council takes only its own "
        "residents' motions."
    ),
    "entitled-elsewhere": N_(
        "Some of those named live at another station. Only the station's own residents vote at "
        "its council."
    ),
    "owner-elsewhere": N_(
        "This person works at another station. Please name someone of the motion's station."
    ),
    # Implementation: who carries an adopted motion out, progress and milestones.
    "invalid-outcome": N_("Carrying out a motion ends as done, stalled or cancelled."),
    "invalid-progress": N_("Progress is a whole percentage from 0 to 100."),
    "milestone-exists": N_("There is already a milestone with this name."),
    "milestone-name-required": N_("Please name the milestone."),
    "milestone-reached": N_("This milestone is already reached."),
    "not-in-implementation": N_(
        "Only an adopted motion with someone carrying it out has progress to report."
    ),
    "not-the-owner": N_("Only the person carrying out this motion can report its progress."),
    "owner-required": N_("Please name who will carry out the motion."),
    "unknown-milestone": N_("That milestone could not be found."),
    # Identity: staff and member accounts, consent and personal data, kiosks, sign-in.
    "council-title": N_(
        "Council officers need the title of chair or secretary; other staff have no title."
    ),
    "inactive": N_("This account is no longer active. Please ask the station staff."),
    "kiosk-not-found": N_("That kiosk could not be found."),
    "kiosk-retired": N_("This kiosk has already been retired."),
    "member-erased": N_("This person's personal details have been erased."),
    "member-not-found": N_("That member could not be found. Please check the member number."),
    "no-consent": N_("There is no consent to withdraw."),
    "no-member-number": N_("No free member number was found just now. Please try again."),
    "not-a-staff-role": N_("Please choose one of the staff roles."),
    "notice-version-required": N_(
        "Please record which version of the privacy notice the resident agreed to."
    ),
    "pin-locked": N_(
        "Too many wrong PINs. This member number is locked for a while; please try again later or "
        "ask the station staff."
    ),
    "not-your-motion": N_("You can propose motions only as yourself."),
    "mover-required": N_("Please give the member number of the resident whose motion this is."),
    "setup-code-expired": N_(
        "This setup code was already used or has expired. Please ask the station's social worker "
        "for a new one."
    ),
    "purpose-required": N_("Please say why you are opening this person's details."),
    "staff-inactive": N_("This staff account is no longer active."),
    "staff-not-found": N_("That staff account could not be found."),
    "still-active": N_(
        "Deactivate the member first (this closes their account), then erase their details."
    ),
    "unknown-kiosk": N_(
        "This screen is not a registered kiosk, or it has been retired. Please ask the station "
        "staff."
    ),
    "username-taken": N_("This username is taken. Please choose another."),
    "weak-password": N_("The password is too short. Please choose a longer one."),
    "wrong-credentials": N_("Sign-in did not work. Please check what you entered and try again."),
    "default-station": N_("The first station cannot be closed."),
    "same-station": N_("The member already belongs to that station."),
    "scope-incomplete": N_(
        "Please name the station, or the street and district, or the district the account "
        "works across."
    ),
    "scope-unchanged": N_("The account already works there."),
    "station-closed": N_("That station is closed: nothing new can be recorded there."),
    "station-code": N_("A station code is 1 to 32 letters, digits or hyphens, such as xh-01."),
    "station-code-taken": N_("There is already a station with this code. Please choose another."),
    "station-not-found": N_("That station could not be found."),
    "station-place": N_(
        "Please give the station's name, and the street and district it belongs to."
    ),
    "station-required": N_("You work across several stations: please choose the station."),
}

_NO_SUCH_PAGE = N_("There is no such page. Please start again from the start page.")
_AGAINST_THE_RULES = N_("This is not allowed by the station's rules. Nothing was recorded.")
# When a code has no sentence of its own, what kind of failure it was still says something.
_BY_KIND: tuple[tuple[type[Exception], str], ...] = (
    (
        ConcurrentUpdate,
        N_("Someone else changed the same thing at the same moment. Please try again."),
    ),
    (ReadModelBehind, N_("Your change is saved but not shown yet. Please wait a moment.")),
    (
        ReadModelFailing,
        N_(
            "Your change is saved, but a fault keeps this page from showing it. Please tell the "
            "staff."
        ),
    ),
    (
        PositionAheadOfStore,
        N_("This link points past anything recorded. Please start again from the start page."),
    ),
    (PersistenceError, N_("The system is busy right now. Please try again in a moment.")),
    (SignInRefused, N_("Sign-in did not work. Please check your number and PIN.")),
    (NotAuthorizedException, N_("Please sign in first.")),
    (PermissionDeniedException, N_("This is not something your account can do.")),
    (NotYours, N_("This is not something your account can do.")),
    (ValidationException, N_("Some of what was entered is not valid. Please check and try again.")),
    (NotFoundException, _NO_SUCH_PAGE),
    (MethodNotAllowedException, _NO_SUCH_PAGE),
    (NotFound, N_("That could not be found. It may have been removed.")),
    (RuleViolated, _AGAINST_THE_RULES),
)
_UNEXPECTED = N_("Something went wrong. Nothing was recorded. Please ask the station staff.")


def code_of(error: Exception) -> str:
    if isinstance(error, RuleViolated | NotFound | SignInRefused):
        return error.code
    if isinstance(error, HTTPException):
        return f"http-{error.status_code}"
    return type(error).__name__


def explain(error: Exception) -> str:
    """The sentence to show for ``error``, translated."""
    general = next((text for kind, text in _BY_KIND if isinstance(error, kind)), _UNEXPECTED)
    return explain_code(code_of(error), otherwise=general)


def explain_code(code: str, otherwise: str = _AGAINST_THE_RULES) -> str:
    """The sentence for a refusal known only by its code, translated: a bulk command (approving
    a page of entries, importing an attendance list) reports each item's refusal that way."""
    return gettext(BY_CODE.get(code, otherwise))
