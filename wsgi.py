"""The application for gunicorn (`wsgi:app`) and for the flask command (FLASK_APP=wsgi, its default here).

A setting the portal refuses is one line on stderr and a non-zero exit, never a traceback. The exit code is
gunicorn's "application failed to load" (4), so its master stops rather than restarting workers that would fail
the same way; the flask command exits with it too.
"""

import sys

from portal import ConfigurationError, create_app

APP_LOAD_ERROR = 4

try:
    app = create_app()
except ConfigurationError as error:
    print(f"The portal refuses to start: {error}", file=sys.stderr)
    sys.exit(APP_LOAD_ERROR)
