"""The lean field drawing (portal.widgets.html) gives WTForms' own HTML, byte for byte, on every field of every
portal form: blank, filled with text that needs escaping, with errors and with the attributes templates pass."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from markupsafe import Markup
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import SelectChoice
from wtforms.meta import DefaultMeta

from portal import BLUEPRINTS
from portal.forms import Form
from portal.widgets import html

TRICKY = 'a "quoted" <b>&amp; \'single\' 工资'
ATTRIBUTES = [
    {},
    {"rows": 6, "maxlength": 4000, "hx-post": "/grievances/suggest?a=1&b=2", "hx-trigger": "input changed delay:800ms",
     "aria-describedby": "x-hint x-error", "aria-invalid": "true"},
    {"class_": "wide", "data_role": 'say "hi"', "autocomplete": "tel", "inputmode": "tel", "autofocus": True,
     "required": False, "value": "<given>", "accept": "image/jpeg,image/png"},
    {"title": Markup('already "safe" <i>markup</i>'), "placeholder": None, "for_": "x", "step": 0.5},
]


def _all_forms(cls=Form):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_forms(sub)


def _formdata(form_cls) -> MultiDict:
    """A value for every field: a choice where there are choices (the first real one), else text to escape."""
    data = MultiDict()
    for name, unbound in form_cls._unbound_fields or []:
        choices = unbound.kwargs.get("choices") or (unbound.args[1] if len(unbound.args) > 1 else None)
        if callable(choices):
            choices = choices()
        if isinstance(choices, list) and choices:
            values = [c.value if isinstance(c, SelectChoice) else c[0] for c in choices]
            data.add(name, str(values[-1]))
            continue
        data.add(name, TRICKY)
    return data


EXTRA = {"DecideForm": {"row": 7}}  # forms whose constructor needs more than form data


def _make(form_cls, **kwargs):
    return form_cls(**kwargs, **EXTRA.get(form_cls.__name__, {}))


def _drawn(field):
    """The field and, for fields drawn as a list of options (radios, checkbox chips), each option."""
    yield field
    if hasattr(field, "_Option"):
        yield from field


for _name in BLUEPRINTS:  # every form class is defined by the time the blueprints are imported
    import_module(f"portal.blueprints.{_name}")
FORMS = sorted(set(_all_forms()), key=lambda f: (f.__module__, f.__qualname__))


@pytest.mark.parametrize("form_cls", FORMS, ids=lambda f: f"{f.__module__.split('.')[-2]}.{f.__qualname__}")
@pytest.mark.parametrize("filled", [False, True], ids=["blank", "filled"])
def test_every_field_is_drawn_as_wtforms_draws_it(app, form_cls, filled):
    checked = 0
    with app.test_request_context("/", method="POST"):
        form = _make(form_cls, formdata=_formdata(form_cls) if filled else None)
        if filled:
            form.validate()  # errors and the coerced data, as a refused post shows them
        for field in form:
            for part in _drawn(field):
                for attrs in ATTRIBUTES:
                    ours = html.render_field(part, dict(attrs))
                    theirs = DefaultMeta.render_field(part.meta, part, dict(attrs))
                    assert str(ours) == str(theirs), (form_cls.__qualname__, part.name, attrs)
                    checked += 1
    assert checked >= 3  # every form has at least one field drawn


def test_lean_renderers_cover_the_widgets_portal_forms_use(app):
    """A widget without a lean renderer falls back to WTForms (still correct); the portal's own use all have one,
    except the list of checkboxes, whose checkboxes do."""
    with app.test_request_context("/"):
        used = {type(field.widget) for cls in FORMS for field in _make(cls)}
    missing = {cls.__name__ for cls in used if cls not in html.RENDERERS}
    assert missing <= {"ListWidget"}, missing


def test_a_file_and_a_password_never_show_a_value(app):
    with app.test_request_context("/", method="POST"):
        from wtforms import Form as Plain  # noqa: PLC0415
        from wtforms import MultipleFileField, PasswordField

        class Upload(Plain):
            files = MultipleFileField()
            secret = PasswordField()

        form = Upload(MultiDict([("files", FileStorage(filename="a.pdf")), ("secret", "hunter2")]))
        assert str(html.render_field(form.files, {})) == '<input id="files" multiple name="files" type="file">'
        assert str(html.render_field(form.secret, {})) == '<input id="secret" name="secret" type="password" value="">'


# The `field` macro as it was written in Jinja (templates/_forms.html before field_block took its place).
JINJA_FIELD = """{% macro field(f, hint=None) -%}
  {% set attrs = dict(kwargs) %}
  {% set described = [] %}
  {% if hint %}{% set _ = described.append(f.id ~ "-hint") %}{% endif %}
  {% if f.errors %}{% set _ = described.append(f.id ~ "-error") %}
    {% set _ = attrs.update({"aria-invalid": "true"}) %}{% endif %}
  {% if described %}{% set _ = attrs.update({"aria-describedby": described|join(" ")}) %}{% endif %}
  <div class="field{% if f.errors %} field-invalid{% endif %}{% if f.type == 'BooleanField' %} field-check{% endif %}">
    {% if f.type == "BooleanField" %}
      {{ f(**attrs) }} {{ f.label }}
    {% else %}
      {{ f.label }}
      {% if hint %}<p class="hint" id="{{ f.id }}-hint">{{ hint }}</p>{% endif %}
      {{ f(**attrs) }}
    {% endif %}
    {% if f.errors %}<p class="error" id="{{ f.id }}-error">{{ f.errors|join(" ") }}</p>{% endif %}
  </div>
{%- endmacro %}"""


def _spaced(html: str) -> str:
    """Whitespace as a browser reads it: any run is one space, none between tags."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()


@pytest.mark.parametrize("form_cls", FORMS, ids=lambda f: f"{f.__module__.split('.')[-2]}.{f.__qualname__}")
def test_the_field_macro_draws_what_its_jinja_version_drew(app, form_cls):
    macro = app.jinja_env.from_string(JINJA_FIELD).module.field
    ours = app.jinja_env.get_template("_forms.html").module
    drawn = 0
    with app.test_request_context("/", method="POST"):
        form = _make(form_cls, formdata=_formdata(form_cls))
        form.validate()
        for field in form:
            for errors in (list(field.errors), []):
                field.errors = errors
                for hint in (None, 'Say <b>"what"</b> & why'):
                    for attrs in ATTRIBUTES[:3]:
                        kw = {k: v for k, v in attrs.items() if k != "value"}
                        assert _spaced(ours.field(field, hint=hint, **kw)) == _spaced(macro(field, hint=hint, **kw)), (
                            form_cls.__qualname__, field.name, errors, hint, kw)
                        drawn += 1
    assert drawn >= 12
