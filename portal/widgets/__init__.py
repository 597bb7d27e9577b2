"""Web pieces that several blueprints show: the region picker and the finders' "where are you" form.

A blueprint never imports another blueprint; what two of them share lives here, with its template under
templates/widgets/ (the region picker's partial stays with the regions blueprint, which serves its htmx swaps).
"""
