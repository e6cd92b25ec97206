"""The groups of the OpenAPI document: several modules share one (the rooms view and the
popularity view are both "rooms")."""

from __future__ import annotations

from litestar.openapi.spec import Tag

ROOMS = Tag(name="rooms", description="Rooms, and which were popular")
RESERVATIONS = Tag(name="reservations", description="Reserve a room for a period, change or cancel it, see your own history")
CONSUMERS = Tag(name="consumers", description="Consumers with a credit limit, and their order history")
RESTAURANTS = Tag(name="restaurants", description="Restaurants, their menus, and which are available for a place and time")
ORDERS = Tag(name="orders", description="Orders and the order saga (payment, kitchen, delivery)")
KITCHEN = Tag(name="kitchen", description="Kitchen tickets: accept, preparing, ready")
DELIVERY = Tag(name="delivery", description="Couriers and deliveries")
LISTENERS = Tag(name="listeners", description="Event listeners registered at run time: webhooks and NATS, in commit order")
OPERATIONS = Tag(name="operations", description="Health, readiness and metrics")
