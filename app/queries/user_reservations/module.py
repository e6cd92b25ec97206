"""The user_reservations view: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.infra.modules import Module
from app.queries.user_reservations import http, projector
from app.tags import RESERVATIONS

module = Module("user_reservations", tag=RESERVATIONS, routes=http.routes, subscriptions=[projector.subscription])
