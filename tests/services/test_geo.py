import math

import pytest

from portal.services.geo import gcj02_to_wgs84, in_mainland, wgs84_to_gcj02


def metres(a, b):
    """Equirectangular distance, exact enough below a kilometre."""
    lat = math.radians((a[0] + b[0]) / 2)
    return 6371000 * math.hypot(math.radians(b[0] - a[0]), math.radians(b[1] - a[1]) * math.cos(lat))


@pytest.mark.parametrize("point", [(23.1291, 113.2644), (22.5431, 114.0579), (39.9087, 116.3975),
                                   (45.75, 126.65), (18.25, 109.5)])
def test_round_trip_is_below_a_millimetre(point):
    assert metres(point, gcj02_to_wgs84(*wgs84_to_gcj02(*point))) < 0.001


@pytest.mark.parametrize("point", [(23.1291, 113.2644), (39.9087, 116.3975)])
def test_gcj02_is_offset_by_a_few_hundred_metres_on_the_mainland(point):
    assert 100 < metres(point, wgs84_to_gcj02(*point)) < 800


def test_outside_the_mainland_nothing_moves():
    assert not in_mainland(51.5, -0.12)
    assert wgs84_to_gcj02(51.5, -0.12) == (51.5, -0.12)
    assert gcj02_to_wgs84(51.5, -0.12) == (51.5, -0.12)


# Reference vectors published with the eviltransform implementations (WGS-84 → GCJ-02).
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_matches_the_reference_implementation(wgs, gcj):
    assert metres(wgs84_to_gcj02(*wgs), gcj) < 0.01
    assert metres(gcj02_to_wgs84(*gcj), wgs) < 0.01
