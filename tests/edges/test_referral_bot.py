"""Follows and scans through a KOL's official-account QR code, through the real app and the
simulator: a touch for the follower's shopper and a welcome naming the KOL; a follower not yet
a shopper gets the touch at sign-in with its original time and channel; a leader's QR code
still binds the leader."""

from __future__ import annotations

from datetime import timedelta

from commerce import clock
from commerce.community.models import Leader
from commerce.referrals.models import PendingReferral, ReferralCustomer, ReferralDaily, ReferralTouch
from commerce.referrals.scenes import scene_of
from commerce.referrals.states import TouchChannel
from commerce.wechat.official_account import create_scene_qrcode
from shop.app import CORE
from tests.builders import Shopper
from tests.edges.community import approved_leader
from tests.edges.paying import sim
from tests.edges.shoppers import auth_headers
from tests.referral_builders import approved_kol


async def _qrcode(client, code: str) -> str:
    """The KOL's permanent QR code, made at WeChat (the simulator): its scene."""
    return await _qrcode_of_scene(client, scene_of(code))


async def _qrcode_of_scene(client, scene: str) -> str:
    return (await create_scene_qrcode(mp=client.app[CORE].mp, scene=scene)).scene


async def _follow(simulator, user: str, scene: str, event: str = "subscribe") -> str:
    status, pushed = await sim(
        simulator, "POST", "/mp/send", {"user": user, "type": "event", "event": event, "scene": scene}
    )
    assert status == 200 and pushed["status"] == 200, pushed
    return pushed["reply"]["Content"]


async def test_a_shopper_following_through_a_kols_code_is_her_touch_and_is_welcomed(client, simulator):
    # given a KOL and bob, a shopper of the mini-program
    kol = await approved_kol(user_id=999_001, name="小红")
    bob = await Shopper.start(client, simulator, "bob")
    # when bob follows the official account through her QR code, then scans it again
    scene = await _qrcode(client, kol.code)
    welcome = await _follow(simulator, "bob", scene)
    again = await _follow(simulator, "bob", scene, event="SCAN")
    # then he is welcomed by her name
    assert "推广员「小红」" in welcome and welcome.startswith("欢迎关注")
    assert "推广员「小红」" in again and again.startswith("欢迎回来")
    # and both are his touches, the follow counted in her funnel's follows
    rows = await ReferralTouch.filter(kol_id=kol.id).order_by("id").values_list("user_id", "channel")
    assert rows == [(bob.user_id, TouchChannel.QR_FOLLOW), (bob.user_id, TouchChannel.QR_SCAN)]
    days = await ReferralDaily.filter(kol_id=kol.id).order_by("channel")
    assert [(d.channel, d.touches, d.follows, d.customers) for d in days] == [
        (TouchChannel.QR_FOLLOW, 1, 1, 1),
        (TouchChannel.QR_SCAN, 1, 0, 0),
    ]
    assert (await ReferralCustomer.get(user_id=bob.user_id)).first_kol_id == kol.id


async def test_a_follower_not_yet_a_shopper_gets_the_touch_at_sign_in_with_its_time(client, simulator):
    # given a KOL, and dave, never signed in, who follows through her code
    kol = await approved_kol(user_id=999_001, name="小红")
    welcome = await _follow(simulator, "dave", await _qrcode(client, kol.code))
    assert "推广员「小红」" in welcome and "登录小程序" in welcome
    touch = await ReferralTouch.get(kol_id=kol.id)
    followed_at = touch.at
    assert (touch.user_id, touch.channel) == (None, TouchChannel.QR_FOLLOW)
    # when he signs in to the mini-program three hours later
    with clock.frozen(clock.now() + timedelta(hours=3)):
        await auth_headers(client, simulator, "dave")
    # then the touch is his, with its original time and channel; she first brought him
    touch = await ReferralTouch.get(kol_id=kol.id)
    customer = await ReferralCustomer.get(user_id=touch.user_id)
    assert touch.user_id is not None
    assert (customer.first_kol_id, customer.first_channel, customer.first_at) == (
        kol.id,
        TouchChannel.QR_FOLLOW,
        followed_at,
    )
    assert customer.protected_until == followed_at + timedelta(days=30)
    assert not await PendingReferral.exists()
    # and her funnel has the follow and the new customer on the day of the follow
    day = await ReferralDaily.get(kol_id=kol.id)
    assert (day.touches, day.follows, day.customers) == (1, 1, 1)
    # and signing in again gives nothing twice
    await auth_headers(client, simulator, "dave")
    assert (await ReferralDaily.get(kol_id=kol.id)).customers == 1


async def test_a_kol_scanning_her_own_code_is_told_so_and_a_bad_code_is_just_welcomed(client, simulator):
    amy = await Shopper.start(client, simulator, "amy")
    kol = await approved_kol(user_id=amy.user_id, name="阿美")
    own = await _follow(simulator, "amy", await _qrcode(client, kol.code))
    assert "您自己的推广二维码" in own
    assert not await ReferralCustomer.filter(user_id=amy.user_id).exists()
    unknown = await _follow(simulator, "erin", await _qrcode(client, "NOSUCH99"))
    assert unknown.startswith("欢迎关注") and "推广员" not in unknown


async def test_a_leaders_code_still_binds_the_leader(client, simulator):
    leader = await approved_leader(client, simulator, "alice", "幸福里自提点")
    await Shopper.start(client, simulator, "bob")
    code = (await Leader.get(id=leader["id"])).share_code
    reply = await _follow(simulator, "bob", await _qrcode_of_scene(client, f"leader_{code}"))
    assert reply.startswith("您已绑定团长")
    assert await ReferralTouch.all().count() == 0
