"""gunicorn's settings for the portal (read by `make run` and by any gunicorn started from this directory; options
on the command line win). Only what the portal's fault handling depends on lives here.

A request that waits for the database gives up before gunicorn would kill its worker: a write waits at most
DB_LOCK_TIMEOUT_S (5 s) for the lock, a PostgreSQL statement of a web request at most DB_STATEMENT_TIMEOUT_S (20 s),
then answers 503 with Retry-After. tests/test_faults.py checks those settings stay below `timeout`.
"""

# Seconds a worker may stay silent before the arbiter kills and replaces it (gunicorn's default, said aloud).
timeout = 30
graceful_timeout = 30

# Threads: a request waiting for the database's write lock holds one thread, not a whole worker, so health checks
# and pages go on answering while writes wait (two sync workers stalled every page behind two waiting writes).
# The figures are in the README. WORKERS in the Makefile sets the processes.
worker_class = "gthread"
threads = 8


def when_ready(server):
    """In the master, before any worker forks: jieba's dictionary, part-of-speech model and TF-IDF table are loaded
    once (portal.services.text.warm_up), then gc.freeze() moves everything loaded so far out of the collector's
    reach, so its passes do not write to those pages and the forked workers keep sharing them (copy-on-write)
    instead of each loading 160 MB on its first submission. The figures are in the README (bench_memory.py)."""
    import gc

    from portal.services import text

    text.warm_up()
    gc.freeze()
