"""Chinese text helpers: suggesting a grievance category from what the worker typed.

jieba splits the text into words; each word that contains a category's keyword counts for it. The
suggestion is only offered, never applied: the worker chooses.
"""

from __future__ import annotations

import logging
from collections import Counter

import jieba

from portal.services.taxonomy import CATEGORIES, Category

jieba.setLogLevel(logging.WARNING)
MIN_SCORE = 1


def words(text: str) -> list[str]:
    return [w for w in jieba.lcut(text[:4000]) if w.strip()]


def suggest_category(text: str) -> Category | None:
    """The category whose keywords the text mentions most, or None when nothing stands out."""
    scores: Counter[str] = Counter()
    for word in words(text):
        for category in CATEGORIES.values():
            scores[category.code] += sum(1 for keyword in category.keywords if keyword in word)
    ranked = scores.most_common(2)
    if not ranked or ranked[0][1] < MIN_SCORE or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return CATEGORIES[ranked[0][0]]


def warm_up() -> None:
    """Load everything jieba needs now — the dictionary, the part-of-speech model and the TF-IDF table (about 160 MB
    and 1.5 s) — so that no worker's request pays for it. gunicorn calls this in its master before the workers fork
    (gunicorn.conf.py), so they share those pages instead of each loading its own copy on its first submission."""
    from portal.services import stats  # noqa: PLC0415 — stats imports this module

    sample = "老板拖欠我们三个月工资，没有签劳动合同。"
    words(sample)
    stats.hot_words_of(sample)
