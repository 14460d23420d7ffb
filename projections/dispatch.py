"""How a read model picks its handler for an event: by the payload's type.

Every read model sees every event and shows only some, so this runs for each event and each
model: it must cost little. ``by_payload`` is ``functools.singledispatchmethod`` (whose
registry says which types a model shows, ``shown``) without its price on Python 3.11, where
each call copied the function's metadata onto a new wrapper: a quarter of a replay's time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, singledispatchmethod
from typing import Any


class by_payload(singledispatchmethod):
    def __get__(self, obj: Any, cls: type | None = None) -> Callable[..., Any]:
        dispatch = self.dispatcher.dispatch
        return lambda payload, *args: dispatch(payload.__class__)(obj, payload, *args)


@cache
def shown(model_class: type) -> frozenset[str] | None:
    """The event types a read model of ``model_class`` does something with: those its ``_on``
    (``by_payload``) handles; None, every type. The store hands a model only these: the
    skipping, a payload decoded and dispatched for each model, was most of a replay's time."""
    on = model_class.__dict__.get("_on")
    if not isinstance(on, singledispatchmethod):
        return None
    return frozenset(kind.__name__ for kind in on.dispatcher.registry if kind is not object)
