"""The listeners command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.listeners import http, process, store
from app.infra.modules import Module
from app.infra.purger import Purge
from app.tags import LISTENERS

PURGES = [
    Purge("listener_attempts", store.OLD_ATTEMPTS, lambda settings: (settings.listener_attempts_retention_s,)),
    Purge("deleted_listeners_attempts", store.DELETED_LISTENERS_ATTEMPTS),
    Purge("deleted_listeners", store.DELETED_LISTENERS),
]

module = Module("listeners", tag=LISTENERS, routes=http.routes, subscriptions=[process.subscription], purges=PURGES)
