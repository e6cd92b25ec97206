"""What a module contributes to the one app: its routes (under its OpenAPI tag), its
subscriptions (views or process managers), the roles it owns, and its purges. `app/modules.py` lists
every module; the HTTP app, the subscription host, the OpenAPI document and the tokens'
known roles are all read from that list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Tag
from litestar.types import ControllerRouterHandler

from app.infra.purger import Purge
from app.infra.subscriptions import Subscription


@dataclass(frozen=True)
class Module:
    name: str
    tag: Tag | None = None  # its routes' group in the OpenAPI document (several modules may share one)
    routes: Sequence[ControllerRouterHandler] = ()
    subscriptions: Sequence[Subscription] = ()
    roles: Sequence[str] = ()  # roles whose rows are this module's (a token's sub owns them)
    purges: Sequence[Purge] = ()  # what of its tables the purger removes, and when

    def __post_init__(self) -> None:
        # The tag goes on each handler, not on a Router of the module's: modules share paths
        # (POST /rooms is the reservations module's, GET /rooms the rooms view's), and a
        # Router each would give a path two OPTIONS handlers.
        if self.tag is not None:
            for handler in self.routes:
                if isinstance(handler, HTTPRouteHandler):
                    handler.tags = [self.tag.name]
