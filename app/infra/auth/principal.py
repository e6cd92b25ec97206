"""Who is calling: a token's `sub` and the roles it holds (API.md, "Who may do what")."""

from __future__ import annotations

from uuid import UUID

import msgspec

# A role is a name in a token's `roles`. Infra knows one, admin (everything); the business
# roles, each owning the rows whose owner is the caller's sub, are the modules' (app/roles.py).
ADMIN = "admin"


class Principal(msgspec.Struct, frozen=True):
    sub: str
    roles: frozenset[str]

    @property
    def sees_all(self) -> bool:
        """An admin acts on and reads every row."""
        return ADMIN in self.roles

    def may_call(self, allowed: frozenset[str]) -> bool:
        return self.sees_all or bool(self.roles & allowed)

    def sub_as(self, role: str) -> str | None:
        """The caller's own id in `role`'s rows, or None when it does not hold `role`
        (so an SQL `owner = $n` matches nothing)."""
        return self.sub if role in self.roles else None

    def id_as(self, role: str) -> UUID | None:
        """sub_as for the roles whose ids are UUIDs; None as well for a sub that is not one
        (it owns no row)."""
        sub = self.sub_as(role)
        if sub is None:
            return None
        try:
            return UUID(sub)
        except ValueError:
            return None

    def owns(self, role: str, owner: object) -> bool:
        """May act on (or read) a row of `role`'s kind whose owner is `owner`."""
        return self.sees_all or (owner is not None and self.sub_as(role) == str(owner))

    def actor(self) -> dict[str, object]:
        """Who acted, as recorded with the events a command appends."""
        return {"sub": self.sub, "roles": sorted(self.roles)}


# Every caller when auth is off (AUTH_DISABLED, or the embedded development database).
ANYONE = Principal("anonymous", frozenset({ADMIN}))
