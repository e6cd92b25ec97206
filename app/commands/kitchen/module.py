"""The kitchen command module: what it contributes to the app (listed in app/modules.py)."""

from __future__ import annotations

from app.commands.kitchen import http, process
from app.infra.modules import Module
from app.tags import KITCHEN

module = Module("kitchen", tag=KITCHEN, routes=http.routes, subscriptions=[process.subscription])
