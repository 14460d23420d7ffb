"""How the event store writes values, so that each one comes back with its exact type.

Python's json writes a StrEnum as a plain string and a tuple as a list, and cannot write a set
or a dict keyed by UUIDs at all. Read back, ``AccountKind.MEMBER`` would be the string
``"member"``: equal to it, but not it, so ``kind is AccountKind.MEMBER`` fails after a restart
that loads an account from its snapshot. ``TypedJSONTranscoder`` therefore tags every value
json would not give back as it was (an enum, a tuple, a set, a dict with keys other than
strings, a dataclass, and the value types registered below) with its type, at any depth, in
events and in snapshots alike. tests/integration/test_snapshots.py holds every aggregate of the
domain to it.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.certificate import CoveredEntry
from domain.council import VotingRules
from domain.exchange import Pair
from domain.hours import Service
from domain.ledger import Leg, Limits
from domain.provenance import Provenance

_AS_IS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list})


class _EnumByTopic(Transcoding):
    type = Enum
    name = "enum"

    def encode(self, obj: Enum) -> list[Any]:
        return [get_topic(type(obj)), obj.value]

    def decode(self, data: list[Any]) -> Enum:
        return resolve_topic(data[0])(data[1])  # type: ignore[no-any-return]


class _DataclassByTopic(Transcoding):
    """A value object with no transcoding of its own: its class and its fields."""

    type = object
    name = "dataclass"

    def encode(self, obj: Any) -> list[Any]:
        return [get_topic(type(obj)), {f.name: getattr(obj, f.name) for f in fields(obj)}]

    def decode(self, data: list[Any]) -> Any:
        return resolve_topic(data[0])(**data[1])


class _KeyedByAny(Transcoding):
    """A dict keyed by something other than strings (UUIDs, mostly), as key-value pairs."""

    type = dict
    name = "dict_pairs"

    def encode(self, obj: dict[Any, Any]) -> list[list[Any]]:
        return [[key, value] for key, value in obj.items()]

    def decode(self, data: list[list[Any]]) -> dict[Any, Any]:
        return {key: value for key, value in data}


class _Collection(Transcoding):
    """A tuple, set or frozenset, as the list of its items."""

    def __init__(self, kind: type[tuple[Any, ...] | set[Any] | frozenset[Any]]) -> None:
        self.type = kind
        self.name = kind.__name__

    def encode(self, obj: tuple[Any, ...] | set[Any] | frozenset[Any]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> Any:
        return self.type(data)


class _TimedeltaAsSeconds(Transcoding):
    type = timedelta
    name = "timedelta_s"

    def encode(self, obj: timedelta) -> list[int]:
        return [obj.days, obj.seconds, obj.microseconds]

    def decode(self, data: list[int]) -> timedelta:
        return timedelta(days=data[0], seconds=data[1], microseconds=data[2])


class _DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# The value objects written before the generic dataclass transcoding, each in the shape and
# under the name it has always had in the store.


class _FieldsAsList(Transcoding):
    """A value object written as the list of its fields, in order, under a name of its own."""

    def __init__(self, kind: type[Any], name: str) -> None:
        self.type = kind
        self.name = name

    def encode(self, obj: Any) -> list[Any]:
        return [getattr(obj, f.name) for f in fields(obj)]

    def decode(self, data: list[Any]) -> Any:
        return self.type(*data)


class _FieldsAsDict(_FieldsAsList):
    """A value object written as the dict of its fields, under a name of its own."""

    def encode(self, obj: Any) -> dict[str, Any]:  # type: ignore[override]
        return {f.name: getattr(obj, f.name) for f in fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:  # type: ignore[override]
        return self.type(**data)


_ENUM = _EnumByTopic()
_DATACLASS = _DataclassByTopic()


class TypedJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        for transcoding in (
            _ENUM,
            _DATACLASS,
            _KeyedByAny(),
            _Collection(tuple),
            _Collection(set),
            _Collection(frozenset),
            _TimedeltaAsSeconds(),
            _DateAsISO(),
            _FieldsAsDict(Provenance, "provenance"),
            _FieldsAsList(Leg, "leg"),
            _FieldsAsList(Limits, "limits"),
            _FieldsAsList(Pair, "pair"),
            _FieldsAsList(CoveredEntry, "covered_entry"),
            _FieldsAsDict(VotingRules, "voting_rules"),
            _FieldsAsDict(Service, "service"),
        ):
            self.register(transcoding)

    def encode(self, obj: Any) -> bytes:
        return super().encode(self._tagged(obj))

    def _tagged(self, obj: Any) -> Any:
        """``obj`` with every value json would not give back as it was wrapped as
        ``{"_type_": name, "_data_": ...}``, which ``JSONTranscoder`` decodes, innermost first."""
        kind = type(obj)
        if kind in _AS_IS:
            return obj
        if kind is list:
            return [self._tagged(item) for item in obj]
        if kind is dict and all(type(key) is str for key in obj):
            return {key: self._tagged(value) for key, value in obj.items()}
        transcoding = self._transcoding_for(obj)
        return {"_type_": transcoding.name, "_data_": self._tagged(transcoding.encode(obj))}

    def decode(self, data: bytes) -> Any:
        """What ``encode`` wrote. msgspec parses it several times faster than ``json`` with an
        object hook, and the tags are then undone in the same order (innermost first): reading
        the store is most of a replay's time. JSON ``msgspec`` refuses (``NaN``, which ``json``
        writes for a float that is not a number) goes the library's way."""
        try:
            parsed = msgspec.json.decode(data)
        except msgspec.DecodeError:
            return super().decode(data)
        return self._untagged(parsed)

    def _untagged(self, obj: Any) -> Any:
        """``obj`` with every ``{"_type_": name, "_data_": ...}`` decoded by its transcoding;
        containers are changed in place (they are fresh from the parser)."""
        kind = type(obj)
        if kind is dict:
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:  # a tag, most often
                data = obj["_data_"]
                if type(data) in _CONTAINERS:
                    data = self._untagged(data)
                transcoding = self.names.get(obj["_type_"])
                if transcoding is None:
                    return self._decode_obj(obj)  # the library's error for an unknown name
                return transcoding.decode(data)
            for key, value in obj.items():
                if type(value) in _CONTAINERS:
                    obj[key] = self._untagged(value)
        elif kind is list:
            for index, value in enumerate(obj):
                if type(value) in _CONTAINERS:
                    obj[index] = self._untagged(value)
        return obj

    def _transcoding_for(self, obj: Any) -> Transcoding:
        found = self.types.get(type(obj))
        if found is not None:
            return found
        if isinstance(obj, Enum):
            return _ENUM
        if is_dataclass(obj) and not isinstance(obj, type):
            return _DATACLASS
        raise TranscodingNotRegisteredError(
            f"Object of type {type(obj)} is not serializable. Please register a transcoding "
            "for it in services/store/transcoding.py."
        )


class _UUIDAsHex(UUIDAsHex):
    """eventsourcing's ``uuid_hex``, read by msgspec: ``UUID()`` parsing its text in Python
    was a tenth of reading the store, where every event holds a few."""

    def decode(self, data: str) -> UUID:
        return msgspec.convert(data, UUID)


def stored_event_transcoder() -> TypedJSONTranscoder:
    """The transcoder the event store is written and read with: ours, and the UUIDs, decimals
    and datetimes as eventsourcing's ``Application.register_transcodings`` writes them. The
    command side saves with it; the event log (services.messaging.eventlog) reads with it."""
    transcoder = TypedJSONTranscoder()
    for transcoding in (_UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder
