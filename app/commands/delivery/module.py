"""The delivery command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.delivery import http, process
from app.infra.modules import Module
from app.roles import Role
from app.tags import DELIVERY

module = Module("delivery", tag=DELIVERY, routes=http.routes, subscriptions=[process.subscription], roles=[Role.COURIER])
