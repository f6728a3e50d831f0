"""Shipping templates: read one (a merchant's own, or the platform's default it falls back to)
and save one, as a merchant's people or the platform admin do from the admin web."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tortoise.exceptions import IntegrityError

from commerce import clock
from commerce.audit import services as audit
from commerce.config import Settings
from commerce.merchants import services as merchants
from commerce.money import fen_to_yuan
from commerce.shipping.cache import VersionedCache
from commerce.shipping.errors import ShippingError
from commerce.shipping.models import ShippingProvinceRule, ShippingTemplate
from commerce.shipping.provinces import PROVINCES
from commerce.transactions import unit_of_work, write_transaction

MAX_FEE = 99_999  # fen: ¥999.99 for one order's delivery
MAX_FREE_FROM = 9_999_999  # fen: ¥99,999.99


@dataclass(frozen=True)
class ProvinceRule:
    """How one province differs from the template (None: as the template says)."""

    province: str
    fee: int | None = None
    free_from: int | None = None
    never_free: bool = False
    undeliverable: bool = False


@dataclass(frozen=True)
class Template:
    """A merchant's shipping rule in fen. `version` 0: the merchant has none of its own yet
    (this is the platform's default)."""

    merchant_id: int
    fee: int
    free_from: int | None  # None: never free
    provinces: tuple[ProvinceRule, ...] = field(default=())
    version: int = 0

    @property
    def is_default(self) -> bool:
        return self.version == 0

    def rule_for(self, province: str | None) -> ProvinceRule | None:
        return next((rule for rule in self.provinces if rule.province == province), None)


def default_template(settings: Settings, merchant_id: int) -> Template:
    """The platform's rule, for a merchant without a template of its own."""
    free_from = settings.shipping_default_free_from_fen or None
    return Template(merchant_id=merchant_id, fee=settings.shipping_default_fee_fen, free_from=free_from)


# A merchant's own template (None: it has none), as the database holds it.
_CACHE: VersionedCache[Template | None] = VersionedCache()
connect_cache = _CACHE.connect
disconnect_cache = _CACHE.disconnect


async def template_of(*, merchant_id: int, settings: Settings) -> Template:
    """The rule a merchant's orders pay: its own template, or the platform's default."""
    own = await _CACHE.get(merchant_id, _stored_template)
    return own if own is not None else default_template(settings, merchant_id)


async def _stored_template(merchant_id: int) -> Template | None:
    row = await ShippingTemplate.get_or_none(merchant_id=merchant_id).prefetch_related("provinces")
    return _view(row) if row is not None else None


async def template_for_staff(
    *, merchant_id: int, staff_merchant_id: int | None, settings: Settings
) -> Template:
    """The template a member of staff may see: a merchant's people their own merchant's only
    (another's is not found), the platform any merchant's."""
    _check_scope(merchant_id, staff_merchant_id)
    await merchants.get_merchant(merchant_id=merchant_id)  # 404 for a made-up id
    return await template_of(merchant_id=merchant_id, settings=settings)


@unit_of_work
async def save_template(
    *,
    merchant_id: int,
    staff_merchant_id: int | None,
    fee: int,
    free_from: int | None,
    provinces: list[ProvinceRule],
    version: int,
    actor: str,
    settings: Settings,
) -> Template:
    """Replace a merchant's template as a whole (its province rules too), if nobody saved it
    since `version` was read (0: the merchant had none); recorded in the audit log."""
    _check_scope(merchant_id, staff_merchant_id)
    merchant = await merchants.get_merchant(merchant_id=merchant_id)
    _check_amounts(fee, free_from, provinces)
    # For the audit log: what the database holds, whatever this process has cached.
    before = await _stored_template(merchant_id) or default_template(settings, merchant_id)
    now = clock.now()
    async with write_transaction() as conn:
        if version == 0:
            try:
                row = await ShippingTemplate.create(
                    merchant_id=merchant_id, fee=fee, free_from=free_from, updated_at=now, using_db=conn
                )
            except IntegrityError:  # another save made it first
                raise ShippingError.CHANGED.error() from None
        else:
            moved = (
                await ShippingTemplate.filter(merchant_id=merchant_id, version=version)
                .using_db(conn)
                .update(fee=fee, free_from=free_from, version=version + 1, updated_at=now)
            )
            if moved != 1:
                raise ShippingError.CHANGED.error()
            row = await ShippingTemplate.get(merchant_id=merchant_id).using_db(conn)
            await ShippingProvinceRule.filter(template_id=row.id).using_db(conn).delete()
        await ShippingProvinceRule.bulk_create(
            [ShippingProvinceRule(template_id=row.id, **asdict(rule)) for rule in provinces], using_db=conn
        )
        ordered = tuple(sorted(provinces, key=lambda rule: PROVINCES.index(rule.province)))
        after = Template(merchant_id, fee, free_from, ordered, row.version)
        await audit.record(
            actor=actor,
            action="shipping.template.save",
            object_type="merchant",
            object_id=merchant_id,
            summary=f"{merchant.name}：{describe(after)}"[:200],
            before=_audited(before),
            after=_audited(after),
            connection=conn,
        )
    await _CACHE.changed()  # after the commit: every process reads the new template
    return after


def describe(template: Template) -> str:
    """The rule in a sentence (zh-CN), as the audit log and the admin page say it."""
    if template.fee == 0:
        text = "全部包邮"
    elif template.free_from is None:
        text = f"运费 {fen_to_yuan(template.fee)} 元"
    else:
        text = f"运费 {fen_to_yuan(template.fee)} 元，满 {fen_to_yuan(template.free_from)} 元包邮"
    if template.provinces:
        text += f"；{len(template.provinces)} 个省份另有规则"
    return text


def _check_scope(merchant_id: int, staff_merchant_id: int | None) -> None:
    if staff_merchant_id is not None and staff_merchant_id != merchant_id:
        raise ShippingError.TEMPLATE_NOT_FOUND.error()


def _check_amounts(fee: int, free_from: int | None, provinces: list[ProvinceRule]) -> None:
    fees = [fee, *(rule.fee for rule in provinces if rule.fee is not None)]
    thresholds = [free_from, *(rule.free_from for rule in provinces)]
    if any(not 0 <= f <= MAX_FEE for f in fees) or any(
        t is not None and not 1 <= t <= MAX_FREE_FROM for t in thresholds
    ):
        raise ShippingError.INVALID_AMOUNT.error()
    named = [rule.province for rule in provinces]
    if any(name not in PROVINCES for name in named) or len(set(named)) != len(named):
        raise ShippingError.INVALID_PROVINCE.error()


def _view(row: ShippingTemplate) -> Template:
    rules = sorted(row.provinces, key=lambda r: PROVINCES.index(r.province))
    return Template(
        merchant_id=row.merchant_id,  # type: ignore[attr-defined]
        fee=row.fee,
        free_from=row.free_from,
        provinces=tuple(
            ProvinceRule(r.province, r.fee, r.free_from, r.never_free, r.undeliverable) for r in rules
        ),
        version=row.version,
    )


def _audited(template: Template) -> dict:
    return {
        "fee": template.fee,
        "free_from": template.free_from,
        "provinces": [asdict(rule) for rule in template.provinces],
        "default": template.is_default,
    }
