"""After-sales steps as the mini-program and the admin web take them: what an order allows, a
request for some of its lines, a member of staff pressing a review button, and what the
official account told a shopper."""

from __future__ import annotations

from tests.builders import csrf_of
from tests.edges.paying import eventually, sim


async def options_of(client, order: dict) -> dict:
    """GET /orders/{id}/aftersales/options for the order's shopper (order as paid_order gives it)."""
    response = await client.get(f"/api/v1/orders/{order['id']}/aftersales/options", headers=order["headers"])
    assert response.status == 200, await response.text()
    return await response.json()


async def ask(
    client,
    order: dict,
    *,
    kind: str = "refund_only",
    quantity: int | None = None,
    amount: int | None = None,
    reason: str | None = None,
    description: str = "",
    photos: list[str] | None = None,
    expect: int = 201,
) -> dict:
    """The shopper asks for an after-sales request on the order's first line (all its units
    left unless told); the API's answer (a request, or an error body)."""
    options = await options_of(client, order)
    line = options["lines"][0]
    asked = {"order_line_id": line["order_line_id"], "quantity": quantity or line["refundable_quantity"]}
    if amount is not None:
        asked["amount"] = amount
    body = {
        "order_id": order["id"],
        "kind": kind,
        "lines": [asked],
        "reason": reason or (options["reasons"].get(kind) or ["其他"])[0],
        "description": description,
        "photos": photos or [],
    }
    response = await client.post("/api/v1/aftersales", json=body, headers=order["headers"])
    assert response.status == expect, await response.text()
    return await response.json()


async def shopper_sees(client, order: dict, aftersale_id: int) -> dict:
    response = await client.get(f"/api/v1/aftersales/{aftersale_id}", headers=order["headers"])
    assert response.status == 200, await response.text()
    return await response.json()


async def press(client, aftersale_id: int, action: str, *, redirects: bool = False, **fields: str):
    """A member of staff (signed in) posts an action's form (with their CSRF token), as the
    request's page would; the response."""
    csrf = csrf_of(await (await client.get("/admin/")).text())
    return await client.post(
        f"/admin/aftersales/{aftersale_id}/{action}",
        data={"csrf_token": csrf, **fields},
        allow_redirects=redirects,
    )


async def notices_to(simulator, user: str) -> list[str]:
    """The customer-service messages the official account sent the user."""
    _, log = await sim(simulator, "GET", f"/mp/messages?user={user}")
    return [m["body"]["content"] for m in log["messages"] if m["direction"] == "custom"]


async def told(simulator, user: str, *words: str) -> list[str]:
    """The user's notices once one holds all these words (the outbox delivers them after
    commit, and again after a moment when WeChat could not be reached); all of them."""

    async def arrived() -> bool:
        return any(all(word in notice for word in words) for notice in await notices_to(simulator, user))

    await eventually(arrived, within=15.0)
    return await notices_to(simulator, user)
