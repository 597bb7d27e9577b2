"""English place names: every region of the dataset gets a plain English name ending in its kind, and the
known names come out as they are customarily written."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from pypinyin import Style, lazy_pinyin

from portal import vocabulary
from portal.models import RegionLevel
from portal.services import place_names
from portal.services.place_names import SUFFIXES, english_place_name
from portal.services.regions import Place, read_dataset

# Letters, spaces, apostrophes and hyphens; digits and a period for numbered units ("No. 129 Regiment"),
# a comma and brackets for the few names with an aside ("Pilot Free Trade Zone (Shanghai) (Bonded Area)").
PLAIN = re.compile(r"[A-Z][A-Za-z0-9 '\-.,()]*")
ASIDES = re.compile(r"( \([^()]*\))+$")

# The kinds of place that make up nearly the whole tree, written out here rather than read from the module.
KINDS = {"街道": "Subdistrict", "镇": "Town", "乡": "Township", "县": "County", "旗": "Banner", "苏木": "Sumu",
         "盟": "League", "自治州": "Autonomous Prefecture", "自治县": "Autonomous County",
         "自治旗": "Autonomous Banner", "自治区": "Autonomous Region", "农场": "Farm", "监狱": "Prison"}

# Siblings whose names sound alike without tones: toneless Pinyin writes them alike, as official English does.
HOMOPHONES = {("清河镇", "庆和镇"), ("螺阳镇", "洛阳镇"), ("马屯镇", "麻屯镇"), ("回龙镇", "会龙镇")}


@pytest.fixture(scope="module")
def tree() -> list[tuple[Place, str]]:
    """Every region of the vendored dataset (all provinces, no database) with its English name."""
    return [(p, english_place_name(p.name, p.level)) for p in read_dataset(None)]


def test_the_whole_tree_is_covered(tree):
    levels = defaultdict(int)
    for p, _ in tree:
        levels[p.level] += 1
    assert levels[RegionLevel.PROVINCE] == 31 and levels[RegionLevel.CITY] == 342
    assert levels[RegionLevel.DISTRICT] > 2900 and levels[RegionLevel.TOWN] > 41000


def test_every_name_is_plain_english(tree):
    bad = [(p.name, english) for p, english in tree if not PLAIN.fullmatch(english) or "  " in english]
    assert bad == []


def test_every_name_ends_in_its_kind(tree):
    wrong = []
    for p, english in tree:
        bare = ASIDES.sub("", english)
        chinese = re.sub(r"（[^（）]*）", "", p.name)
        kind = next((k for k in sorted(KINDS, key=len, reverse=True) if chinese.endswith(k) and chinese != k), None)
        if kind and not bare.endswith(KINDS[kind]) and not (kind == "县" and bare == "Counties"):
            wrong.append((p.name, english, KINDS[kind]))
        ending = place_names._split_suffix(chinese)[1]  # the ending chosen, translated
        expected = "Area" if ending == "地区" and p.level is RegionLevel.TOWN else SUFFIXES.get(ending)
        if expected and chinese not in SUFFIXES and chinese not in place_names.WHOLE_NAMES \
                and not bare.endswith(expected):
            wrong.append((p.name, english, expected))
        if chinese.endswith(("省", "市")) and bare.endswith(("Province", "City")):
            wrong.append((p.name, english, "no Province or City"))
    assert wrong == []


def test_siblings_are_told_apart_unless_they_sound_alike(tree):
    seen: dict[tuple[str | None, str], str] = {}
    alike = set()
    for p, english in tree:
        other = seen.setdefault((p.parent_code, english), p.name)
        if other != p.name:
            alike.add((other, p.name))
    assert alike == HOMOPHONES
    for a, b in alike:
        assert lazy_pinyin(a, style=Style.NORMAL) == lazy_pinyin(b, style=Style.NORMAL)


@pytest.mark.parametrize(("name", "level", "english"), [
    ("石牌街道", "town", "Shipai Subdistrict"),
    ("天河区", "district", "Tianhe District"),
    ("广州市", "city", "Guangzhou"),
    ("广东省", "province", "Guangdong"),
    ("北京市", "province", "Beijing"),
    ("广西壮族自治区", "province", "Guangxi Zhuang Autonomous Region"),
    ("内蒙古自治区", "province", "Inner Mongolia Autonomous Region"),
    ("西藏自治区", "province", "Xizang Autonomous Region"),
    ("新疆维吾尔自治区", "province", "Xinjiang Uygur Autonomous Region"),
    ("陕西省", "province", "Shaanxi"),
    ("山西省", "province", "Shanxi"),
    ("西安市", "city", "Xi'an"),
    ("延安市", "city", "Yan'an"),
    ("长治市", "city", "Changzhi"),
    ("郫都区", "district", "Pidu District"),
    ("朝阳区", "district", "Chaoyang District"),
    ("筠连县", "district", "Junlian County"),
    ("洪洞县", "district", "Hongtong County"),
    ("单县", "district", "Shan County"),
    ("浚县", "district", "Xun County"),
    ("繁峙县", "district", "Fanshi County"),
    ("涡阳县", "district", "Guoyang County"),
    ("长子县", "district", "Zhangzi County"),
    ("漯河市", "city", "Luohe"),
    ("泊头市", "district", "Botou"),
    ("珲春市", "district", "Hunchun"),
    ("吕梁市", "city", "Lyuliang"),
    ("六安市", "city", "Lu'an"),
    ("呼和浩特市", "city", "Hohhot"),
    ("日喀则市", "city", "Xigaze"),
    ("芒市", "district", "Mangshi"),
    ("城区", "district", "Cheng District"),
    ("清新区", "district", "Qingxin District"),
    ("滨海新区", "district", "Binhai New Area"),
    ("市辖区", "city", "Districts"),
    ("省直辖县级行政区划", "city", "County-level Divisions under the Province"),
    ("延边朝鲜族自治州", "city", "Yanbian Korean Autonomous Prefecture"),
    ("黔东南苗族侗族自治州", "city", "Qiandongnan Miao and Dong Autonomous Prefecture"),
    ("鄂伦春自治旗", "district", "Oroqen Autonomous Banner"),
    ("苏尼特右旗", "district", "Sunite Right Banner"),
    ("科尔沁左翼中旗", "district", "Ke'erqin Left Wing Middle Banner"),
    ("巴彦淖尔市", "city", "Bayannur"),
    ("白银库伦镇", "town", "Baiyinkulun Town"),
    ("黄石港区", "district", "Huangshigang District"),
    ("山西绛县经济开发区", "district", "Shanxi Jiang County Economic Development Zone"),
    ("棋山国家森林公园", "town", "Qishan National Forest Park"),
    ("梅里斯达斡尔族区", "district", "Meilisi Daur District"),
    ("兴安盟", "city", "Xing'an League"),
    ("阿里地区", "city", "Ngari Prefecture"),
    ("南磨房地区", "town", "Nanmofang Area"),
    ("白腊苗族乡", "town", "Baila Miao Ethnic Township"),
    ("军赛佤族拉祜族傈僳族德昂族乡", "town", "Junsai Va, Lahu, Lisu and De'ang Ethnic Township"),
    ("四族镇", "town", "Sizu Town"),
    ("一二九团", "town", "No. 129 Regiment"),
    ("八五〇农场", "town", "No. 850 Farm"),
    ("石家庄高新技术产业开发区", "district", "Shijiazhuang High-tech Industrial Development Zone"),
    ("河北唐山芦台经济开发区", "district", "Hebei Tangshan Lutai Economic Development Zone"),
    ("中国（上海）自由贸易试验区（保税片区）", "town", "China Pilot Free Trade Zone (Shanghai) (Bonded Area)"),
])
def test_known_names(name, level, english):
    assert english_place_name(name, RegionLevel(level)) == english


@pytest.mark.parametrize("proper", sorted(place_names.PROPER_NAMES))
def test_every_customary_name_is_used(proper):
    assert place_names.romanise(proper) == place_names.PROPER_NAMES[proper]


@pytest.mark.parametrize("phrase", sorted(place_names.READINGS))
def test_every_place_name_reading_is_used(phrase):
    word = ""
    for syllable in place_names.READINGS[phrase].split():
        word += ("'" if word and syllable[0] in "aoe" else "") + syllable
    assert place_names.romanise(phrase) == word.capitalize()


def test_readings_of_single_characters_apply_anywhere():
    for char, reading in place_names.CHAR_READINGS.items():
        assert place_names._syllables("东" + char + "西")[1] == reading


def test_place_name_follows_the_readers_language(app):
    tianhe = Place("440106", "天河区", RegionLevel.DISTRICT, "4401", None, None)
    with app.test_request_context("/?lang=en"):
        assert vocabulary.place_name(tianhe) == "Tianhe District"
        assert str(vocabulary.union_name(tianhe)) == "Tianhe District Federation of Trade Unions"
    with app.test_request_context("/?lang=zh"):
        assert vocabulary.place_name(tianhe) == "天河区"
        assert str(vocabulary.union_name(tianhe)) == "天河区总工会"
