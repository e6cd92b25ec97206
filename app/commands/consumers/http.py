"""The consumers module's command endpoint."""

from __future__ import annotations

from app.commands.consumers import handlers
from app.commands.consumers.handlers import RegisterConsumer
from app.infra.web.commands import command

routes = [
    command(
        "POST",
        "/consumers",
        RegisterConsumer,
        handlers.register_consumer,
        status=201,
        one_statement=True,
        operation_id="registerConsumer",
        summary="Register a consumer",
        description="`credit_limit` bounds what the consumer's authorized, unsettled orders may add up to (default 1000.00).",
        example={"name": "Ada", "credit_limit": "250.00"},
    ),
]
