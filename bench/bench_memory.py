"""jieba loaded once (issue 16): each gunicorn worker's memory (RSS and PSS, from /proc/<pid>/smaps_rollup) and the
time of the first submissions, with jieba loaded in the master before the workers fork (gunicorn.conf.py:
when_ready) and without (the same settings minus that hook: each worker loads it on its first submission), in one
run; `GET /healthz` timed beside them as the baseline. Target (issue 16): at most 150 MB (PSS) a worker.

Usage: .venv/bin/python bench/bench_memory.py [--workers 2] [--submissions 8]
Bounded: a few requests per server; every server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.forms import new_form_token  # noqa: E402
from tests import live  # noqa: E402

WITHOUT_HOOK = """exec(open({conf!r}, encoding="utf-8").read())
del when_ready  # the workers load jieba themselves, on their first submission
"""


def memory_mb(pid: int) -> dict[str, float]:
    """RSS and PSS of one process, in MB (PSS shares each shared page among the processes mapping it)."""
    found = dict(re.findall(r"^(Rss|Pss):\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M))
    return {name.lower() + "_mb": round(int(kb) / 1024, 1) for name, kb in found.items()}


def workers_of(master: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return sorted(children)


def timed(client: live.Client, method: str, path: str, **kwargs) -> tuple[float, int, str]:
    start = time.perf_counter()
    status, _, text = client.send(method, path, **kwargs)
    return (time.perf_counter() - start) * 1000, status, text


def serve(env: dict, config: Path, log: Path, workers: int, submissions: int, tokens: list[str]) -> dict:
    port = live.free_port()
    with log.open("wb") as out:
        master = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(config), "--bind",
                                   f"127.0.0.1:{port}", "--workers", str(workers), "--preload", "--no-control-socket",
                                   "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while live.status_of(f"http://127.0.0.1:{port}/healthz") != 200:
            if master.poll() is not None or time.monotonic() - started > 60:
                raise SystemExit(f"gunicorn did not start; see {log}")
            time.sleep(0.1)
        time.sleep(1)  # every worker booted
        pids = workers_of(master.pid)
        idle = {pid: memory_mb(pid) for pid in pids}
        server = type("Server", (), {"host": "127.0.0.1", "port": port})()
        client = live.Client(server)
        baseline = [timed(client, "GET", "/healthz")[0] for _ in range(20)]
        csrf = client.csrf("/grievances/")
        posts = []
        for n in range(submissions):
            ms, status, text = timed(client, "POST", "/grievances/", form={
                "csrf_token": csrf, "token": tokens[n], "kind": "appeal", "category": "labour.wages",
                "description": f"老板拖欠我们三个月工资，没有签劳动合同 {n}", "city": "4401", "district": "440106",
                "town": "440106006", "anonymous": "y", "consent": "y"})
            assert status == 200 and re.search(r"44-\d{8}-\d{4}", text), (status, text[:300])
            posts.append(round(ms, 1))
        after = {pid: memory_mb(pid) for pid in pids}
        return {"workers": [{"pid": pid, "idle": idle[pid], "after_submissions": after[pid]} for pid in pids],
                "master": memory_mb(master.pid), "healthz_p50_ms": round(statistics.median(baseline), 2),
                "submissions_ms": posts, "slowest_submission_vs_healthz": round(max(posts) / statistics.median(
                    baseline), 1)}
    finally:
        master.terminate()
        try:
            master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--submissions", type=int, default=8)
    args = parser.parse_args()
    print("Command:", "python bench/bench_memory.py", *sys.argv[1:], flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-memory-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))} | {
        "PORTAL_ENVIRONMENT": "development", "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_MESSAGES_KEY": secrets.token_hex(32), "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "PORTAL_UPLOAD_DIR": str(tmp / "uploads"), "FLASK_APP": "wsgi",
        "PORTAL_SUBMIT_LIMIT_PER_ADDRESS": "1000 per hour"}
    for command in (["db", "upgrade"], ["regions", "import"]):
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)
    app = create_app()
    with app.test_request_context():
        tokens = [new_form_token() for _ in range(2 * args.submissions)]
    without = tmp / "gunicorn-without-hook.conf.py"
    without.write_text(WITHOUT_HOOK.format(conf=str(ROOT / "gunicorn.conf.py")))
    result = {
        "loaded in the master before forking (gunicorn.conf.py)": serve(
            env, ROOT / "gunicorn.conf.py", tmp / "with.log", args.workers, args.submissions,
            tokens[:args.submissions]),
        "loaded by each worker on its first submission": serve(
            env, without, tmp / "without.log", args.workers, args.submissions, tokens[args.submissions:]),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    kept = result["loaded in the master before forking (gunicorn.conf.py)"]["workers"]
    worst = max(w["after_submissions"]["pss_mb"] for w in kept)
    print(f"target: PSS at most 150 MB a worker; largest {worst} MB: {'met' if worst <= 150 else 'NOT met'}")


if __name__ == "__main__":
    main()
