"""Shipping fees: a merchant's template (a flat fee, free from an amount, rules for some
provinces, provinces it does not deliver to), or the platform's default from the settings for a
merchant without one; and saving a template, whole, once per version read."""

import asyncio

import pytest

from commerce.audit.models import AuditEntry
from commerce.errors import CommerceError
from commerce.merchants.services import ensure_merchant
from commerce.shipping import templates
from commerce.shipping.errors import ShippingError
from commerce.shipping.fees import ShippingQuote, free_shipping_text, shipping_fee
from commerce.shipping.templates import ProvinceRule
from commerce.support.faq import match_faq, seed_starter_faq
from tests.builders import refused
from tests.concurrency import needs_real_database

XINJIANG, TIBET, GUANGDONG = "新疆维吾尔自治区", "西藏自治区", "广东省"


async def _save(merchant_id: int, settings, *, fee=800, free_from=5900, provinces=(), version=0, scope=None):
    return await templates.save_template(
        merchant_id=merchant_id,
        staff_merchant_id=scope,
        fee=fee,
        free_from=free_from,
        provinces=list(provinces),
        version=version,
        actor="staff:1",
        settings=settings,
    )


async def _fee(
    merchant_id: int, settings, items_total: int, province: str | None = GUANGDONG
) -> ShippingQuote:
    return await shipping_fee(
        merchant_id=merchant_id, items_total=items_total, province=province, settings=settings
    )


async def test_a_merchant_without_a_template_pays_the_platforms_default(db, settings):
    merchant = await ensure_merchant()
    # the settings' default: ¥10, free from ¥99
    assert await _fee(merchant, settings, 9899) == ShippingQuote(fee=1000, free_from=9900)
    assert await _fee(merchant, settings, 9900) == ShippingQuote(fee=0, free_from=9900)
    assert (await _fee(merchant, settings, 100, province=None)).fee == 1000
    # another default is another rule, for every merchant without a template
    dearer = settings.model_copy(
        update={"shipping_default_fee_fen": 1200, "shipping_default_free_from_fen": 0}
    )
    assert await _fee(merchant, dearer, 1_000_000) == ShippingQuote(fee=1200, free_from=None)


async def test_a_flat_fee_is_free_from_its_amount_exactly(db, settings):
    merchant = await ensure_merchant(code="tea", name="茶店")
    await _save(merchant, settings, fee=800, free_from=5900)
    assert (await _fee(merchant, settings, 5899)).fee == 800
    assert (await _fee(merchant, settings, 5900)).fee == 0  # from the amount on, free
    assert (await _fee(merchant, settings, 0)).fee == 800
    # a template without a free-from amount is never free; a zero fee always is
    template = await _save(merchant, settings, fee=600, free_from=None, version=1)
    assert (await _fee(merchant, settings, 10_000_000)).fee == 600
    await _save(merchant, settings, fee=0, free_from=None, version=template.version)
    assert (await _fee(merchant, settings, 1)).fee == 0


async def test_a_province_rule_changes_the_fee_or_the_free_from_amount_or_stops_delivery(db, settings):
    merchant = await ensure_merchant(code="tea", name="茶店")
    rules = [
        ProvinceRule(XINJIANG, fee=2000, never_free=True),  # far: dearer and never free
        ProvinceRule("海南省", free_from=19900),  # the template's fee, free from more
        ProvinceRule("青海省", fee=1500),  # dearer, free from the template's amount
        ProvinceRule(TIBET, undeliverable=True),
    ]
    await _save(merchant, settings, fee=800, free_from=5900, provinces=rules)
    # given a province without a rule, the template decides
    assert (await _fee(merchant, settings, 5900, GUANGDONG)).fee == 0
    # the province's own rule decides where there is one; short names are the same province
    assert await _fee(merchant, settings, 100_000, XINJIANG) == ShippingQuote(fee=2000, free_from=None)
    assert (await _fee(merchant, settings, 100_000, "新疆")).fee == 2000
    assert await _fee(merchant, settings, 5900, "海南") == ShippingQuote(fee=800, free_from=19900)
    assert (await _fee(merchant, settings, 19900, "海南省")).fee == 0
    assert (await _fee(merchant, settings, 5899, "青海省")).fee == 1500
    assert (await _fee(merchant, settings, 5900, "青海省")).fee == 0
    # a province the merchant does not deliver to is a clear refusal at checkout
    undeliverable = await _fee(merchant, settings, 5900, " 西藏 ")
    assert not undeliverable.deliverable
    with pytest.raises(CommerceError) as caught:
        undeliverable.payable_fee()
    assert refused(caught, ShippingError.UNDELIVERABLE)
    assert (await _fee(merchant, settings, 100, GUANGDONG)).payable_fee() == 800
    # an address whose province names none, or none chosen yet: the template's rule
    assert (await _fee(merchant, settings, 100, "火星")).fee == 800
    assert (await _fee(merchant, settings, 100, None)).fee == 800
    # another merchant is untouched by these rules: the default
    other = await ensure_merchant(code="other", name="别家")
    assert await _fee(other, settings, 100, TIBET) == ShippingQuote(fee=1000, free_from=9900)


async def test_a_template_saves_whole_once_per_version_and_is_audited(db, settings):
    merchant = await ensure_merchant(code="tea", name="茶店")
    first = await _save(merchant, settings, provinces=[ProvinceRule(TIBET, undeliverable=True)])
    assert first.version == 1 and not first.is_default
    # a second save of the same version (a stale form, or a racing one) is refused, nothing changes
    for stale in (0, 2):
        with pytest.raises(CommerceError) as caught:
            await _save(merchant, settings, fee=1, version=stale)
        assert refused(caught, ShippingError.CHANGED)
    # the next version replaces the province rules as a whole
    second = await _save(merchant, settings, fee=900, provinces=[ProvinceRule(XINJIANG, fee=2500)], version=1)
    stored = await templates.template_of(merchant_id=merchant, settings=settings)
    assert stored == second and stored.version == 2
    assert stored.provinces == (ProvinceRule(XINJIANG, fee=2500),)
    assert (await _fee(merchant, settings, 100, TIBET)).deliverable
    # each save is in the audit log with the rule before and after
    entries = await AuditEntry.filter(action="shipping.template.save").order_by("id")
    assert [e.object_id for e in entries] == [str(merchant)] * 2
    assert entries[0].before["default"] is True and entries[0].after["provinces"][0]["undeliverable"]
    assert entries[1].before["fee"] == 800 and entries[1].after["fee"] == 900
    assert "茶店" in entries[1].summary and "运费 9.00 元" in entries[1].summary


async def test_bad_templates_and_other_merchants_are_refused(db, settings):
    merchant = await ensure_merchant(code="tea", name="茶店")
    other = await ensure_merchant(code="other", name="别家")
    bad = {
        "negative fee": {"fee": -1},
        "fee over ¥999.99": {"fee": 100_000},
        "free from nothing": {"free_from": 0},
        "province fee": {"provinces": [ProvinceRule(TIBET, fee=-5)]},
    }
    for case, fields in bad.items():
        with pytest.raises(CommerceError) as caught:
            await _save(merchant, settings, **fields)
        assert refused(caught, ShippingError.INVALID_AMOUNT), case
    for provinces in ([ProvinceRule("火星")], [ProvinceRule(TIBET), ProvinceRule(TIBET, fee=1)]):
        with pytest.raises(CommerceError) as caught:
            await _save(merchant, settings, provinces=provinces)
        assert refused(caught, ShippingError.INVALID_PROVINCE)
    # a merchant's people reach their own template only: another's is not found
    with pytest.raises(CommerceError) as caught:
        await _save(other, settings, scope=merchant)
    assert refused(caught, ShippingError.TEMPLATE_NOT_FOUND)
    with pytest.raises(CommerceError) as caught:
        await templates.template_for_staff(merchant_id=other, staff_merchant_id=merchant, settings=settings)
    assert refused(caught, ShippingError.TEMPLATE_NOT_FOUND)
    assert await AuditEntry.filter(action="shipping.template.save").count() == 0
    assert (await templates.template_of(merchant_id=merchant, settings=settings)).is_default


def test_the_bots_promise_is_the_platforms_default(settings):
    assert free_shipping_text(settings) == "满 99 元包邮"
    update = {"shipping_default_free_from_fen": 15950}
    assert free_shipping_text(settings.model_copy(update=update)) == "满 159.5 元包邮"
    assert free_shipping_text(settings.model_copy(update={"shipping_default_free_from_fen": 0})) == ""
    assert free_shipping_text(settings.model_copy(update={"shipping_default_fee_fen": 0})) == "包邮"


async def test_the_starter_faq_states_the_platforms_shipping_rule(db, settings):
    # given a platform whose default is ¥8, free from ¥159
    update = {"shipping_default_fee_fen": 800, "shipping_default_free_from_fen": 15900}
    await seed_starter_faq(settings=settings.model_copy(update=update))
    # then the FAQ answers "包邮吗" with that rule
    answer = (await match_faq("包邮吗")).answer
    assert "满 159 元包邮" in answer and "运费 8 元" in answer and "99" not in answer


@needs_real_database
async def test_racing_saves_of_one_version_make_one_template(db, settings):
    merchant = await ensure_merchant(code="tea", name="茶店")
    for version in (0, 1):  # the first template, then a change of it
        # when five people save the version they read at once
        saves = [
            _save(merchant, settings, fee=100 * n, provinces=[ProvinceRule(TIBET, fee=n)], version=version)
            for n in range(1, 6)
        ]
        results = await asyncio.gather(*saves, return_exceptions=True)
        # then one save wins whole, the others are told it changed
        won = [r for r in results if isinstance(r, templates.Template)]
        lost = [r for r in results if not isinstance(r, templates.Template)]
        assert len(won) == 1, results
        assert all(isinstance(e, CommerceError) and e.error_code is ShippingError.CHANGED for e in lost), lost
        stored = await templates.template_of(merchant_id=merchant, settings=settings)
        assert stored == won[0] and stored.version == version + 1
    assert await AuditEntry.filter(action="shipping.template.save").count() == 2
