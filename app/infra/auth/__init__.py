"""Authentication (bearer tokens) and the principal every command and read is given."""

from app.infra.auth.principal import ANYONE, Principal, Role
from app.infra.auth.tokens import Tokens, Unauthenticated

__all__ = ["ANYONE", "Principal", "Role", "Tokens", "Unauthenticated"]
