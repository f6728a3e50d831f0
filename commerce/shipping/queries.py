"""Carriers as WeChat knows them: the mini-program shipping upload names a carrier by its
WeChat delivery id, merchants by its Chinese name."""

from __future__ import annotations

# WeChat delivery id -> name (the common ones; WeChat's getAllDelivery lists more).
CARRIERS: dict[str, str] = {
    "SF": "顺丰速运",
    "ZTO": "中通快递",
    "YTO": "圆通速递",
    "YD": "韵达快递",
    "STO": "申通快递",
    "JTSD": "极兔速递",
    "JD": "京东物流",
    "EMS": "EMS",
    "YZPY": "邮政快递包裹",
    "DBL": "德邦快递",
}
_BY_NAME = {name: code for code, name in CARRIERS.items()}


def carrier_name(carrier: str) -> str | None:
    """The carrier's name for a name or a delivery id (any case), or None if unknown."""
    carrier = carrier.strip()
    if carrier in _BY_NAME:
        return carrier
    return CARRIERS.get(carrier.upper())


def carrier_code(name: str) -> str | None:
    return _BY_NAME.get(name)
