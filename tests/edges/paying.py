"""Paying as a shopper does: ask our API for wx.requestPayment's parameters, then pay in the
WeChat sheet (the simulator), which notifies our callback."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession

from commerce import outbox


async def pay_params(client, headers: dict, order_id: int) -> dict:
    response = await client.post(f"/api/v1/orders/{order_id}/pay", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


def prepay_id_of(params: dict) -> str:
    assert params["package"].startswith("prepay_id=")
    return params["package"].removeprefix("prepay_id=")


async def sim(simulator, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    async with ClientSession() as http, http.request(method, simulator.make_url(path), json=body) as response:
        return response.status, await response.json()


async def confirm_payment(simulator, prepay_id: str, copies: int = 1) -> dict:
    """The shopper pays; the simulator has notified us (each copy once) when this returns."""
    status, body = await sim(simulator, "POST", "/pay/confirm", {"prepay_id": prepay_id, "copies": copies})
    assert status == 200, body
    return body


async def pay_order(client, simulator, headers: dict, order_id: int) -> dict:
    """Pay an order end to end; returns the simulator's answer (transaction_id, notified)."""
    return await confirm_payment(simulator, prepay_id_of(await pay_params(client, headers, order_id)))


async def settle_outbox() -> None:
    """Deliver what the relay would deliver within a second (refund submissions, closes)."""
    await outbox.deliver_pending()


async def eventually(check, *, within: float = 5.0) -> None:
    """Wait for an asynchronous outcome (a refund notification) without sleeping blindly."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        await outbox.deliver_pending()
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected outcome did not happen in time")
        await asyncio.sleep(0.05)
