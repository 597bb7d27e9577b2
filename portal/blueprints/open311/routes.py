"""Open311 GeoReport v2 at /open311/v2/, for partner channels (mini-programs, hotline systems).

JSON only (the spec makes XML optional). Errors are the spec's [{code, description}] array, from
portal.errors. Reads are public but show details only to the channel that submitted a request.
"""

from flask import Blueprint, g, jsonify, request, url_for

from portal import clock
from portal.access import channel_key, public
from portal.extensions import csrf, limiter
from portal.inputs import body
from portal.services import open311

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
MAX_BODY = 64 * 1024  # bytes: a request is a few fields and a description, never a file


def _reader():
    """The channel reading, if it gave its key; reads work without one."""
    return open311.channel_for_key(request.args.get("api_key") or request.headers.get("X-API-Key"))


@bp.get("/discovery.json")
@public
def discovery():
    endpoint = url_for("open311.services", _external=True).rsplit("/", 1)[0] + "/"
    return jsonify({"changeset": "2026-11-22T00:00:00Z", "contact": "12351",
                    "key_service": "Ask the union for a channel key (flask apikeys create NAME).",
                    "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": endpoint,
                                   "changeset": "2026-11-22T00:00:00Z", "type": "production",
                                   "formats": ["application/json"]}]})


@bp.get("/services.json")
@public
def services():
    return jsonify(open311.service_list())


@bp.get("/services/<code>.json")
@public
def service(code: str):
    return jsonify(open311.service(code))


@bp.before_request
def _limit_body():
    """Before the channel key is looked for in the form: at most MAX_BODY bytes are read, chunked or not."""
    body.limit_body(MAX_BODY)


def _fields() -> dict:
    """Form-encoded as the spec has it, or a JSON object."""
    return body.json_body(MAX_BODY) if request.is_json else request.form.to_dict()


@bp.post("/requests.json")
@csrf.exempt
@channel_key
@limiter.limit("300 per minute", key_func=lambda: f"open311:{g.api_channel.id}")
def create_request():
    """Form-encoded as the spec has it, or JSON; an Idempotency-Key header makes a retry return the first."""
    receipt = open311.create(g.api_channel, _fields(), request.headers.get("Idempotency-Key"), clock.now())
    body = [{"service_request_id": receipt.ticket.number, "service_notice": None, "account_id": None,
             "query_code": receipt.query_code}]
    return jsonify(body), 201 if receipt.created else 200


@bp.get("/requests.json")
@public
def requests():
    found = open311.search(open311.parse_search(request.args), clock.now())
    reader = _reader()
    return jsonify([open311.serialise(t, reader) for t in found])


@bp.get("/requests/<number>.json")
@public
def request_detail(number: str):
    return jsonify([open311.serialise(open311.get(number), _reader())])
