"""The reservations command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.reservations import http
from app.infra.modules import Module
from app.roles import Role
from app.tags import RESERVATIONS

module = Module("reservations", tag=RESERVATIONS, routes=http.routes, roles=[Role.USER])
