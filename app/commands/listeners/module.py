"""The listeners command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.listeners import http, process
from app.infra.modules import Module
from app.tags import LISTENERS

module = Module("listeners", tag=LISTENERS, routes=http.routes, subscriptions=[process.subscription])
