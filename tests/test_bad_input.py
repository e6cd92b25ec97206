"""Bad input on every endpoint: an RFC 9457 problem with the right 4xx, never a 5xx,
and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from app.infra.db import Pool
from tests.helpers import add_room, reserve

UNKNOWN = "00000000-0000-7000-8000-000000000000"
GOOD_START, GOOD_END = "2027-05-01T09:00:00Z", "2027-05-01T10:00:00Z"


@pytest.fixture(scope="module")
async def existing(client: Any) -> dict[str, str]:
    room = await add_room(client, "Bad input room")
    reservation = (await reserve(client, room["id"], "bad-input", 1, 9, 10)).json()
    return {"room": room["id"], "reservation": reservation["id"]}


def cases() -> list[tuple[str, str, str, Any, dict[str, str], int]]:
    room = "{room}"
    res = "{reservation}"

    def r(**kw: Any) -> dict[str, Any]:
        return {"room_id": room, "user_id": "u", "start": GOOD_START, "end": GOOD_END, **kw}

    return [
        # id, method, path, json body (str = raw bytes), headers, status
        ("room-malformed-json", "POST", "/rooms", "{bad", {}, 400),
        ("room-array-body", "POST", "/rooms", "[]", {}, 400),
        ("room-name-wrong-type", "POST", "/rooms", {"name": 1, "capacity": 2}, {}, 400),
        ("room-capacity-missing", "POST", "/rooms", {"name": "a"}, {}, 400),
        ("room-capacity-string", "POST", "/rooms", {"name": "a", "capacity": "2"}, {}, 400),
        ("room-unknown-field", "POST", "/rooms", {"name": "a", "capacity": 2, "colour": "red"}, {}, 400),
        ("room-name-empty", "POST", "/rooms", {"name": "", "capacity": 2}, {}, 422),
        ("room-name-too-long", "POST", "/rooms", {"name": "x" * 201, "capacity": 2}, {}, 422),
        ("room-capacity-zero", "POST", "/rooms", {"name": "a", "capacity": 0}, {}, 422),
        (
            "room-key-too-long",
            "POST",
            "/rooms",
            {"name": "a", "capacity": 1},
            {"Idempotency-Key": "k" * 201},
            400,
        ),
        ("reserve-room-not-uuid", "POST", "/reservations", r(room_id="nope"), {}, 400),
        ("reserve-naive-start", "POST", "/reservations", r(start="2027-05-01T09:00:00"), {}, 400),
        ("reserve-start-not-a-time", "POST", "/reservations", r(start="tomorrow"), {}, 400),
        (
            "reserve-end-missing",
            "POST",
            "/reservations",
            {"room_id": room, "user_id": "u", "start": GOOD_START},
            {},
            400,
        ),
        ("reserve-end-before-start", "POST", "/reservations", r(end="2027-05-01T08:00:00Z"), {}, 422),
        ("reserve-end-equals-start", "POST", "/reservations", r(end=GOOD_START), {}, 422),
        ("reserve-user-empty", "POST", "/reservations", r(user_id=""), {}, 422),
        ("reserve-user-too-long", "POST", "/reservations", r(user_id="u" * 101), {}, 422),
        ("reserve-unknown-room", "POST", "/reservations", r(room_id=UNKNOWN), {}, 404),
        (
            "reserve-overlap",
            "POST",
            "/reservations",
            r(start="2027-01-01T09:30:00Z", end="2027-01-01T10:30:00Z"),
            {},
            409,
        ),
        ("change-unknown", "PATCH", f"/reservations/{UNKNOWN}", {"start": GOOD_START}, {}, 404),
        ("change-path-not-uuid", "PATCH", "/reservations/nope", {"start": GOOD_START}, {}, 404),
        ("change-nothing", "PATCH", f"/reservations/{res}", {}, {}, 422),
        ("change-naive", "PATCH", f"/reservations/{res}", {"start": "2027-05-01T09:00:00"}, {}, 400),
        (
            "change-version-string",
            "PATCH",
            f"/reservations/{res}",
            {"start": GOOD_START, "expected_version": "1"},
            {},
            400,
        ),
        (
            "change-end-before-start",
            "PATCH",
            f"/reservations/{res}",
            {"start": GOOD_END, "end": GOOD_START},
            {},
            422,
        ),
        (
            "change-end-before-kept-start",
            "PATCH",
            f"/reservations/{res}",
            {"end": "2027-01-01T08:00:00Z"},
            {},
            422,
        ),
        (
            "change-unknown-field",
            "PATCH",
            f"/reservations/{res}",
            {"start": GOOD_START, "user_id": "x"},
            {},
            400,
        ),
        ("change-unknown-room", "PATCH", f"/reservations/{res}", {"room_id": UNKNOWN}, {}, 404),
        (
            "change-stale-version",
            "PATCH",
            f"/reservations/{res}",
            {"start": GOOD_START, "expected_version": 7},
            {},
            409,
        ),
        ("cancel-unknown", "POST", f"/reservations/{UNKNOWN}/cancel", None, {}, 404),
        ("list-bad-status", "GET", "/users/u/reservations?status=maybe", None, {}, 400),
        ("list-page-size-zero", "GET", "/users/u/reservations?page_size=0", None, {}, 400),
        ("list-page-size-101", "GET", "/users/u/reservations?page_size=101", None, {}, 400),
        ("list-bad-cursor", "GET", "/users/u/reservations?cursor=%25%25", None, {}, 400),
        ("history-bad-cursor", "GET", "/users/u/reservation-history?cursor=bm90LWpzb24", None, {}, 400),
        ("rooms-bad-cursor", "GET", "/rooms?cursor=WzEsMl0", None, {}, 400),
        ("popularity-no-window", "GET", "/rooms/popularity", None, {}, 400),
        (
            "popularity-to-before-from",
            "GET",
            "/rooms/popularity?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z",
            None,
            {},
            422,
        ),
        (
            "popularity-naive",
            "GET",
            "/rooms/popularity?from=2027-01-01T00:00:00&to=2027-01-02T00:00:00Z",
            None,
            {},
            400,
        ),
        ("popularity-garbage", "GET", "/rooms/popularity?from=soon&to=2027-01-02T00:00:00Z", None, {}, 400),
        (
            "popularity-limit-zero",
            "GET",
            "/rooms/popularity?from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z&limit=0",
            None,
            {},
            400,
        ),
        (
            "popularity-limit-101",
            "GET",
            "/rooms/popularity?from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z&limit=101",
            None,
            {},
            400,
        ),
        ("unknown-path", "GET", "/nowhere", None, {}, 404),
        ("wrong-method", "DELETE", "/rooms", None, {}, 405),
    ]


WRITTEN = """
SELECT (SELECT count(*) FROM command.outbox), (SELECT count(*) FROM command.rooms),
       (SELECT count(*) FROM command.reservations), (SELECT count(*) FROM command.idempotency_keys),
       (SELECT coalesce(sum(version), 0) FROM command.reservations)
"""


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [c[1:] for c in cases()],
    ids=[c[0] for c in cases()],
)
async def test_bad_input_is_a_problem_and_writes_nothing(
    client: Any,
    pool: Pool,
    existing: dict[str, str],
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    path = path.format(**existing)
    if isinstance(body, dict):
        body = {k: (v.format(**existing) if isinstance(v, str) else v) for k, v in body.items()}
    before = tuple(await pool.fetchrow(WRITTEN))
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, str):
        kwargs["content"] = body.encode()
        kwargs["headers"] = {**headers, "content-type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    assert "Traceback" not in response.text
    assert tuple(await pool.fetchrow(WRITTEN)) == before, "a refused request wrote something"
