"""What a page's form does with the command it gives: asks first, when the command moves
time credits or cannot be undone, and only once the domain would accept it (a dry run, so a
refusal comes before any question); then, confirmed, gives it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from inspect import Parameter, Signature
from typing import Annotated, Any, Protocol, TypeVar
from uuid import UUID

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath

from services.bus import Bus, Caller, Command, Receipt
from services.composition.runtime import Backbone
from services.web.context import backbone

Question = TypeVar("Question")
Then = TypeVar("Then")


def asked_first(
    bus: Bus,
    caller: Caller,
    command: Command,
    *,
    confirmed: bool,
    question: Callable[[], Question],
    then: Callable[[Receipt], Then],
) -> Question | Then:
    """Until the form comes back ``confirmed``: ``question``, once the domain would accept the
    command (``asking``). Once confirmed: the command, then ``then`` with its receipt."""
    if not confirmed:
        return asking(bus, caller, command, question)
    return then(bus.handle_from_thread(command, caller))


def asking(
    bus: Bus, caller: Caller, command: Command, question: Callable[[], Question]
) -> Question:
    """``question`` (the confirmation page), once the dry run says the domain would accept
    ``command``; a command that writes outside the store is not dry-run: it refuses only once
    confirmed, before it writes."""
    if not command.writes_outside_the_store:
        bus.check(command, caller)
    return question()


class Button(msgspec.Struct):
    """What a form that is only a button sends: nothing but the record its path names
    (``CloseMeeting.at(BUTTON, meeting_id=meeting_id)``)."""


BUTTON = Button()


class CommandForm(Protocol):
    """A page's form that gives a command, about the record its path names if it names one
    (one that asks first also has ``confirmed``, which comes back with the "yes")."""

    def command(self, *record_id: UUID) -> Command: ...


@dataclass(frozen=True)
class Sent:
    """A form as it was sent: the request, the record its path names (if it names one), the
    form, and who sent it (for the access log of a page that names people)."""

    request: Request[Any, Any, Any]
    record_id: Any  # a UUID, or None where the path names no record
    form: Any
    caller: Caller

    @property
    def station(self) -> Backbone:
        """What a page is drawn with besides the read side: names, settings, the clock."""
        return backbone(self.request.app.state)

    def command(self) -> Command:
        """The command the form gives (about the record, if the path names one)."""
        return self.form.command() if self.record_id is None else self.form.command(self.record_id)


# Before a command that asks first: its confirmation page.
Ask = Callable[[Sent], Response[Any]]
# After a command: the page (or the part of it) that shows its effect.
Answer = Callable[[Sent, Receipt], Response[Any]]


def action(
    path: str,
    form: type[CommandForm],
    answer: Answer | None,
    *,
    ask: Ask | None = None,
    command: Callable[[Sent], Command] = Sent.command,
    opt: dict[str, Any],
    **route: Any,
) -> HTTPRouteHandler:
    """``POST path``: the command ``form`` gives (about the record of the path's
    ``{…:uuid}`` parameter, if it has one; ``command``, when the form needs more to give
    it), asked first when there is ``ask``, then ``answer``; without ``answer`` the route only
    asks (its "yes" posts to a route of its own, as the kiosk's do). For the routes that
    differ only in these; ``route``: the rest of the route's declaration."""
    records = re.findall(r"\{(\w+):uuid\}", path)
    assert len(records) <= 1, f"{path}: one record at the most"

    def give(
        request: Request[Any, Any, Any], data: Any, bus: Bus, caller: Caller, **ids: UUID
    ) -> Response[Any]:
        sent = Sent(request, ids[records[0]] if records else None, data, caller)
        given = command(sent)
        if ask is None:
            assert answer is not None, f"{path}: neither asks nor answers"
            return answer(sent, bus.handle_from_thread(given, caller))
        if answer is None:
            return asking(bus, caller, given, lambda: ask(sent))
        return asked_first(
            bus,
            caller,
            given,
            confirmed=data.confirmed,
            question=lambda: ask(sent),
            then=lambda receipt: answer(sent, receipt),
        )

    hints = {
        "request": Request[Any, Any, Any],
        **{record: FromPath[UUID] for record in records},
        "data": Annotated[form, Body(media_type=RequestEncodingType.URL_ENCODED)],
        "bus": NamedDependency[Bus],
        "caller": NamedDependency[Caller],
    }
    _declare(give, f"give_{form.__name__.lower()}", hints)
    return post(path, opt=opt, sync_to_thread=True, **route)(give)


def _declare(handler: Callable[..., Response[Any]], name: str, hints: dict[str, Any]) -> None:
    """Litestar reads a handler's signature for what to give it: ``handler``'s is written as
    ``hints`` (the form's own type, the path's own parameter), keyword by keyword."""
    handler.__signature__ = Signature(  # type: ignore[attr-defined]
        [Parameter(key, Parameter.KEYWORD_ONLY, annotation=hint) for key, hint in hints.items()],
        return_annotation=Response[Any],
    )
    handler.__annotations__ = {**hints, "return": Response[Any]}
    handler.__name__ = handler.__qualname__ = name
