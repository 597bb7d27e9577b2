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
