"""The OpenAPI 3.1 document of the JSON APIs, and what its reference page shows of it.

The document is data (openapi.json beside this module), written by hand and checked by the suite: a third-party
validator (openapi-spec-validator) reads it, every route under /api/v1 and /open311/v2 must be in it and nothing
else, the API tests check each response they see against it, and Schemathesis drives every operation against a
live server. The page is drawn from the same data, so the two cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DOCUMENT = Path(__file__).with_name("openapi.json")
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def stored() -> dict:
    """The document as kept in the package (read once per process)."""
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def document(server_url: str) -> dict:
    """The document with the server a client reached it at, so a partner's tools call the same server."""
    return {**stored(), "servers": [{"url": server_url, "description": "This server"}]}


def resolve(spec: dict, item: dict) -> dict:
    """A parameter, response or schema object, following a local `$ref` (`#/components/…`)."""
    while isinstance(item, dict) and "$ref" in item:
        target = spec
        for part in item["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        item = target
    return item


# ------------------------------------------------------------------------------------------ the page's model

@dataclass(frozen=True)
class Token:
    """A piece of a type's summary: plain text, or the name of a schema the page links to."""

    text: str
    ref: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    where: str  # query, path, header, body property, response header …
    required: bool
    type: list[Token]
    description: str = ""
    example: str | None = None


@dataclass(frozen=True)
class Body:
    media: str
    type: list[Token]


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    headers: list[Field]
    bodies: list[Body]


@dataclass(frozen=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    security: list[str]
    parameters: list[Field]
    body_required: bool
    body_description: str
    bodies: list[Body]
    answers: list[Answer]


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    type: list[Token]
    properties: list[Field]
    source: str  # the schema as JSON, for those who want every keyword


@dataclass(frozen=True)
class Scheme:
    name: str
    kind: str
    description: str


@dataclass
class Section:
    tag: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    title: str
    version: str
    description: str
    sections: list[Section]
    schemas: list[Schema]
    schemes: list[Scheme]


CONSTRAINTS = ("format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
               "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "default")


def summary(schema: dict) -> list[Token]:
    """A schema in a line: `integer, minimum: 1, maximum: 100`, `array of Station`, `string | null` …"""
    if "$ref" in schema:
        return [Token(schema["$ref"].rsplit("/", 1)[-1], schema["$ref"].rsplit("/", 1)[-1])]
    for combiner in ("oneOf", "anyOf"):
        if combiner in schema and "type" not in schema:
            return _joined([summary(s) for s in schema[combiner]], " | ")
    if "const" in schema:
        return [Token(json.dumps(schema["const"], ensure_ascii=False))]
    if "enum" in schema:
        return [Token(" | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]))]
    types = schema.get("type", "any")
    types = [types] if isinstance(types, str) else list(types)
    main = [t for t in types if t != "null"] or ["null"]
    tokens = _joined([_one_type(schema, t) for t in main], " | ")
    limits = [f"{k}: {json.dumps(schema[k], ensure_ascii=False)}" for k in CONSTRAINTS if k in schema]
    if limits:
        tokens.append(Token(" (" + ", ".join(limits) + ")"))
    if "null" in types and main != ["null"]:
        tokens.append(Token(" | null"))
    return tokens


def _one_type(schema: dict, kind: str) -> list[Token]:
    if kind == "array" and "prefixItems" in schema:
        return [Token("["), *_joined([summary(s) for s in schema["prefixItems"]], ", "), Token("]")]
    if kind == "array":
        return [Token("array of "), *summary(schema.get("items", {}))]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return [Token("object of "), *summary(schema["additionalProperties"])]
    return [Token(kind)]


def _joined(parts: list[list[Token]], separator: str) -> list[Token]:
    joined: list[Token] = []
    for n, part in enumerate(parts):
        joined += ([Token(separator)] if n else []) + part
    return joined


def _example(item: dict) -> str | None:
    value = item.get("example", item.get("schema", {}).get("example"))
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _parameter(spec: dict, item: dict) -> Field:
    item = resolve(spec, item)
    return Field(item["name"], item["in"], item.get("required", False), summary(item["schema"]),
                 item.get("description", ""), _example(item))


def _bodies(content: dict) -> list[Body]:
    return [Body(media, summary(value.get("schema", {}))) for media, value in content.items()]


def _answer(spec: dict, status: str, item: dict) -> Answer:
    item = resolve(spec, item)
    headers = []
    for name, header in item.get("headers", {}).items():
        header = resolve(spec, header)
        headers.append(Field(name, "header", header.get("required", False), summary(header.get("schema", {})),
                             header.get("description", "")))
    return Answer(status, item.get("description", ""), headers, _bodies(item.get("content", {})))


def _operation(spec: dict, path: str, method: str, item: dict) -> Operation:
    body = resolve(spec, item.get("requestBody", {}))
    security = sorted({name for option in item.get("security", spec.get("security", [])) for name in option})
    answers = [_answer(spec, status, a) for status, a in sorted(item["responses"].items())]
    return Operation(item.get("operationId", f"{method}-{path}"), method.upper(), path, item.get("summary", ""),
                     item.get("description", ""), security, [_parameter(spec, p) for p in item.get("parameters", [])],
                     body.get("required", False), body.get("description", ""), _bodies(body.get("content", {})),
                     answers)


def _properties(schema: dict, prefix: str = "") -> list[Field]:
    """The properties of an object schema, and those of the objects written inline in it (`rates.on_time`,
    `endpoints[].url`), so the page lists every field without the reader opening the JSON."""
    required, found = set(schema.get("required", [])), []
    for prop, value in schema.get("properties", {}).items():
        found.append(Field(prefix + prop, "property", prop in required, summary(value), value.get("description", "")))
        inner = next((s for s in (value, value.get("items", {})) if "properties" in s), None)
        if inner is not None:
            found += _properties(inner, f"{prefix}{prop}{'[].' if inner is not value else '.'}")
    return found


def _schema(name: str, schema: dict) -> Schema:
    return Schema(name, schema.get("description", ""), summary(schema), _properties(schema.get("items", schema)),
                  json.dumps(schema, ensure_ascii=False, indent=2))


def _scheme(name: str, scheme: dict) -> Scheme:
    kind = f"{scheme['in']}: {scheme['name']}" if scheme["type"] == "apiKey" else f"Authorization: {scheme['scheme']}"
    return Scheme(name, kind, scheme.get("description", ""))


@cache
def page() -> Page:
    """Every operation by tag (in the document's order), every schema and security scheme, as the page lists them."""
    spec = stored()
    sections = {t["name"]: Section(t["name"], t.get("description", "")) for t in spec.get("tags", [])}
    for path, item in spec["paths"].items():
        for method in (m for m in METHODS if m in item):
            operation = item[method]
            tag = (operation.get("tags") or [""])[0]
            sections.setdefault(tag, Section(tag, "")).operations.append(_operation(spec, path, method, operation))
    components = spec.get("components", {})
    return Page(spec["info"]["title"], spec["info"]["version"], spec["info"].get("description", ""),
                [s for s in sections.values() if s.operations],
                [_schema(name, s) for name, s in components.get("schemas", {}).items()],
                [_scheme(name, s) for name, s in components.get("securitySchemes", {}).items()])
