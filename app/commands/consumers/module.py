"""The consumers command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.consumers import http
from app.infra.modules import Module
from app.roles import Role
from app.tags import CONSUMERS

module = Module("consumers", tag=CONSUMERS, routes=http.routes, roles=[Role.CONSUMER])
