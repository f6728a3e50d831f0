"""Who answers followers: the staff whose role handles conversations, as the inbox names them
and transfers choose among them."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.staff import services as staff_accounts
from commerce.staff.permissions import ROLE_PERMISSIONS, Permission


@dataclass(frozen=True)
class Agent:
    id: int
    username: str


async def list_agents() -> list[Agent]:
    """Active staff who may answer followers (a conversation can be handed to them)."""
    return [
        Agent(account.id, account.username)
        for account in await staff_accounts.list_staff()
        if account.is_active and Permission.CONVERSATIONS in ROLE_PERMISSIONS.get(account.role, frozenset())
    ]


async def is_agent(staff_id: int) -> bool:
    return any(agent.id == staff_id for agent in await list_agents())


async def staff_names() -> dict[int, str]:
    """Every staff account's username by id (left or not: history names them)."""
    return {account.id: account.username for account in await staff_accounts.list_staff()}
