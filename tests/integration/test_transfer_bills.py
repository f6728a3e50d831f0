"""WeChat Pay's merchant transfer as our pay client meets it (the simulator playing WeChat Pay):
the same out_bill_no is the same bill, other fields under it are refused; the payee's name is
required from 2,000 yuan and must be encrypted with WeChat Pay's key; a bill not confirmed is
cancelled; an unsigned request is refused."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientSession

from commerce.wechat import pay_transfer
from commerce.wechat.pay import WeChatPayRefused

OPENID = "oPayeeInTheSimulator00000001"


async def _transfer(core, no: str, amount: int = 3000, cipher: str | None = None):
    return await pay_transfer.transfer(
        core.pay, out_bill_no=no, openid=OPENID, amount=amount, remark="佣金提现", user_name_cipher=cipher
    )


async def _bills(core) -> dict:
    async with ClientSession() as http, http.get(f"{core.settings.wechat_api_base}/pay/transfers") as answer:
        return (await answer.json())["bills"]


async def test_the_same_out_bill_no_is_the_same_bill_and_other_fields_are_refused(core):
    first = await _transfer(core, "PO1")
    again = await _transfer(core, "PO1")
    assert first.state == again.state == "WAIT_USER_CONFIRM"
    assert (first.transfer_bill_no, first.package_info) == (again.transfer_bill_no, again.package_info)
    with pytest.raises(WeChatPayRefused) as refused:
        await _transfer(core, "PO1", amount=3001)
    assert refused.value.code == "INVALID_REQUEST"
    assert list(await _bills(core)) == ["PO1"]


async def test_the_payees_name_is_required_from_2000_yuan_and_travels_encrypted(core):
    with pytest.raises(WeChatPayRefused) as refused:
        await _transfer(core, "PO2", amount=200_000)
    assert refused.value.code == "PARAM_ERROR"
    with pytest.raises(WeChatPayRefused):
        await _transfer(core, "PO2", amount=200_000, cipher="not-encrypted")
    bill = await _transfer(
        core, "PO2", amount=200_000, cipher=pay_transfer.encrypt_sensitive(core.pay, "张三")
    )
    assert bill.state == "WAIT_USER_CONFIRM"
    assert (await _bills(core))["PO2"]["user_name"] == "张三"


async def test_a_bill_not_confirmed_is_cancelled_and_a_cancelled_one_stays_so(core):
    await _transfer(core, "PO3")
    assert (await pay_transfer.cancel(core.pay, "PO3")).state == "CANCELING"
    await asyncio.sleep(0.2)
    assert (await pay_transfer.query(core.pay, "PO3")).state == "CANCELLED"
    assert (await pay_transfer.cancel(core.pay, "PO3")).state == "CANCELLED"
    assert await pay_transfer.query(core.pay, "PO-unknown") is None


async def test_an_unsigned_transfer_is_refused(core):
    url = f"{core.settings.wechat_api_base}{pay_transfer.TRANSFER_PATH}"
    async with ClientSession() as http, http.post(url, json={"out_bill_no": "PO4"}) as answer:
        assert answer.status == 401
        assert (await answer.json())["code"] == "SIGN_ERROR"
    assert await _bills(core) == {}
