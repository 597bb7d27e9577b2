"""Form fields drawn as WTForms draws them, byte for byte, at a fraction of the cost.

WTForms builds every attribute through `Markup.format` (Python's string.Formatter) and looks for validation
flags with `dir()`: about 0.3 ms a field, most of the grievance form's render time. `render_field` is the
portal forms' `Meta.render_field` (portal.forms.Form): the same attributes, sorted and escaped the same way, in
plain f-strings over markupsafe's C escape. A widget it does not know (a subclass with its own drawing, a
datalist) is drawn by WTForms itself. tests/test_widgets_html.py compares both on every field of every form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from markupsafe import Markup, escape
from wtforms import widgets as w
from wtforms.widgets.core import clean_key


def attributes(kw: dict) -> str:
    """wtforms.widgets.html_params: sorted by the given names, True bare, False left out, values escaped."""
    out = []
    for k, v in sorted(kw.items()):
        if v is True:
            out.append(_name(k))
        elif v is not False:
            out.append(f'{_name(k)}="{_text(v) if type(v) is str else str(escape(v)).replace(QUOTE, "&quot;")}"')
    return " ".join(out)


QUOTE = '"'


@lru_cache(maxsize=1024)
def _name(key: str) -> str:
    """An attribute's name as WTForms writes it (class_ → class, data_x_y → data-x-y), escaped; names come from
    code and templates, a few dozen in all."""
    return str(escape(clean_key(key)))


def _text(value: str) -> str:
    """markupsafe.escape of a plain string, without building a Markup (its pure-Python replacements)."""
    return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


def _flags(widget, field, kw: dict, call: bool) -> None:
    """The validation attributes the field's validators set (required, maxlength …), unless given."""
    flags = getattr(field, "flags", None)
    found = vars(flags) if flags is not None else {}
    for k in widget.validation_attrs:
        if k in found and k not in kw:
            value = found[k]
            kw[k] = value() if call and callable(value) else value


def _input(widget, field, kw: dict) -> Markup:
    kw.setdefault("id", field.id)
    kw.setdefault("type", widget.input_type)
    if "value" not in kw:
        kw["value"] = field._value()
    _flags(widget, field, kw, call=True)
    kw["name"] = field.name
    return Markup(f"<input {attributes(kw)}>")  # noqa: S704 — every value escaped by attributes()


def _checkbox(widget, field, kw: dict) -> Markup:
    if getattr(field, "checked", field.data):
        kw.setdefault("checked", True)
    return _input(widget, field, kw)


def _radio(widget, field, kw: dict) -> Markup:
    if field.checked:
        kw.setdefault("checked", True)
    return _input(widget, field, kw)


def _file(widget, field, kw: dict) -> Markup:
    kw["value"] = False
    if widget.multiple:
        kw["multiple"] = True
    return _input(widget, field, kw)


def _password(widget, field, kw: dict) -> Markup:
    if widget.hide_value:
        kw["value"] = ""
    return _input(widget, field, kw)


def _number(widget, field, kw: dict) -> Markup:
    for name in ("step", "min", "max"):
        if getattr(widget, name) is not None:
            kw.setdefault(name, getattr(widget, name))
    return _input(widget, field, kw)


def _textarea(widget, field, kw: dict) -> Markup:
    kw.setdefault("id", field.id)
    _flags(widget, field, kw, call=False)
    kw["name"] = field.name
    return Markup(f"<textarea {attributes(kw)}>\r\n{escape(field._value())}</textarea>")  # noqa: S704


def _option(choice) -> str:
    value = str(choice.value) if isinstance(choice.value, bool) else choice.value
    options = {"value": value, **(choice.render_kw or {})}
    if choice.selected:
        options["selected"] = True
    return f"<option {attributes(options)}>{escape(choice.label or choice.value)}</option>"


def _select(widget, field, kw: dict) -> Markup:
    kw.setdefault("id", field.id)
    if widget.multiple:
        kw["multiple"] = True
    _flags(widget, field, kw, call=False)
    kw["name"] = field.name
    html = [f"<select {attributes(kw)}>"]
    if field.has_groups():
        for group, choices in field._iter_groups_normalized():
            if group is not None:
                html.append(f"<optgroup {attributes({'label': group})}>")
            html.extend(_option(c) for c in choices)
            if group is not None:
                html.append("</optgroup>")
    else:
        html.extend(_option(c) for c in field._iter_choices_normalized())
    html.append("</select>")
    return Markup("".join(html))  # noqa: S704 — attributes and labels escaped


# Exact classes only: a subclass may draw itself differently. Input subclasses that add nothing to Input's drawing.
PLAIN_INPUTS = (w.TextInput, w.HiddenInput, w.EmailInput, w.SearchInput, w.TelInput, w.URLInput, w.DateInput,
                w.DateTimeInput, w.DateTimeLocalInput, w.MonthInput, w.TimeInput, w.WeekInput, w.ColorInput)
RENDERERS: dict[type, Callable] = {cls: _input for cls in PLAIN_INPUTS} | {
    w.CheckboxInput: _checkbox, w.RadioInput: _radio, w.FileInput: _file, w.PasswordInput: _password,
    w.NumberInput: _number, w.TextArea: _textarea, w.Select: _select}


def render_field(field, render_kw: dict) -> Markup:
    """WTForms' DefaultMeta.render_field, through the lean renderers where one exists."""
    kw = {clean_key(k): v for k, v in render_kw.items()}
    if field.render_kw:
        kw = {clean_key(k): v for k, v in field.render_kw.items()} | kw
    widget = field.widget
    draw = RENDERERS.get(type(widget))
    if draw is None or getattr(field, "_datalist", None) is not None:
        return widget(field, **kw)
    return draw(widget, field, kw)


def _label(label) -> str:
    """wtforms.fields.Label() with no arguments: `for` the field's id (none when the id is False, as a radio
    group's label has), the text escaped."""
    found = attributes({"for": label.field_id})
    return f"<label{' ' + found if found else ''}>{escape(label.text)}</label>"


def field_block(f, hint, kwargs: dict) -> Markup:
    """The `field` macro of templates/_forms.html: label, hint, input and error wired together for screen readers
    (aria-describedby names the hint and the error, aria-invalid marks a field in error), as Python, since a Jinja
    macro building a dict and a list costs more than the field it draws."""
    attrs = dict(kwargs)
    described = ([f"{f.id}-hint"] if hint else []) + ([f"{f.id}-error"] if f.errors else [])
    if f.errors:
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    check = f.type == "BooleanField"
    classes = "field" + (" field-invalid" if f.errors else "") + (" field-check" if check else "")
    label = _label(f.label)
    if check:
        parts = [f"{f(**attrs)} {label}"]
    else:
        parts = [label, f'<p class="hint" id="{escape(f.id)}-hint">{escape(hint)}</p>' if hint else "", str(f(**attrs))]
    if f.errors:
        parts.append(f'<p class="error" id="{escape(f.id)}-error">{" ".join(str(escape(e)) for e in f.errors)}</p>')
    return Markup(f'<div class="{classes}">\n' + "\n".join(p for p in parts if p) + "\n</div>")  # noqa: S704 — escaped
