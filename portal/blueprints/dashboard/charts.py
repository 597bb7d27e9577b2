"""The screen's numbers as the page shows them: masked for the public, rates, money, and the charts' data.

The tables are drawn by the templates and the charts by dashboard.js from `chart_data`; both go through
`shown` and `drawn`, so the public screen never draws a slice or a candle whose size tells a count that its
table hides as "<5" or withholds (`board.withheld`: counts that would give a small one back as a total minus
the parts beside it). Labels are translated here, in the request's language, because the script has none.
"""

from __future__ import annotations

from portal.i18n import day
from portal.i18n import gettext as _
from portal.services import stats
from portal.vocabulary import CHANNEL_LABELS, PERIOD_LABELS

WORDS_IN_SUMMARY = 10


def shown(n: int, public: bool, hidden: bool = False) -> int | str:
    """A count as this screen may show it: `hidden` where the public's screen withholds it."""
    if public and hidden:
        return _("withheld")
    return stats.masked(n) if public else n


def drawn(n: int, public: bool, hidden: bool = False) -> int | None:
    """A count as a chart may draw it: none where the table says "<5" or withholds it."""
    return None if public and (hidden or n < stats.SMALL) else n


def number(value: int | str | None) -> str:
    """12345 → "12,345"; "<5" stays as it is."""
    return f"{value:,}" if isinstance(value, int) else (value or "0")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def period_label(p: stats.Period) -> str:
    """"This month, 11/1/26 – 11/20/26" (short: it heads a column of the wall screen); one day for today."""
    days = day(p.first, "short") if p.first == p.last else f"{day(p.first, 'short')} – {day(p.last, 'short')}"
    return _("%(period)s, %(days)s", period=PERIOD_LABELS[p.name], days=days)


def recovered_fen(f: stats.Figures, public: bool) -> int | None:
    """Wages recovered; for the public only once five cases have recovered some (one case's sum is personal)."""
    return None if public and f.recovered_cases < stats.SMALL else f.recovered_fen


def saved_fen(benefits: stats.BenefitFigures, public: bool) -> int | None:
    """What members saved; for the public only once five vouchers were redeemed, as `stats.public_figures`."""
    return None if public and benefits.redeemed < stats.SMALL else benefits.saved_fen


def base_text(f: stats.Figures, name: str, rate: float | None, public: bool) -> str:
    """What a rate is taken over, said beside it so it agrees with the counts around it ("57 of 60 answered or
    closed"); nothing where the public sees no rate, or where there is nothing to take it over."""
    part, whole = stats.rate_bases(f)[name]
    if whole == 0 or (public and rate is None):
        return ""
    texts = {"resolution": _("%(part)s of %(whole)s answered or closed", part=number(part), whole=number(whole)),
             "on_time": _("%(part)s of %(whole)s answers in time", part=number(part), whole=number(whole)),
             "satisfaction": _("%(part)s of %(whole)s ratings satisfied", part=number(part), whole=number(whole))}
    return texts[name]


def share_of(share: stats.Share, total: int, public: bool, hidden: bool = False) -> float | None:
    if public and hidden:
        return None
    return stats.masked_share(share.n, total) if public else share.share


def chart_data(board: stats.Dashboard, public: bool) -> dict:
    """What dashboard.js draws: each chart's series, the names it shows and the summary screen readers hear."""
    f, w = board.figures, board.withheld
    channels = [{"name": str(CHANNEL_LABELS[c]), "value": drawn(n, public, w.channels.hides(c, n))}
                for c, n in f.contacts.items()]
    categories = [{"name": s.label, "value": drawn(s.n, public, w.categories.hides(s.code, s.n))}
                  for s in board.breakdown.shares]
    return {
        "channels": {"items": channels, "name": _("Contacts"), "summary": _channels_summary(f, w, public)},
        "categories": {"items": categories, "name": _("Requests"),
                       "summary": _categories_summary(board.breakdown, w, public)},
        "kline": _kline(board.candles, w, public),
        "words": {"items": [{"name": w, "value": n} for w, n in board.words], "name": _("Mentions"),
                  "summary": _words_summary(board.words)},
    }


def _channels_summary(f: stats.Figures, w: stats.Withheld, public: bool) -> str:
    parts = ", ".join(f"{CHANNEL_LABELS[c]} {number(shown(n, public, w.channels.hides(c, n)))}"
                      for c, n in f.contacts.items())
    return _("Contacts by channel, %(total)s in all: %(parts)s.", total=number(shown(f.contacts_total, public)),
             parts=parts)


def _categories_summary(breakdown: stats.Breakdown, w: stats.Withheld, public: bool) -> str:
    if not breakdown.shares:
        return _("No requests in this period.")
    parts = ", ".join(f"{s.label} {percent(share_of(s, breakdown.total, public, w.categories.hides(s.code, s.n)))}"
                      for s in breakdown.shares)
    return _("Requests by what they are about (%(level)s): %(parts)s.", level=breakdown.trail[-1][1], parts=parts)


def _words_summary(words: list[tuple[str, int]]) -> str:
    if not words:
        return _("No frequent words in the last 30 days.")
    return _("The most frequent words of the last 30 days: %(words)s.",
             words=", ".join(f"{w} ({n})" for w, n in words[:WORDS_IN_SUMMARY]))


def candle_row(c: stats.Candle, public: bool, w: stats.Withheld = stats.NONE_WITHHELD) -> dict:
    """One day of the K-line with each count as the screen may show it. For the public, a day with an hour below
    five withholds all four hours (the others and the day's total would give it back), and an average over a
    close below five is withheld (seven times it, less the other closes, is that close)."""
    average = None if c.average is None else round(c.average, 1)
    if public and average is not None:
        average = _("withheld") if c.small_close else f"<{stats.SMALL}" if average < stats.SMALL else average
    hours = (c.open, c.close, c.low, c.high)
    quiet = public and any(n < stats.SMALL for n in hours) and c.total > 0
    row = {"day": c.day, "total": shown(c.total, public, w.days.hides(c.day, c.total)), "average": average}
    return row | {k: shown(n, public, quiet) for k, n in zip(("open", "close", "low", "high"), hours, strict=True)}


def _kline(candles: list[stats.Candle], w: stats.Withheld, public: bool) -> dict:
    """ECharts' candlestick order is [open, close, low, high]; a day the public may not see whole is a gap."""
    rows = [candle_row(c, public, w) for c in candles]
    shape = ("open", "close", "low", "high")
    points = [[r[k] for k in shape] if all(isinstance(r[k], int) for k in shape) else "-" for r in rows]
    busiest = max(candles, key=lambda c: c.total, default=None)
    if busiest is None or not busiest.total:
        summary = _("No contacts in these days.")
    else:
        summary = _("Contacts per day from %(first)s to %(last)s, by the hour; the busiest day was %(day)s "
                    "with %(n)s contacts.", first=candles[0].day.isoformat(), last=candles[-1].day.isoformat(),
                    day=busiest.day.isoformat(), n=number(shown(busiest.total, public,
                                                                   w.days.hides(busiest.day, busiest.total))))
    return {"days": [c.day.strftime("%m-%d") for c in candles], "candles": points,
            "hidden": sum(1 for c, point in zip(candles, points, strict=True) if point == "-" and c.total),
            "withheld": any(_("withheld") in row.values() for row in rows),
            "average": [r["average"] if isinstance(r["average"], float) else None for r in rows],
            "name": _("Contacts by hour"), "average_name": _("7-day average"), "summary": summary,
            "empty": busiest is None or not busiest.total}
