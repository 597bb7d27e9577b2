"""The one place that reads htmx's HX-* request headers and writes its response headers."""

from flask import Response, make_response, redirect, render_template, request


def is_fragment_request() -> bool:
    """True for an htmx swap; boosted links and history restores need the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_partial(page: str, partial: str, status: int = 200, **context) -> Response:
    """The page includes the partial, so the first render and the htmx swap are the same markup.

    The partial sees `fragment` true when it is the whole response, e.g. to add out-of-band swaps.
    """
    fragment = is_fragment_request()
    return make_response(render_template(partial if fragment else page, fragment=fragment, **context), status)


def redirect_after_post(location: str) -> Response:
    """303 for a plain form post; htmx gets HX-Redirect so the browser loads the new page itself."""
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def add_vary(response: Response) -> Response:
    """Caches must keep the page and the fragment of one URL apart."""
    response.vary.add("HX-Request")
    return response
