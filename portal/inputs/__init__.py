"""The input layer: every value from outside is read here, at the edge, by parsers that know the limits of where
it goes. `parse` holds the parsers (free of Flask: services use them too), `fields` the form fields built on
them, `body` the request-body readers, `paths` the URL converter, which portal/__init__.py registers before any
blueprint adds a rule. This package file imports nothing, so a service that imports `parse` pulls in no Werkzeug."""
