"""The published language: every event any module emits, as immutable msgspec Structs.

An event's `type` tag is its stable name in the outbox; renaming one is a migration.
`VERSION` is the payload schema version stored beside it.
"""

from __future__ import annotations

import functools
import importlib
from typing import ClassVar

import msgspec


# gc=False (here and on the structs inside events): events are frozen values that never
# refer back to themselves, so the garbage collector need not track them. A rebuild holds
# thousands in memory at a time; tracked, the collections they set off took more than half
# of decoding's time (BENCHMARKS.md, "Figures behind the code's choices").
class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", gc=False):
    VERSION: ClassVar[int] = 1
    # The field naming the aggregate the event belongs to (stored as outbox.stream_id).
    STREAM: ClassVar[str]

    def stream_id(self) -> str:
        return str(getattr(self, self.STREAM))


_REGISTRY: dict[str, type[Event]] = {}


def register(*classes: type[Event]) -> None:
    for cls in classes:
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str), f"{cls.__name__} needs a string tag"
        if tag in _REGISTRY and _REGISTRY[tag] is not cls:
            raise ValueError(f"event type {tag!r} registered twice")
        _REGISTRY[tag] = cls


def event_type(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def event_class(type_name: str) -> type[Event]:
    if type_name not in _REGISTRY:
        # A tag is "<module>.<event>": the module under app/events defines it.
        importlib.import_module(f"app.events.{type_name.partition('.')[0]}")
    return _REGISTRY[type_name]


@functools.cache
def published() -> dict[str, type[Event]]:
    """Every event type of every module, by type name (what listeners may subscribe to)."""
    import pkgutil

    import app.events as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"app.events.{module.name}")
    return dict(sorted(_REGISTRY.items()))
