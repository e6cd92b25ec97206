"""The reservation_history view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.reservation_history import http, projector
from app.tags import RESERVATIONS

module = Module("reservation_history", tag=RESERVATIONS, routes=http.routes, subscriptions=[projector.subscription])
