"""Configuration defaults. Secrets never live here: they come from PORTAL_* environment variables,
`instance/config.py`, or (the secret key) a file generated into `instance/` on first run."""

from datetime import timedelta

# "production" (the safe default) or "development" (plain HTTP on 127.0.0.1, as `make run` serves it; it records
# ENVIRONMENT = "development" in instance/config.py, so the flask command in that checkout agrees).
ENVIRONMENT = "production"

# None → SQLite at instance/portal.sqlite3. A postgresql:// URL selects PostgreSQL through psycopg 3.
DATABASE_URL = None
SQLITE_BUSY_TIMEOUT_MS = 5000
# Faults. A write waits this long (seconds) for the database's write lock (SQLite's busy timeout for a command,
# PostgreSQL's lock_timeout), then the request answers 503 with Retry-After: RETRY_AFTER_S seconds, and the form
# comes back filled in. Both timeouts stay below gunicorn's (gunicorn.conf.py; a test checks it), so one stuck
# writer cannot hold a worker until gunicorn kills it. 5 s: SQLite's writers queue for the lock, and at 3 s one claim
# in a thousand racing for a voucher's stock waited too long. PostgreSQL only: connecting gives up after
# DB_CONNECT_TIMEOUT_S (at least 2), and a statement of a web request after DB_STATEMENT_TIMEOUT_S.
DB_LOCK_TIMEOUT_S = 5
DB_CONNECT_TIMEOUT_S = 2
DB_STATEMENT_TIMEOUT_S = 20
RETRY_AFTER_S = 10

# Required in production (e.g. PORTAL_TRUSTED_HOSTS='["portal.example.cn"]'); a request for any other
# Host is answered 400. Development defaults to the loopback names.
TRUSTED_HOSTS = None
# Number of reverse proxies in front of the app that set X-Forwarded-*; 0 trusts no such header.
PROXY_HOPS = 0

# Evidence uploads: 5 files of 10 MB plus the form itself.
MAX_CONTENT_LENGTH = 55 * 1024 * 1024
MAX_FORM_MEMORY_SIZE = 1024 * 1024  # text fields; a 4,000-character description is about 12 kB
# Where evidence files are kept (outside static/, never served directly). None → instance/uploads.
UPLOAD_DIR = None

# A worker may keep a form open for a whole shift before pressing submit; the default is one hour.
WTF_CSRF_TIME_LIMIT = int(timedelta(hours=24).total_seconds())

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_DURATION = timedelta(days=14)
# Server-side login sessions: a session without "remember me" ends after this long, or after this idle time.
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
SESSION_IDLE_TIMEOUT = timedelta(hours=2)

# werkzeug's scrypt: memory-hard (n=2**15, r=8 → 32 MiB per hash). Tests lower n to stay fast.
PASSWORD_HASH_METHOD = "scrypt:32768:8:1"  # noqa: S105 — a method name, not a password

# Flask-Limiter. memory:// counts per process; several workers or hosts need redis://host:6379.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
LOGIN_LIMIT_PER_ADDRESS = "20 per 10 minutes"
LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
SUBMIT_LIMIT_PER_ADDRESS = "20 per hour"  # grievances accepted from one address; a workplace may share one
LOOKUP_LIMIT_PER_ADDRESS = "20 per hour"  # failed ticket look-ups per address
TILL_LIMIT_PER_KEY = "600 per minute"  # terminal API requests per merchant key: one till cannot starve the others
# The second factor (staff and administrators always; others who enrol): wrong codes allowed per account (the
# sign-in code step and the password-and-code checks before a sensitive change share it) and per address; and how
# long the code step waits after the password was accepted (seconds) before the password must be given again.
SECOND_FACTOR_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
SECOND_FACTOR_LIMIT_PER_ADDRESS = "20 per 10 minutes"
SECOND_FACTOR_PENDING_SECONDS = 600  # time enough to install an authenticator app at a first sign-in
# How long a grievance form may stay open before it must be reloaded (seconds).
FORM_TOKEN_MAX_AGE = 24 * 3600

BABEL_DEFAULT_LOCALE = "zh_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

# The root of the union hierarchy (new tickets land here) and the provinces `flask regions import` loads.
ROOT_REGION = "44"
REGION_PROVINCES = ("44",)

# The 12351 hotline number shown to workers.
HOTLINE = "12351"

# The station map's tiles (Leaflet's {z}/{x}/{y} template) and their credit. The list of stations never needs
# them: an intranet or an offline server sets MAP_TILE_URL = "" and the map view says so. WGS-84 tiles only
# (OpenStreetMap and its mirrors); GCJ-02 tiles such as Amap's would put every marker a few hundred metres off.
MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
MAP_TILE_ATTRIBUTION = "© OpenStreetMap contributors"

# Typed addresses in the station finder: "" (off: only the phone's location and the place lists) or "nominatim",
# a Nominatim server reached through geopy (the public one allows one request a second; run your own for more).
GEOCODER = ""
GEOCODER_DOMAIN = "nominatim.openstreetmap.org"
GEOCODER_SCHEME = "https"
GEOCODER_USER_AGENT = "worker-service-portal"
GEOCODER_TIMEOUT = 3

# Compression (Flask-Compress): brotli where the client accepts it, gzip otherwise; text types only (images and
# uploads are compressed already); bodies under 500 bytes go as they are. Streamed responses (the CSV exports)
# are never compressed: they are sent as they are written. Static files are read whole and compressed once per
# process (portal/assets.py); phones then cache them for a year under their hashed URL.
COMPRESS_ALGORITHM = ["br", "gzip"]
COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                      "image/svg+xml"]
COMPRESS_MIN_SIZE = 500
COMPRESS_BR_LEVEL = 4  # pages; see "Speed" below for the measurement
COMPRESS_STREAMS = False

# Speed (issue 14). Pages are compressed at every request, so at a brotli quality that costs little. Measured on
# the grievance form (18.0 KB of HTML) and the station finder (16.6 KB), CPU per compression on the 2-core machine:
#   quality 1: 6.0 KB in 0.05 ms, 4.7 KB in 0.04 ms     quality 4: 5.3 KB in 0.22 ms, 4.2 KB in 0.18 ms
#   quality 3: 5.7 KB in 0.11 ms, 4.4 KB in 0.09 ms     quality 5: 4.8 KB in 0.30 ms, 3.8 KB in 0.24 ms
# Quality 4 keeps most of 5's saving (0.4 KB more a page) for 0.08 ms less, a tenth of what a kept page costs in
# all. Static files are compressed once per process at quality 11 (portal/assets.py), so their size costs no time.
# The blank grievance form and station finder are rendered once per language and served with fresh tokens
# (portal/pagecache.py); False renders every request.
BLANK_PAGE_CACHE = True

# Text messages to workers (issue 15; portal.services.messages). SMS_PROVIDER: "aliyun" or "tencent" (keys from the
# environment), "development" (stores what would be sent and shows it at /admin/messages; refused in production),
# "" (off: no opt-in is offered, nothing is queued) or None: "development" in development, off in production.
SMS_PROVIDER = None
SMS_TIMEOUT_S = 5  # a provider that hangs gives up after this long; the message is tried again later
SMS_SIGN_NAME = "职工服务门户"  # the signature registered with the provider, shown 【so】 before every message
# The provider's template id for each portal template and language: {"zh_CN": {"verify": "SMS_1234", …}, "en": …}.
SMS_TEMPLATES: dict = {}
SMS_ENDPOINT = None  # the provider's official URL; tests point it at a local stand-in
SMS_ALIYUN_ACCESS_KEY_ID = None
SMS_ALIYUN_ACCESS_KEY_SECRET = None
SMS_TENCENT_SECRET_ID = None
SMS_TENCENT_SECRET_KEY = None
SMS_TENCENT_SDK_APP_ID = None
SMS_TENCENT_REGION = "ap-guangzhou"
# Encrypts workers' numbers at rest (Fernet). Unset, a key is generated once into instance/messages_key; several hosts
# must share one, and losing it makes the stored numbers unreadable (nothing else).
MESSAGES_KEY = None
# The address in the links messages carry (the portal as workers reach it). Development: http://127.0.0.1:5000.
PUBLIC_URL = None
MESSAGES_PER_DAY = 5  # texts one number receives in a Beijing day, at most; more wait for the next morning
QUIET_HOURS = (22, 8)  # Beijing hours between which nothing but a code the worker just asked for is sent; (0, 0): none
OPT_IN_LIMIT_PER_ADDRESS = "10 per hour"  # codes asked for from one address
LOST_CODE_LIMIT_PER_ADDRESS = "10 per hour"  # "send my number again" from one address
WORKER_POLL_S = 1.0  # how often an idle `flask worker` looks for messages to send
MESSAGES_LEASE_S = 120  # a claimed message is another worker's to send again after this (>= 20 sends x SMS_TIMEOUT_S)
