"""The suite's own rules, checked with `ast`: no test depends on the day or hour it runs (the `clock` fixture is
the application's one clock), and no test module borrows another test module's helpers.

- Time: outside tests/conftest.py (the `clock` fixture) a test never reads the real clock (datetime.now,
  date.today, time.time …) nor touches portal.clock; it takes NOW, or the `clock` fixture to set, advance or
  read the application's time (`clock.wall()` for what a library dates by the real clock). Code a test runs in a
  child process (a string of Python) is held to the same rule. Durations (time.monotonic, perf_counter) are
  fine. The browser journeys are exempt: they drive a live server on its real clock.
- Imports: shared helpers live in tests/factories.py (data), tests/live.py (live servers), tests/standin.py (the
  SMS providers' stand-in) and the conftest modules (fixtures; tests/browser/conftest.py for the journeys'
  steps); a test module imports nothing else from tests/.
"""

from __future__ import annotations

import ast
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import NOW

TESTS = Path(__file__).resolve().parent
SHARED = {"tests.conftest", "tests.factories", "tests.live", "tests.standin"}
REAL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
              ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"), ("time", "ctime")}


def modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "vendor" not in p.parts)


def _name(node: ast.AST) -> str:
    """`a.b.c` for an attribute chain, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _name(node.value)):
        return f"{base}.{node.attr}"
    return ""


def clock_reads(source: str) -> list[str]:
    """Where `source` reads the real clock or touches portal.clock, as 'line N: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call) and (called := _name(node.func)):
            if tuple(called.split(".")[-2:]) in REAL_CLOCK:
                found.append(f"line {line}: {called}()")
        elif isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names if a.name.startswith("portal.clock")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("portal.clock") or (node.module == "portal"
                                                         and any(a.name == "clock" for a in node.names)):
                found.append(f"line {line}: from {node.module} import …clock")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("portal.clock."):  # monkeypatch.setattr("portal.clock.now", …)
                found.append(f"line {line}: {node.value!r} (the `clock` fixture sets the time)")
            elif (code := _code(node.value)) is not None:
                found += [f"line {line}, in the string of code: {what}" for what in clock_reads(code)]
    return found


def _code(text: str) -> str | None:
    """`text` when it is a module of Python (as a test hands to a child process), else None."""
    if "\n" not in text or "import " not in text:
        return None
    try:
        ast.parse(code := textwrap.dedent(text))
    except SyntaxError:
        return None
    return code


def _file(module: str) -> Path | None:
    """The file of a module of the repository ('tests.live' → tests/live.py), None when there is none."""
    base = TESTS.parent.joinpath(*module.split("."))
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.exists()), None)


def foreign_imports(path: Path, source: str) -> list[str]:
    """The other test modules `source` (the module at `path`) imports from, as 'line N: module'."""
    package = path.relative_to(TESTS.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (code := _code(node.value)):
            found.update(f"line {node.lineno}, in the string of code: {what}" for what in foreign_imports(path, code))
            continue
        if isinstance(node, ast.Import):
            imported = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to this module's package
                parent = package[:len(package) - node.level + 1]
                base = ".".join((*parent, node.module) if node.module else parent)
            # `from tests.services import test_x` imports a module; `from tests.factories import wages` a name
            imported = [f"{base}.{a.name}" if _file(f"{base}.{a.name}") else base for a in node.names]
        else:
            continue
        for module in imported:
            file = _file(module)
            if (module.split(".")[0] == "tests" and module not in SHARED and module.split(".")[-1] != "conftest"
                    and not (file and file.name == "__init__.py")):
                found.add(f"line {node.lineno}: {module}")
    return sorted(found)


RULED = [p for p in modules() if p != Path(__file__).resolve()]  # the examples below break the rules on purpose
CLOCK_FREE = [p for p in RULED if "browser" not in p.parts and p != TESTS / "conftest.py"]


@pytest.mark.parametrize("path", CLOCK_FREE, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_reads_the_real_clock(path):
    found = clock_reads(path.read_text(encoding="utf-8"))
    assert not found, (f"{path.relative_to(TESTS)} reads the real clock; take NOW or the `clock` fixture "
                       f"(tests/conftest.py) instead:\n  " + "\n  ".join(found))


@pytest.mark.parametrize("path", RULED, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_module_imports_another(path):
    found = foreign_imports(path, path.read_text(encoding="utf-8"))
    assert not found, (f"{path.relative_to(TESTS)} imports from another test module; move what it needs to "
                       f"tests/factories.py, tests/live.py or a conftest:\n  " + "\n  ".join(found))


def test_the_clock_fixture_is_the_applications_clock(clock):
    import portal.clock  # this module may: the rule above exempts its examples

    assert portal.clock.now() == clock.now() == NOW
    assert clock.advance(minutes=5) == portal.clock.now() == NOW + timedelta(minutes=5)
    assert clock.set(datetime(2027, 2, 1, tzinfo=UTC)) == portal.clock.now()
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 2, 1))  # naive: portal.clock.now() is always aware


# --------------------------------------------------------------------------- the rules catch what they should

@pytest.mark.parametrize("source", [
    "from datetime import UTC, datetime\nx = datetime.now(UTC)",
    "import datetime\nx = datetime.datetime.now()",
    "from datetime import date\nx = date.today()",
    "import time\nx = time.time()",
    "from portal import clock\nx = clock.now()",
    "import portal.clock",
    "def t(monkeypatch):\n    monkeypatch.setattr('portal.clock.now', lambda: 1)",
    'CHILD = """\n    import sys\n    from datetime import UTC, datetime\n    print(datetime.now(UTC))\n"""',
])
def test_the_clock_rule_catches(source):
    assert clock_reads(source)


@pytest.mark.parametrize("source", [
    "import time\nstarted = time.monotonic()",
    "def test(clock):\n    clock.advance(minutes=5)\n    assert clock.now()",
    "from tests.factories import NOW\nx = NOW",
])
def test_the_clock_rule_lets_pass(source):
    assert not clock_reads(source)


@pytest.mark.parametrize(("source", "expected"), [
    ("from tests.services.test_tickets import wages", "tests.services.test_tickets"),
    ("import tests.blueprints.test_grievances", "tests.blueprints.test_grievances"),
    ("from .test_tickets import wages", "tests.services.test_tickets"),
    ("from . import test_tickets", "tests.services.test_tickets"),
    ("from tests.services import test_tickets", "tests.services.test_tickets"),
    ('CHILD = """\n    import sys\n    from tests.services.test_tickets import wages\n"""',
     "tests.services.test_tickets"),
])
def test_the_import_rule_catches(source, expected):
    assert [line.rsplit(": ", 1)[1] for line in foreign_imports(TESTS / "services" / "test_x.py", source)] == [
        expected]


@pytest.mark.parametrize("source", [
    "from tests.conftest import NOW, login", "from tests.factories import wages", "from tests import factories",
    "from tests.live import Client", "from tests.browser.conftest import sign_in", "from . import conftest",
    "from tests.browser import conftest", "from portal.services import tickets",
])
def test_the_import_rule_lets_pass(source):
    assert not foreign_imports(TESTS / "services" / "test_x.py", source)
