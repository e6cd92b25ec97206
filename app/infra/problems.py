"""Errors that become RFC 9457 problem details. Raised by domain code and handlers."""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        assert not extra.keys() & {"type", "title", "status", "detail", "instance"}, extra
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(Problem):
    pass


class NotFound(Problem):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(Problem):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class Unprocessable(Problem):
    """Well-formed input that breaks a rule stated as validation."""

    status = 422
    title = "Unprocessable content"
    type_slug = "validation"


class PreconditionFailed(Problem):
    status = 412
    title = "Consistency position not reached"
    type_slug = "position-not-reached"
