"""The orders command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.orders import http, process
from app.infra.modules import Module
from app.tags import ORDERS

module = Module("orders", tag=ORDERS, routes=http.routes, subscriptions=[process.subscription])
