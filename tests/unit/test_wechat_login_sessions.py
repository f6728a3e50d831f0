"""Session tokens issued at WeChat login, and what a shopper sees of their phone number."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from commerce import clock
from commerce.errors import CommerceError
from commerce.users import tokens
from commerce.users.services import mask_phone

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _refused(token: str, settings) -> str:
    with pytest.raises(CommerceError) as refused:
        tokens.verify(token, settings=settings)
    return refused.value.code


def test_a_token_is_good_until_its_lifetime_ends(settings):
    with clock.frozen(T0) as frozen:
        token = tokens.issue(user_id=7, session_version=3, settings=settings)
        claims = tokens.verify(token, settings=settings)
        assert (claims.user_id, claims.session_version) == (7, 3)
        frozen.advance(timedelta(seconds=settings.session_ttl_seconds - 1))
        assert tokens.verify(token, settings=settings).user_id == 7
        frozen.advance(timedelta(seconds=1))
        assert _refused(token, settings) == "session_expired"


def test_a_token_issued_under_a_moved_clock_works_under_it(settings):
    # PyJWT would compare iat with the wall clock; ours is commerce.clock
    with clock.frozen(datetime.now(UTC) + timedelta(days=30)):
        token = tokens.issue(user_id=1, session_version=1, settings=settings)
        assert tokens.verify(token, settings=settings).user_id == 1


def test_a_token_from_the_future_is_refused(settings):
    with clock.frozen(T0 + timedelta(minutes=5)):
        token = tokens.issue(user_id=1, session_version=1, settings=settings)
    with clock.frozen(T0):
        assert _refused(token, settings) == "session_expired"


def _claims(**change) -> dict:
    now = int(T0.timestamp())
    return {"sub": "1", "ver": 1, "aud": "miniprogram", "iat": now, "exp": now + 3600, **change}


@pytest.mark.parametrize(
    "claims",
    [
        _claims(aud="admin"),
        _claims(sub="alice"),
        _claims(ver="x"),
        {k: v for k, v in _claims().items() if k != "ver"},
        {k: v for k, v in _claims().items() if k != "exp"},
    ],
)
def test_tokens_with_wrong_claims_are_refused(settings, claims):
    with clock.frozen(T0):
        assert _refused(jwt.encode(claims, settings.signing_key, algorithm="HS256"), settings)


@pytest.mark.parametrize(
    "token_for",
    [
        lambda key: jwt.encode(_claims(), "another-key-that-is-long-enough-0000000", algorithm="HS256"),
        lambda key: jwt.encode(_claims(), key, algorithm="HS512"),
        lambda key: jwt.encode(_claims(), None, algorithm="none"),
        lambda key: "not.a.token",
        lambda key: "",
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_tokens_are_refused(settings, token_for):
    with clock.frozen(T0):
        assert _refused(token_for(settings.signing_key), settings) == "session_expired"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13800138000", "138****8000"), ("85291234567", "852****4567"), ("12345", "*****")],
)
def test_phone_numbers_are_shown_masked(phone, masked):
    assert mask_phone(phone) == masked
