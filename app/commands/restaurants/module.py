"""The restaurants command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.restaurants import http
from app.infra.modules import Module
from app.roles import Role
from app.tags import RESTAURANTS

module = Module("restaurants", tag=RESTAURANTS, routes=http.routes, roles=[Role.RESTAURANT])
