"""Leaders' rules that need no database: scenes, masking, distances, locations."""

import math

import pytest

from commerce.community.binding import share_code_of_scene
from commerce.community.leaders import check_location
from commerce.community.points import distance_m
from commerce.community.queries import mask_nickname, scene_of, share_path
from commerce.errors import CommerceError


def test_a_leader_scene_carries_its_share_code():
    assert scene_of("ABCD2345") == "leader_ABCD2345"
    assert share_path("ABCD2345") == "pages/index/index?leader=ABCD2345"
    assert share_code_of_scene("leader_ABCD2345") == "ABCD2345"
    assert share_code_of_scene("qrscene_leader_ABCD2345") == "ABCD2345"
    assert [share_code_of_scene(s) for s in ("leader_", "kol:7", "", "poster-1")] == [None] * 4


def test_nicknames_are_masked():
    assert [mask_nickname(n) for n in ("张三", "王", "Alexander", "")] == ["张*", "王*", "A****", "微信用户"]


def test_distances_are_great_circle_metres():
    assert distance_m(22.5431, 113.9360, 22.5431, 113.9360) == 0
    one_degree = distance_m(0, 0, 1, 0)
    assert math.isclose(one_degree, 111_195, rel_tol=1e-3)
    # Shenzhen to Guangzhou: about 104 km as the crow flies
    assert 100_000 < distance_m(22.5431, 114.0579, 23.1291, 113.2644) < 110_000


@pytest.mark.parametrize("where", [(0, 0), (91, 0), (0, 181), (math.nan, 1), (1, math.inf)])
def test_a_location_must_be_somewhere(where):
    with pytest.raises(CommerceError) as caught:
        check_location(*where)
    assert caught.value.code == "location_invalid"
