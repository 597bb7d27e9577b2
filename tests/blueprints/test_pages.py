"""The UI shell: pages, languages, the bottom navigation, and page-versus-fragment rendering."""

import re

import pytest

PAGES = ["/", "/grievances/", "/track/", "/stations/", "/member/", "/login", "/unions"]


def h1(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1).strip()


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_chinese_by_default_and_in_english_on_request(client, path):
    zh = client.get(path)
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", h1(zh)), "the heading is not Chinese: is the catalogue loaded?"
    en = client.get(path + "?lang=en")
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert not re.search(r"[\u4e00-\u9fff]", h1(en)) and h1(en) != h1(zh)


def test_the_language_choice_is_remembered_in_a_cookie(client):
    response = client.get("/?lang=en")
    cookie = client.get_cookie("lang")
    assert cookie.value == "en" and cookie.http_only and cookie.same_site == "Lax"
    assert "Set-Cookie" in response.headers
    assert '<html lang="en">' in client.get("/track/").get_data(as_text=True)
    client.get("/?lang=zh")
    assert '<html lang="zh-CN">' in client.get("/track/").get_data(as_text=True)


@pytest.mark.parametrize(("header", "lang"), [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.5", "zh-CN"),
                                              ("fr-FR", "zh-CN"), ("", "zh-CN")])
def test_accept_language_is_honoured(client, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_an_unknown_language_is_ignored(client):
    assert '<html lang="zh-CN">' in client.get("/?lang=xx").get_data(as_text=True)
    assert client.get_cookie("lang") is None


def test_the_switch_links_to_the_same_page_in_the_other_language(client):
    html = client.get("/unions?city=4401").get_data(as_text=True)
    assert 'href="/unions?city=4401&amp;lang=en"' in html


def test_bottom_navigation_has_the_four_areas_and_sign_in(client):
    html = client.get("/track/").get_data(as_text=True)
    nav = re.search(r'<nav class="bottom-nav".*?</nav>', html, re.S).group(0)
    labels = re.findall(r"<span>(.*?)</span>", nav)
    assert labels == ["诉求", "进度", "驿站", "会员", "登录"]
    assert re.search(r'href="/track/" aria-current="page"', nav)


def test_signed_in_navigation_shows_the_account_or_the_workbench(client, login_as):
    login_as("member")
    assert "<span>我的</span>" in client.get("/").get_data(as_text=True)


def test_staff_navigation_leads_to_the_workbench(client, login_as):
    login_as("staff", region="4401")
    assert "<span>工作台</span>" in client.get("/").get_data(as_text=True)


def test_the_picker_page_includes_the_same_fragment_htmx_swaps_in(client):
    page = client.get("/unions?city=4401&district=440106&town=440106006")
    fragment = client.get("/unions?city=4401&district=440106&town=440106006", headers={"HX-Request": "true"})
    page_html, fragment_html = page.get_data(as_text=True), fragment.get_data(as_text=True)
    picker, result = fragment_html.split('<div id="regions-result" hx-swap-oob="innerHTML">')
    assert picker.strip().startswith('<div id="regions-picker">') and "<html" not in fragment_html
    assert picker.strip() in page_html
    # The live region stays in the page; the fragment replaces only what is inside it.
    inner = result.rsplit("</div>", 1)[0].strip()
    assert "石牌街道总工会" in inner
    assert re.search(r'<div id="regions-result" aria-live="polite">\s*' + re.escape(inner), page_html)
    for response in (page, fragment):
        assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosted_and_history_restore_requests_get_the_whole_page(client, header):
    html = client.get("/unions", headers={"HX-Request": "true", header: "true"}).get_data(as_text=True)
    assert html.startswith("<!doctype html>")


def test_the_picker_walks_down_the_tree(client):
    html = client.get("/unions?city=4401&district=440106&town=440106006").get_data(as_text=True)
    assert '<option value="440106" selected>天河区</option>' in html
    assert "石牌街道总工会" in html
    assert "广东省 › 广州市 › 天河区 › 石牌街道" in html


@pytest.mark.parametrize("query", ["city=4403&district=440106", "city=9999", "city=%27%3B--&district=x" * 3,
                                   "city=" + "4" * 5000])
def test_inconsistent_or_garbage_choices_are_dropped(client, query):
    response = client.get("/unions?" + query)
    assert response.status_code == 200
    assert 'value="440106" selected' not in response.get_data(as_text=True)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
