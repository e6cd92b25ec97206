"""The OpenAPI document tells the truth: every operation with a stable id, a description,
its success headers and every error as application/problem+json; the limits declared on
the commands' fields are in the request schemas; and the page that shows it loads nothing
from elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}


@pytest.fixture(scope="module")
async def document(client: Any) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


def schema_of(document: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return dict(document["components"]["schemas"][ref["$ref"].rpartition("/")[2]])


def body_schema(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    (op,) = [op for _, _, op in operations(document) if op["operationId"] == operation_id]
    return schema_of(document, op["requestBody"]["content"]["application/json"]["schema"])


async def test_the_schema_is_json_that_works_offline(client: Any) -> None:
    for path in ("/schema", "/schema/openapi.json"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
        assert response.json()["openapi"].startswith("3.1")
        assert "<script" not in response.text


async def test_the_api_page_loads_only_what_the_app_serves(client: Any) -> None:
    import re

    page = await client.get("/schema/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
    links = re.findall(r'(?:src|href|url:)\s*=?\s*"([^"]+)"', page.text)
    assert links and all(link.startswith("/schema/") for link in links), links
    for link in links:
        asset = await client.get(link)
        assert asset.status_code == 200, link
    assert "SwaggerUIBundle" in (await client.get("/schema/assets/swagger-ui-bundle.js")).text
    assert (await client.get("/schema/assets/../../app/config.py")).status_code == 404


def test_every_operation_has_a_stable_id_a_summary_and_a_description(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert {"reserveRoom", "cancelOrder", "placeOrder", "addRoom", "getOrder", "listConsumerOrders"} <= set(ids)
    for method, path, op in operations(document):
        assert op.get("summary") and op.get("description"), (method, path)
    assert all(tag.get("description") for tag in document["tags"])
    declared = {tag["name"] for tag in document["tags"]}
    for method, path, op in operations(document):
        assert len(op.get("tags", [])) == 1 and op["tags"][0] in declared, (method, path)  # its module's tag


def test_every_error_is_a_problem_document(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        for status, answer in op["responses"].items():
            if status.startswith("4"):
                assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}, (method, path, status)
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


def test_commands_document_their_headers_and_refusals(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        if method not in ("POST", "PUT", "PATCH") or path.startswith("/schema"):
            continue
        success = [s for s in op["responses"] if s.startswith("2")]
        assert len(success) == 1, (method, path)
        answer = op["responses"][success[0]]
        assert {"X-Position", "X-Request-Id"} <= answer["headers"].keys(), (method, path)
        assert "400" in op["responses"]
        if "{" in path:
            assert "404" in op["responses"], (method, path)
        if method == "POST":
            assert "Idempotency-Key" in [p["name"] for p in op["parameters"]]
            assert "409" in op["responses"]  # a key reused with another body
    placed = document["paths"]["/orders"]["post"]["responses"]["201"]
    assert "Location" in placed["headers"]


def test_queries_document_read_your_writes(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        if method != "GET" or path.startswith(("/health", "/metrics", "/listeners", "/event-types")):
            continue  # not reads of a view
        params = {p["name"]: p for p in op["parameters"]}
        assert params["X-Wait-Ms"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 10000, "default": 2000}
        assert "X-Min-Position" in params
        assert "412" in op["responses"]
        assert "X-View-Position" in op["responses"]["200"]["headers"]
        if "404" in op["responses"]:
            assert "X-View-Position" in op["responses"]["404"]["headers"]
    assert "503" in document["paths"]["/health/ready"]["get"]["responses"]


def test_the_limits_of_each_command_body_are_in_its_schema(document: dict[str, Any]) -> None:
    room = body_schema(document, "addRoom")["properties"]
    assert room["capacity"]["minimum"] == 1
    assert (room["name"]["minLength"], room["name"]["maxLength"]) == (1, 200)

    reservation = body_schema(document, "reserveRoom")
    assert reservation["properties"]["user_id"]["maxLength"] == 100
    assert reservation["additionalProperties"] is False

    order = body_schema(document, "placeOrder")["properties"]
    assert order["line_items"]["minItems"] == 1
    line = schema_of(document, order["line_items"]["items"])["properties"]
    assert line["quantity"]["minimum"] == 1

    restaurant = body_schema(document, "registerRestaurant")["properties"]
    assert (restaurant["lat"]["minimum"], restaurant["lat"]["maximum"]) == (-90, 90)
    assert (restaurant["lon"]["minimum"], restaurant["lon"]["maximum"]) == (-180, 180)
    assert restaurant["delivery_radius_km"]["exclusiveMinimum"] == 0
    window = schema_of(document, restaurant["opening_hours"]["items"])["properties"]
    assert (window["day"]["minimum"], window["day"]["maximum"]) == (0, 6)
    assert window["open"]["pattern"] == r"^([01]\d|2[0-3]):[0-5]\d$"
    item = schema_of(document, restaurant["menu"]["items"])["properties"]
    assert item["price"]["pattern"] == r"^\d{1,10}(\.\d{1,2})?$"

    assert body_schema(document, "registerConsumer")["properties"]["credit_limit"]["pattern"] == item["price"]["pattern"]
    assert "ready_by" in body_schema(document, "acceptTicket")["required"]


def test_path_ids_are_not_asked_for_in_the_body(document: dict[str, Any]) -> None:
    change = body_schema(document, "changeReservation")
    assert "reservation_id" not in change["properties"]
    assert change.get("required", []) == []
    assert "restaurant_id" not in body_schema(document, "reviseMenu")["properties"]


def test_query_parameters_state_their_ranges(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/restaurants/available"]["get"]["parameters"]}
    assert (params["lat"]["schema"]["minimum"], params["lat"]["schema"]["maximum"]) == (-90, 90)
    listing = {p["name"]: p for p in document["paths"]["/rooms"]["get"]["parameters"]}
    assert (listing["page_size"]["schema"]["minimum"], listing["page_size"]["schema"]["maximum"]) == (1, 100)


def test_every_operation_says_who_may_call_it(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT with `sub`, `roles` (admin, user, consumer, restaurant, courier) and `exp`",
    }
    public = {"/health/live", "/health/ready", "/metrics"}
    for method, path, op in operations(document):
        if path in public:
            assert op["security"] == [], path
            continue
        assert op["security"] == [{"bearer": []}], (method, path)
        assert "Who may call: admin" in op["description"], (method, path)
        assert {"401", "403"} <= op["responses"].keys(), (method, path)
        assert "WWW-Authenticate" in op["responses"]["401"]["headers"], (method, path)
    assert document["paths"]["/orders/{order_id}"]["get"]["description"].endswith(
        "Who may call: admin, consumer, courier, restaurant."
    )


def test_every_operation_declares_the_header_limit_and_every_database_read_the_statement_timeout(
    document: dict[str, Any],
) -> None:
    for method, path, op in operations(document):
        assert "431" in op["responses"], (method, path)
        if method != "GET" or "X-Min-Position" in {p["name"] for p in op.get("parameters", [])}:
            assert "503" in op["responses"], (method, path)  # commands and view reads: STATEMENT_TIMEOUT_MS
