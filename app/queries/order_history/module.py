"""The order_history view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.order_history import http, projector
from app.tags import ORDERS

module = Module("order_history", tag=ORDERS, routes=http.routes, subscriptions=[projector.subscription])
