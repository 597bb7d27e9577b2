"""The station finder at 360x640 as a rider uses it (issue 14, items 1 and 2): after "use my location" and after
a filter tap the first result is on the first screen and the count is announced; the filters sit behind one
control that says how many are on; a closed station says when it opens; the map without its tiles says so and
points to the list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import conftest
from tests.browser.conftest import PHONE, check_page

pytestmark = pytest.mark.browser

TIANHE = {"latitude": 23.1260, "longitude": 113.3620}  # near 天河区's centre, where the demo has stations
TILES = re.compile(r"https://tile\.openstreetmap\.org/.*")


def _first_result_on_screen(page: Page) -> None:
    box = page.locator(".station-list > li").first.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 120) <= PHONE["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


def test_results_come_first_and_say_how_many_after_location_and_a_filter(new_context):
    context = new_context(geolocation=TIANHE, permissions=["geolocation"])
    context.route(TILES, lambda route: route.abort())
    page: Page = context.new_page()
    page.goto("/stations/")
    summary = page.locator("details.filters > summary")
    expect(summary).to_have_text(re.compile(r"筛选 · 已选 1 项"))  # "open now", on by default
    expect(page.get_by_label("正在开放")).to_be_hidden()  # behind the one control
    check_page(page, "finder_start")

    page.get_by_role("button", name="使用我的位置").click()
    heading = page.locator("#stations-results-title")
    expect(heading).to_contain_text("您的位置")
    expect(heading).to_be_focused()
    status = page.locator("[data-found-status]")
    expect(status).to_have_text(re.compile(r"^您的位置附近有 \d+ 个驿站$"))
    expect(status).to_have_attribute("role", "status")
    _first_result_on_screen(page)
    first = page.locator(".station-list > li").first
    expect(first).to_contain_text("正在开放")
    expect(first.get_by_role("link", name=re.compile("^去这里"))).to_have_attribute(
        "href", re.compile(r"^https://uri\.amap\.com/navigation\?"))
    check_page(page, "finder_located")

    page.evaluate("window.scrollTo(0, 0)")
    summary.click()
    page.get_by_label("微波炉").check()
    expect(page).to_have_url(re.compile(r"f=microwave"))
    expect(summary).to_have_text(re.compile(r"已选 2 项"))
    expect(heading).to_be_focused()
    expect(page.locator(".station-list > li").first).to_contain_text("微波炉")
    _first_result_on_screen(page)
    expect(status).to_have_text(" ".join(heading.inner_text().split()))
    check_page(page, "finder_filtered")

    # every station, open or not, within 50 km: a closed one says when it opens
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_label("正在开放").uncheck()
    expect(summary).to_have_text(re.compile(r"已选 1 项"))
    page.get_by_label("范围").select_option("50000")
    expect(summary).to_have_text(re.compile(r"已选 2 项"))
    expect(page).to_have_url(re.compile(r"open=n(?!&open=y)"))
    closed = page.locator(".station-list > li", has_text="现在未开放").first
    expect(closed.locator(".opens")).to_have_text(re.compile(r"^(明天 |星期. )?\d\d:\d\d 开放$"))
    _first_result_on_screen(page)
    check_page(page, "finder_all")

    closed.locator("a").first.click()
    expect(page.locator(".station-status .opens")).to_have_text(re.compile(r"\d\d:\d\d 开放$"))
    for name in ("其他驿站", "打印本驿站的二维码海报"):  # inline links are tap targets of at least 44x44 px
        link = page.get_by_role("link", name=name).bounding_box()
        assert link and link["height"] >= 44 and link["width"] >= 44, (name, link)
    check_page(page, "finder_closed_station")


def test_a_shared_link_without_open_shows_open_stations_and_a_district_centre_is_labelled(new_context):
    page = new_context().new_page()
    page.goto("/stations/?city=4401&district=440106")
    expect(page.locator("details.filters > summary")).to_have_text(re.compile(r"已选 1 项"))
    expect(page.get_by_label("正在开放", exact=True)).to_be_checked()
    first = page.locator(".station-list > li").first
    expect(first).to_contain_text("距天河区中心约")
    expect(first).not_to_contain_text("分钟")
    _first_result_on_screen(page)
    check_page(page, "finder_district")


def test_the_map_without_tiles_says_so_and_points_to_the_list(new_context):
    context = new_context(geolocation=TIANHE, permissions=["geolocation"])
    context.route(TILES, lambda route: route.abort())
    page: Page = context.new_page()
    page.goto("/stations/?lat=23.1260&lng=113.3620&view=map")
    notice = page.locator("[data-map-failed]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("地图加载失败")
    expect(notice.get_by_role("link")).to_have_attribute("href", "#stations-list")
    expect(page.locator("#stations-map .leaflet-control-attribution")).to_have_text(re.compile(r"^© OpenStreetMap"))
    expect(page.locator("#stations-map .leaflet-control-attribution svg")).to_have_count(0)  # no flag
    expect(page.locator("#stations-map .you-are-here")).to_have_count(1)
    expect(page.locator("#stations-map .leaflet-tooltip")).to_have_text("您在这里")
    marker = page.locator("#stations-map .station-marker").first
    expect(marker).to_contain_text(re.compile("开|闭"))  # a shape and a word, not colour alone
    marker.click()
    popup = page.locator("#stations-map .leaflet-popup-content")
    expect(popup).to_contain_text(re.compile(r"正在开放|现在未开放"))
    expect(popup.get_by_role("link", name=re.compile("^去这里"))).to_have_attribute("href", re.compile("amap"))
    zoom = page.locator("#stations-map .leaflet-control-zoom").bounding_box()
    box = page.locator("#stations-map .leaflet-popup").bounding_box()
    assert zoom and box and (box["x"] >= zoom["x"] + zoom["width"] or box["y"] >= zoom["y"] + zoom["height"]
                             or box["y"] + box["height"] <= zoom["y"]), (zoom, box)
    # the failed tiles are this test's premise: the page must say so, not stay silent
    page.wait_for_load_state("networkidle")
    errors = conftest._console_errors.get(page, [])
    errors[:] = [e for e in errors if "tile.openstreetmap.org" not in e and "ERR_FAILED" not in e]
    check_page(page, "finder_map_no_tiles")
