"""What a page's form does with the command it gives: asks first, when the command moves
time credits or cannot be undone, and only once the domain would accept it (a dry run, so a
refusal comes before any question); then, confirmed, gives it."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    """Until the form comes back ``confirmed``: the dry run, then ``question`` (the
    confirmation page). Once confirmed: the command, then ``then`` with its receipt."""
    if not confirmed:
        bus.check(command, caller)
        return question()
    return then(bus.handle_from_thread(command, caller))


class Button(msgspec.Struct):
    """What a form that is only a button sends: nothing but the record its path names
    (``CloseMeeting.at(BUTTON, meeting_id=meeting_id)``)."""


BUTTON = Button()


class CommandForm(Protocol):
    """A page's form that gives a command about the record its path names (one that asks
    first also has ``confirmed``, which comes back with the "yes")."""

    def command(self, record_id: UUID, /) -> Command: ...


# After a command: the page (or the part of it) that shows its effect, from the request, the
# id of the record the path names and the command's receipt.
Answer = Callable[[Request[Any, Any, Any], UUID, Receipt], Response[Any]]
# Before a command that asks first: its confirmation page, from the request, the record's id
# and the form as it was sent.
Ask = Callable[[Request[Any, Any, Any], UUID, Any], Response[Any]]


def action(
    path: str,
    form: type[CommandForm],
    answer: Answer,
    *,
    ask: Ask | None = None,
    opt: dict[str, Any],
    **route: Any,
) -> HTTPRouteHandler:
    """``POST path``: the command ``form`` gives about the record the path names (its one
    ``{…:uuid}`` parameter), asked first when there is ``ask``, then ``answer``. For the
    routes that differ only in these; ``route``: the rest of the route's declaration."""
    (record,) = re.findall(r"\{(\w+):uuid\}", path)

    def give(
        request: Request[Any, Any, Any], data: Any, bus: Bus, caller: Caller, **ids: UUID
    ) -> Response[Any]:
        record_id = ids[record]
        command = data.command(record_id)
        if ask is None:
            return answer(request, record_id, bus.handle_from_thread(command, caller))
        return asked_first(
            bus,
            caller,
            command,
            confirmed=data.confirmed,
            question=lambda: ask(request, record_id, data),
            then=lambda receipt: answer(request, record_id, receipt),
        )

    # Litestar reads the handler's signature: it is written here with the form's own type
    # and the path's own parameter.
    hints = {
        "request": Request[Any, Any, Any],
        record: FromPath[UUID],
        "data": Annotated[form, Body(media_type=RequestEncodingType.URL_ENCODED)],
        "bus": NamedDependency[Bus],
        "caller": NamedDependency[Caller],
    }
    give.__signature__ = Signature(  # type: ignore[attr-defined]
        [Parameter(name, Parameter.KEYWORD_ONLY, annotation=hint) for name, hint in hints.items()],
        return_annotation=Response[Any],
    )
    give.__annotations__ = {**hints, "return": Response[Any]}
    give.__name__ = give.__qualname__ = f"give_{form.__name__.lower()}"
    return post(path, opt=opt, sync_to_thread=True, **route)(give)
