"""Authentication (bearer tokens) and the principal every command and read is given."""

from app.infra.auth.principal import ADMIN, ANYONE, Principal
from app.infra.auth.tokens import Tokens, Unauthenticated

__all__ = ["ADMIN", "ANYONE", "Principal", "Tokens", "Unauthenticated"]
