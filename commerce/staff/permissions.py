"""What each staff role may do. Checked on the server for every page and action."""

from __future__ import annotations

from enum import StrEnum

from commerce.errors import CommonError
from commerce.staff.auth import Staff
from commerce.staff.states import StaffRole


class Permission(StrEnum):
    DASHBOARD = "dashboard"
    PRODUCTS = "products"  # see and edit products, prices, stock
    ORDERS = "orders"  # see orders
    SHIP = "ship"  # mark paid orders shipped
    REFUNDS = "refunds"  # approve or refuse refunds
    CONVERSATIONS = "conversations"  # answer followers
    USERS = "users"  # shoppers' profiles (a merchant's people: its own customers only)
    MERCHANTS = "merchants"  # create merchants and their accounts
    STAFF = "staff"  # staff accounts: create, deactivate, reactivate, reset passwords (an owner: its staff)
    FINANCE = "finance"  # settlements, withdrawals, exports
    # Settlement statements: finance every merchant's (and approves, marks paid: FINANCE), a
    # merchant's owner its own.
    STATEMENTS = "statements"
    AUDIT = "audit"  # the log of staff changes
    JOBS = "jobs"  # scheduled jobs' failing items (the platform admin's only)
    REVEAL_PII = "reveal_pii"  # see a full phone number or address (recorded)
    SHIPPING = "shipping"  # the merchant's shipping fee template (an owner: its own)
    PICKUP_POINTS = "pickup_points"  # pickup points (an owner: its own; the platform: the platform's)
    LEADERS = "leaders"  # community leaders: review applications, suspend (the platform's only)
    KOLS = "kols"  # KOLs: review applications, tiers and their rates, suspend (the platform's only)
    # Community sales and their batches (an owner: its merchant's sales and their batches only).
    COMMUNITY_SALES = "community_sales"


ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.PLATFORM_ADMIN: frozenset(Permission),
    StaffRole.MERCHANT_OWNER: frozenset(
        {
            Permission.DASHBOARD,
            Permission.PRODUCTS,
            Permission.ORDERS,
            Permission.SHIP,
            Permission.REFUNDS,
            Permission.USERS,
            Permission.REVEAL_PII,
            Permission.STAFF,  # its own merchant's staff only
            Permission.SHIPPING,  # its own merchant's template only
            Permission.PICKUP_POINTS,  # its own merchant's points only
            Permission.STATEMENTS,  # its own merchant's statements only
            Permission.COMMUNITY_SALES,  # its own merchant's sales and their batches only
        }
    ),
    StaffRole.MERCHANT_STAFF: frozenset(
        {
            Permission.DASHBOARD,
            Permission.PRODUCTS,
            Permission.ORDERS,
            Permission.SHIP,
            Permission.REFUNDS,  # the merchant's after-sales, as the owner's
            Permission.USERS,
        }
    ),
    StaffRole.AGENT: frozenset(
        {
            Permission.DASHBOARD,
            Permission.CONVERSATIONS,
            Permission.ORDERS,
            Permission.REFUNDS,
            Permission.USERS,
        }
    ),
    StaffRole.FINANCE: frozenset({Permission.DASHBOARD, Permission.FINANCE, Permission.STATEMENTS}),
}


def can(staff: Staff, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(staff.role, frozenset())


def require(staff: Staff, permission: Permission) -> None:
    """Refuse (403) what the staff member's role does not allow."""
    if not can(staff, permission):
        raise CommonError.FORBIDDEN.error()
