"""What gunicorn's master does before its workers fork (gunicorn.conf.py `when_ready`): jieba's dictionary, its
part-of-speech model and TF-IDF table are loaded there once and frozen out of the collector, so no worker's first
submission loads them (bench/bench_memory.py measures the memory and time this saves)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.live import REPO

PROBE = """
import gc, json, runpy, sys
conf = runpy.run_path("gunicorn.conf.py")
before = "jieba" in sys.modules and __import__("jieba").dt.initialized
conf["when_ready"](None)
import jieba, jieba.posseg
from portal.services.stats import rollup
print(json.dumps({"before": before, "dictionary": jieba.dt.initialized, "pos": jieba.posseg.dt.tokenizer.initialized,
                  "idf": rollup._jieba.cache_info().currsize == 1, "frozen": gc.get_freeze_count()}))
"""


def test_the_master_loads_jieba_once_before_the_workers_fork():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120,
                            check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["before"] is False  # reading the settings loads nothing
    assert found["dictionary"] and found["pos"] and found["idf"]
    assert found["frozen"] > 100_000  # everything loaded so far is out of the collector's reach
