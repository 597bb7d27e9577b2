"""Chinese is complete and current: every UI string in the code has a translation, with the same
placeholders. (That the catalogue is actually loaded is checked by the page tests.)"""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "portal" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def catalogue():
    with PO.open("rb") as f:
        return read_po(f)


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]", text))


def test_every_message_is_translated():
    missing = [m.id for m in catalogue() if m.id and (m.fuzzy or not all(
        m.string if isinstance(m.string, tuple) else [m.string]))]
    assert missing == []


def test_placeholders_survive_translation():
    for m in catalogue():
        if m.id:
            source = m.id if isinstance(m.id, str) else m.id[0]
            target = m.string if isinstance(m.string, str) else m.string[0]
            assert _placeholders(source) == _placeholders(target), source


def test_the_catalogue_holds_every_string_in_the_code():
    method_map = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")]
    in_code = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map=method_map,
                                                                        keywords=KEYWORDS):
        in_code.add(message if isinstance(message, str) else message[0])
    in_catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue() if m.id}
    assert len(in_code) > 100
    assert in_code - in_catalogue == set(), "run `make catalog` and translate the new strings"
