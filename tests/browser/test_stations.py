"""Rest stations at a phone's width: a rider finds the nearest open station with a microwave and the way
there; the map shows the same stations; a station manager changes a facility and the public page shows it."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, sign_in

pytestmark = pytest.mark.browser

TIANHE = {"latitude": 23.1260, "longitude": 113.3620}  # near 天河区's centre, where the demo has stations


def _tile() -> bytes:
    """A plain light-grey tile for every map tile request: CI reaches no tile server, and the map must still
    be drawn."""
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (232, 232, 228)).save(out, "PNG")
    return out.getvalue()


TILE = _tile()


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
    page.locator("details.filters > summary").click()  # the filters sit behind one control (issue 14)
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
    expect(page.locator("svg.qr")).to_have_count(2)  # the station's page, and "report a problem here"
    expect(page.locator("svg.qr").first).to_be_visible()
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
    page.get_by_role("link", name="我的", exact=True).click()
    page.get_by_role("link", name="我的驿站").click()
    expect(page.locator("h1")).to_have_text("我的驿站")
    check_page(page, "stations_manage")
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


CSV_HEADER = ("external_id,name,kind,address,region_code,lat,lng,facilities,phone,holiday_note,"
              "mon,tue,wed,thu,fri,sat,sun")
CSV_ROW = ("bj-{n},石牌测试驿站{n},union,天河区测试路{n}号,440106006,{lat},113.3340,water|charging,,,"
           "24h,24h,24h,24h,24h,,")


def test_an_administrator_imports_a_file_after_the_report_points_at_a_bad_row(page: Page, tmp_path):
    page.goto("/login")
    sign_in(page, "19900000009", "Demo-Portal-2026")
    page.get_by_role("link", name="我的账户").click()
    page.get_by_role("link", name="驿站导入导出").click()
    expect(page.locator("h1")).to_have_text("驿站导入导出")
    check_page(page, "stations_admin")
    bad = tmp_path / "stations.csv"
    bad.write_text("\n".join([CSV_HEADER, CSV_ROW.format(n=1, lat=23.1353), CSV_ROW.format(n=2, lat="abc")]) + "\n",
                   encoding="utf-8-sig")
    page.get_by_label("CSV 或 GeoJSON 文件").set_input_files(bad)
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("alert")).to_contain_text("第 3 行")
    check_page(page, "stations_admin_refused")
    bad.write_text("\n".join([CSV_HEADER, CSV_ROW.format(n=1, lat=23.1353), CSV_ROW.format(n=2, lat=23.1360)]) + "\n",
                   encoding="utf-8-sig")
    page.get_by_label("CSV 或 GeoJSON 文件").set_input_files(bad)
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("status")).to_contain_text("新增 2")
    check_page(page, "stations_admin_done")
