"""The business roles a token may hold besides admin (API.md, "Who may do what"): each owns
the rows whose owner is the caller's `sub`. A module declares the roles it owns
(app/modules.py); command and query modules alike name them from here."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    USER = "user"  # sub = a reservations user_id
    CONSUMER = "consumer"  # sub = a consumer id
    RESTAURANT = "restaurant"  # sub = a restaurant id
    COURIER = "courier"  # sub = a courier id
