"""Identity's command handlers, by their command's type.

The handlers live by what they act on: ``staff``, ``members``, ``kiosks``, ``signin`` (a
resident at a kiosk) and ``privacy``; what the rest of the station reads of identity (a
member by id, whether a sign-in still holds, names opened on purpose) is in ``records``.
"""

from __future__ import annotations

from services.bus import Handler
from services.identity.commands import (
    ChangeStaffReach,
    ChoosePin,
    CreateStaffAccount,
    DeactivateMember,
    DeactivateStaff,
    ErasePersonalData,
    IssueSetupCode,
    MoveMemberHome,
    RecordConsent,
    RegisterKiosk,
    RegisterMember,
    ResetPin,
    RetireKiosk,
    SetStaffPassword,
    SignInAtKiosk,
)
from services.identity.kiosks import register_kiosk, retire_kiosk
from services.identity.members import (
    deactivate_member,
    issue_setup_code,
    move_member_home,
    register_member,
    reset_pin,
)
from services.identity.privacy import erase_member, record_consent
from services.identity.signin import choose_pin, kiosk_sign_in
from services.identity.staff import (
    change_staff_password,
    change_staff_reach,
    deactivate_staff,
    register_staff,
)

HANDLERS: dict[type, Handler] = {
    CreateStaffAccount: register_staff,
    SetStaffPassword: change_staff_password,
    DeactivateStaff: deactivate_staff,
    ChangeStaffReach: change_staff_reach,
    RegisterMember: register_member,
    IssueSetupCode: issue_setup_code,
    ResetPin: reset_pin,
    DeactivateMember: deactivate_member,
    MoveMemberHome: move_member_home,
    RegisterKiosk: register_kiosk,
    RetireKiosk: retire_kiosk,
    RecordConsent: record_consent,
    ErasePersonalData: erase_member,
    SignInAtKiosk: kiosk_sign_in,
    ChoosePin: choose_pin,
}
