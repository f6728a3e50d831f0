from enum import StrEnum


class MerchantStatus(StrEnum):
    ACTIVE = "active"  # trading: its products can be on sale
    SUSPENDED = "suspended"  # stopped by the platform: its products are hidden and cannot be bought
