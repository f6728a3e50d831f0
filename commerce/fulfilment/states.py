from enum import StrEnum


class FulfilmentKind(StrEnum):
    EXPRESS = "express"  # a parcel by a carrier, with a tracking number
    PICKUP = "pickup"  # the shopper collects it at a pickup point, showing a code
    NONE = "none"  # virtual goods: nothing to hand over


class FulfilmentStatus(StrEnum):
    SHIPPED = "shipped"  # express: handed to the carrier
    DELIVERED = "delivered"  # express: the shopper has it (confirmed, or completed by time): final
    AWAITING = "awaiting"  # pickup: chosen at checkout, the goods not at the point yet
    READY = "ready"  # pickup: waiting at the point for the shopper's code
    PICKED_UP = "picked_up"  # pickup: the point's staff verified the code: final
    FULFILLED = "fulfilled"  # none: fulfilled at once: final


ALLOWED_TRANSITIONS: dict[FulfilmentStatus, set[FulfilmentStatus]] = {
    FulfilmentStatus.SHIPPED: {FulfilmentStatus.DELIVERED},
    FulfilmentStatus.AWAITING: {FulfilmentStatus.READY},
    FulfilmentStatus.READY: {FulfilmentStatus.PICKED_UP},
    FulfilmentStatus.DELIVERED: set(),
    FulfilmentStatus.PICKED_UP: set(),
    FulfilmentStatus.FULFILLED: set(),
}

# WeChat's logistics_type of the shipping upload, per kind (发货信息录入接口).
LOGISTICS_TYPE: dict[FulfilmentKind, int] = {
    FulfilmentKind.EXPRESS: 1,
    FulfilmentKind.NONE: 3,  # virtual goods
    FulfilmentKind.PICKUP: 4,  # 用户自提
}
