import asyncio

import pytest

from commerce.errors import CommerceError
from commerce.staff.models import StaffAccount
from commerce.staff.services import create_platform_admin, verify_password
from commerce.staff.states import StaffRole


async def test_a_platform_admin_is_created_with_an_argon2_hash(db):
    account_id = await create_platform_admin(username="boss", password="a-long-password-1")
    account = await StaffAccount.get(id=account_id)
    assert account.role is StaffRole.PLATFORM_ADMIN
    assert account.password_hash.startswith("$argon2id$")
    assert verify_password(account.password_hash, "a-long-password-1")
    assert not verify_password(account.password_hash, "wrong-password")


async def test_two_racing_creations_of_one_username_make_one_account(db):
    results = await asyncio.gather(
        *(create_platform_admin(username="boss", password="a-long-password-1") for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert {r.code for r in results if isinstance(r, CommerceError)} == {"username_taken"}
    assert await StaffAccount.filter(username="boss").count() == 1


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [("b", "a-long-password-1", "invalid_username"), ("boss", "short", "weak_password")],
)
async def test_bad_admin_input_is_refused(db, username, password, code):
    with pytest.raises(CommerceError) as caught:
        await create_platform_admin(username=username, password=password)
    assert caught.value.code == code
