"""The layering rules of ARCHITECTURE.md, enforced: services read no request state, models and
extensions import upward nothing, views stay thin, and no module imports itself back in a circle."""

import ast
import re
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
REQUEST_STATE = {"request", "session", "g", "flash", "current_user", "render_template"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PORTAL.rglob("*.py"):
        parts = path.relative_to(PORTAL.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    result = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            result.append((node.module, [a.name for a in node.names]))
    return result


@pytest.mark.parametrize("name", sorted(n for n in modules() if n.startswith("portal.services")))
def test_services_read_no_request_state(name):
    for module, names in imports(modules()[name]):
        if module.startswith(("flask", "flask_login")):
            assert not REQUEST_STATE & set(names), f"{name} imports {REQUEST_STATE & set(names)} from {module}"


@pytest.mark.parametrize("name", sorted(n for n in modules() if n.startswith("portal.services")
                                       or n in {"portal.exceptions", "portal.clock"}))
def test_domain_code_knows_nothing_of_http(name):
    """Services and their exceptions import neither Flask nor Werkzeug nor the error pages; they read settings
    through portal.settings and raise portal.exceptions, which portal.errors maps to responses."""
    for module, _ in imports(modules()[name]):
        top = module.split(".")[0]
        assert top not in {"flask", "werkzeug"} and not module.startswith("portal.errors"), f"{name} imports {module}"


def _blueprint_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["portal", "blueprints"] and len(parts) > 2 else None


def test_blueprints_import_no_other_blueprint():
    """What two blueprints share lives in portal.widgets (or a service), so each blueprint can be read alone."""
    for name, path in modules().items():
        own = _blueprint_of(name)
        if own is None:
            continue
        for module, names in imports(path):
            other = _blueprint_of(module) or next(
                (b for b in (_blueprint_of(f"{module}.{n}") for n in names) if b), None) if module.startswith(
                "portal.blueprints") else None
            assert other in {None, own}, f"{name} imports the {other} blueprint ({module})"


@pytest.mark.parametrize(("prefix", "forbidden"), [
    ("portal.models", ("portal.services", "portal.blueprints")),
    ("portal.services", ("portal.blueprints", "portal.widgets", "portal.errors", "portal.demo")),
    ("portal.blueprints", ("portal.demo",)),  # demo data is loaded by the CLI only
    ("portal.extensions", ("portal",)),
])
def test_layers_import_downward_only(prefix, forbidden):
    for name, path in modules().items():
        if name.startswith(prefix):
            for module, _ in imports(path):
                assert not module.startswith(forbidden), f"{name} imports {module}"


def test_no_import_cycles():
    known = modules()
    graph = {}
    for name, path in known.items():
        targets = set()
        for module, names in imports(path):
            submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
            # `from portal import clock` imports portal.clock (and runs portal/__init__, which imports nothing
            # at the top); only names that are not modules make the package itself a target.
            candidates = submodules if submodules and len(submodules) == len(names) else [module, *submodules]
            for candidate in candidates:
                if candidate in known and candidate != name:
                    targets.add(candidate)
        graph[name] = targets
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_views_are_thin():
    """Every function a blueprint's views module defines (routes.py, and any other module with views, such as
    the API's) stays within 15 lines without its docstring: views and undecorated helpers alike."""
    too_long = []
    for path in sorted((PORTAL / "blueprints").rglob("*.py")):
        functions = [node for node in ast.parse(path.read_text(encoding="utf-8")).body
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        has_views = any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") in {"get", "post", "route"}
                        for node in functions for d in node.decorator_list)
        for node in functions if path.name == "routes.py" or has_views else ():
            body = node.body[1:] if ast.get_docstring(node) else node.body
            length = body[-1].end_lineno - body[0].lineno + 1 if body else 0
            if length > 15:
                too_long.append(f"{path.parent.name}/{path.name}: {node.name} has {length} lines")
    assert not too_long, "move rules to a service or a form: " + "; ".join(too_long)


# Service functions that commit without beginning their write transaction first, and why.
BEST_EFFORT_WRITES = {"portal.services.users.resume_session"}  # records activity if no writer is busy


def test_every_service_that_commits_begins_its_write_transaction():
    """On SQLite a transaction that reads and then writes must begin IMMEDIATE (portal.database)."""
    for name, path in modules().items():
        if not name.startswith("portal.services"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            source = ast.unparse(node)
            commits = "db.session.commit()" in source or "_apply(" in source
            decorated = any(getattr(d, "id", None) == "command" for d in node.decorator_list)
            declared = decorated or "begin_write()" in source
            if commits and f"{name}.{node.name}" not in BEST_EFFORT_WRITES:
                assert declared, f"{name}.{node.name} commits: decorate it with @command or call begin_write()"


def test_translations_come_from_portal_i18n_only():
    """One way to translate: portal.i18n finds the catalogue once per request (Flask-Babel's own functions
    look it up for every string)."""
    for name, path in modules().items():
        if name != "portal.i18n":
            for module, names in imports(path):
                assert not (module.startswith("flask_babel") and {n for n in names if "gettext" in n}), name


def test_services_hold_no_display_names():
    """Display names of domain values live in portal.vocabulary, keyed by code: no module-level name in
    portal.services ends in LABELS, and no module-level value there holds translated strings inside a table (a
    dict, a tuple, objects built in one). A message raised or returned beside its rule is one `_l(…)`: it stays."""
    translated = {"_l", "lazy_gettext", "gettext", "_", "ngettext"}
    for name, path in modules().items():
        if not name.startswith("portal.services"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            assert not [n for n in names if n.endswith("LABELS")], f"{name}.{names[0]}: move it to portal.vocabulary"
            if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) in translated:
                continue  # one message
            calls = [c for c in ast.walk(node.value) if isinstance(c, ast.Call)
                     and getattr(c.func, "id", None) in translated]
            assert not calls, f"{name}.{names[0] if names else '?'} holds translated names: use portal.vocabulary"


TICKET_TEMPLATES = ("staff", "tracking", "grievances")
STATUS_TEST = re.compile(r"\.status(\.value)?\s*(==|!=|\bin\b|\bis\b|\bnot\b)")


@pytest.mark.parametrize("folder", TICKET_TEMPLATES)
def test_ticket_templates_hold_no_status_rules(folder):
    """What may be done to a ticket is the workflow's (tickets.staff_actions / worker_actions); a template that
    tests a status itself would be a second room for that rule."""
    for path in (PORTAL / "templates" / folder).rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not STATUS_TEST.search(line), f"{path.relative_to(PORTAL)}:{number} tests a status: {line.strip()}"


RAW_FIELDS = {"IntegerField", "DecimalField", "FloatField", "DateField", "DateTimeField", "DateTimeLocalField",
              "IntegerRangeField", "DecimalRangeField"}


def test_numbers_and_dates_from_outside_are_read_by_the_input_layer():
    """One set of parsers (portal.inputs): no form declares WTForms' own number or date fields (int() reads ² and
    ١٢٣ and any length; strptime takes year 1), and parse.py stays free of Flask so services can use it."""
    for name, path in modules().items():
        if not name.startswith("portal.inputs"):
            for module, names in imports(path):
                if module.startswith("wtforms"):
                    assert not RAW_FIELDS & set(names), f"{name} imports {RAW_FIELDS & set(names)}"
    for module, _ in imports(modules()["portal.inputs.parse"]):
        assert module.split(".")[0] not in {"flask", "werkzeug", "wtforms"}, module
    assert imports(modules()["portal.inputs"]) == []
