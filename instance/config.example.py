"""Local settings for one installation. Copy to instance/config.py (git ignores it) and edit. A development
checkout needs no copy: `make run` (or `make dev`, `make database`) writes an instance/config.py holding only
ENVIRONMENT = "development" when there is none, and never changes one that exists.

Every setting can also come from the environment as PORTAL_<NAME> (values are parsed as JSON when they
can be, e.g. PORTAL_TRUSTED_HOSTS='["portal.example.cn"]'); the environment wins over this file.
See portal/config.py for all settings and their defaults.
"""

# "production" (the default: HTTPS cookies, HSTS, TRUSTED_HOSTS required, demo data refused) or
# "development" (plain HTTP on 127.0.0.1, as `make run` serves it and records it here).
ENVIRONMENT = "production"

# The host names the portal answers to; a request for any other Host gets 400.
TRUSTED_HOSTS = ["portal.example.cn"]

# PostgreSQL for more than one machine; the default is SQLite in instance/portal.sqlite3.
# DATABASE_URL = "postgresql://portal:CHANGE-ME@127.0.0.1:5432/portal"

# Number of reverse proxies (nginx) in front of gunicorn that set X-Forwarded-For/-Proto/-Host.
# PROXY_HOPS = 1

# Rate-limit counters shared by every gunicorn worker and host (pip install '.[redis]').
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"

# SECRET_KEY: leave unset on a single machine (a random key is generated into instance/secret_key on first
# run). Several hosts must share one: set PORTAL_SECRET_KEY in their environment instead of writing it here.

# The union hierarchy's root and the provinces `flask regions import` loads by default.
# ROOT_REGION = "44"
# REGION_PROVINCES = ["44"]
