"""Rest stations at a phone's width: a rider finds the nearest open station with a microwave and the way
there; the map shows the same stations; a station manager changes a facility and the public page shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

TIANHE = {"latitude": 23.1260, "longitude": 113.3620}  # near 天河区's centre, where the demo has stations
# A 1x1 PNG for every map tile: CI reaches no tile server, and the map must still be drawn.
TILE = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d4944415478da63f8cfc0f01f0005000201ab1f6b330000000049454e44ae426082")


def test_a_rider_finds_the_nearest_open_station_with_a_microwave(new_context):
    context = new_context(geolocation=TIANHE, permissions=["geolocation"])
    context.route(re.compile(r"https://tile\.openstreetmap\.org/.*"),
                  lambda route: route.fulfill(status=200, content_type="image/png", body=TILE))
    page: Page = context.new_page()
    page.goto("/stations/")
    expect(page.locator("h1")).to_have_text("查找驿站")
    check_page(page, "stations_find")
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#stations-results h2")).to_contain_text("您的位置")
    page.get_by_label("微波炉").check()
    expect(page).to_have_url(re.compile(r"f=microwave"))
    page.get_by_label("正在开放").check()
    expect(page).to_have_url(re.compile(r"open=y"))
    first = page.locator(".station-list > li").first
    expect(first).to_contain_text("微波炉")
    expect(first).to_contain_text("正在开放")
    check_page(page, "stations_results")

    page.get_by_role("link", name="在地图上显示").click()
    expect(page.locator("#stations-map .leaflet-marker-icon").first).to_be_visible()
    assert page.locator("#stations-map .leaflet-marker-icon").count() == page.locator(".station-list > li").count()
    check_page(page, "stations_map")

    page.locator(".station-list > li a").first.click()
    expect(page.locator("main")).to_contain_text("正在开放")
    expect(page.locator(".facility-icons")).to_contain_text("微波炉")
    amap = page.get_by_role("link", name="用高德地图步行导航")
    expect(amap).to_have_attribute("href", re.compile(r"^https://uri\.amap\.com/navigation\?to=113\.\d+%2C23\.\d+"))
    check_page(page, "station")
    page.get_by_role("link", name="打印本驿站的二维码海报").click()
    expect(page.locator("svg.qr")).to_be_visible()
    check_page(page, "station_poster")


def test_the_finder_works_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/stations/")
    page.get_by_label("市", exact=True).select_option(label="广州市")
    page.get_by_role("button", name="显示驿站").click()
    expect(page.locator(".station-list > li").first).to_be_visible()
    check_page(page, "stations_nojs")


def test_a_manager_lists_a_fridge_and_the_public_page_shows_it(page: Page):
    page.goto("/login")
    sign_in(page, "19900000201", "Demo-Portal-2026")
    page.goto("/stations/manage/")
    page.locator(".ticket-list a").first.click()
    check_page(page, "station_edit")
    fridge = page.get_by_role("button", name="冰箱")
    if fridge.get_attribute("aria-pressed") == "true":  # a rerun on the same server: start from "not listed"
        fridge.click()
        expect(page.get_by_role("button", name="冰箱")).to_have_attribute("aria-pressed", "false")
    page.get_by_role("button", name="冰箱").click()
    expect(page.get_by_role("status")).to_contain_text("冰箱：已显示")
    expect(page.get_by_role("button", name="冰箱")).to_have_attribute("aria-pressed", "true")
    check_page(page, "station_edit_saved")
    page.get_by_role("link", name="查看公开页面").click()
    expect(page.locator(".facility-icons")).to_contain_text("冰箱")
    expect(page.locator("main")).to_contain_text("驿站站长")
