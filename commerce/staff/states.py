from enum import StrEnum


class StaffRole(StrEnum):
    PLATFORM_ADMIN = "platform_admin"  # everything, every merchant
    MERCHANT_OWNER = "merchant_owner"  # one merchant's products, orders, after-sales, staff
    MERCHANT_STAFF = "merchant_staff"  # one merchant's products and orders
    AGENT = "agent"  # customer service: conversations, order lookup, small refunds
    FINANCE = "finance"  # settlements, withdrawals, exports
