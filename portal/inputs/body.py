"""Request bodies read at the edge: the size limit applies to the bytes read, so a chunked body (no
Content-Length to check beforehand) is refused with a 413 as soon as it runs past the limit, never cut short."""

from __future__ import annotations

import io

from flask import abort, request

from portal.exceptions import InvalidInput
from portal.inputs import parse


def limit_body(max_bytes: int) -> None:
    """This request's body is at most `max_bytes`, whatever it declares (413 otherwise). Called before anything
    touches request.form, .files, .data or .stream.

    A declared length is checked as it stands. A chunked body (the server ends the stream, no length) is read
    here, one byte past the limit: Werkzeug's own limit on such a stream stops reading at the limit *silently*,
    so a longer body would be parsed cut short. What was read is handed on as a body of known length."""
    environ = request.environ
    if request.content_length is not None:
        if request.content_length > max_bytes:
            abort(413)
        return
    if not environ.get("wsgi.input_terminated"):
        return  # no length and no end: Werkzeug reads nothing at all
    data = environ["wsgi.input"].read(max_bytes + 1)
    if len(data) > max_bytes:
        abort(413)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(data), str(len(data))


def json_body(max_bytes: int, allowed: set[str] | None = None) -> dict:
    """The request's JSON object (415 when it is not sent as JSON, 413 past `max_bytes`, 400 for anything
    parse.json_object refuses); with `allowed`, a field not in it is refused rather than ignored."""
    if not request.is_json:
        abort(415)
    limit_body(max_bytes)
    body = parse.json_object(request.get_data(cache=True))
    if allowed is not None and (unknown := sorted(set(body) - allowed)):
        raise InvalidInput(fields=dict.fromkeys(unknown[:10], parse.UNKNOWN_FIELD))
    return body
