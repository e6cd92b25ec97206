"""The refusals a domain rule or a handler can raise: plain exceptions with no HTTP in
them. The edge maps each kind to a problem response in one table
(app/infra/web/problems.py)."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """`detail` says why, for a person; `extra` are machine-readable members of the answer
    (the id that was not found, the current version...)."""

    def __init__(self, detail: str, **extra: Any) -> None:
        assert not extra.keys() & {"type", "title", "status", "detail", "instance"}, extra
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(Refusal):
    """An id in the path, or one the command refers to, does not exist."""


class Conflict(Refusal):
    """The command does not fit the current state (an overlap, a stale version, an
    illegal transition)."""


class Invalid(Refusal):
    """Well-formed input that breaks a rule stated as validation; `errors` lists each
    offending field as {"field", "message"}."""

    def __init__(self, detail: str, errors: list[dict[str, str]], **extra: Any) -> None:
        super().__init__(detail, errors=errors, **extra)


def invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message}])
