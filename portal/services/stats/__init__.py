"""The big screen's figures, read from rollups kept current in the same transaction as every change.

`rollup` holds what each change adds to the cells, `rebuild` the second way to them from the tables, `figures`
the reads of one region's cells, `screen` a whole screen (who may see which region, the cached station and
benefit totals, the poller's marker), `public` the small-count rules, `export` the CSV rows. Callers use this
package as one module: `stats.dashboard(...)`, `stats.ticket_added(...)`.
"""

from portal.services.stats.disclosure import NONE_WITHHELD, NOTHING, UNSEEN, Protection, Withheld, protect
from portal.services.stats.export import rows_for_export
from portal.services.stats.figures import (
    CONTACT_CHANNELS,
    EARLIEST,
    FIGURE_MEASURES,
    HOT_WORD_DAYS,
    KLINE_DAYS,
    MA_DAYS,
    MAX_RANGE_DAYS,
    Breakdown,
    Candle,
    Figures,
    Period,
    Ranked,
    Share,
    breakdown,
    cells_between,
    figures,
    figures_from,
    hot_words,
    kline,
    kline_days,
    open_and_overdue,
    period,
    ranking,
)
from portal.services.stats.public import (
    SMALL,
    WITHHELD,
    Rates,
    board_for,
    masked,
    masked_rate,
    masked_share,
    public_figures,
    rate_bases,
    rates,
    withheld,
)
from portal.services.stats.rebuild import CODE_LENGTHS, _local_day, _local_hour, all_cells, rebuild
from portal.services.stats.rollup import (
    DIRECT_CHANNELS,
    STATE_OF,
    STOP_WORDS,
    WORD_POS,
    WORDS_PER_TICKET,
    Cells,
    Facts,
    cells_of,
    contact_logged,
    facts,
    hot_words_of,
    levels,
    ticket_added,
    ticket_changed,
)
from portal.services.stats.screen import (
    CACHE_SECONDS,
    BenefitFigures,
    Dashboard,
    StationFigures,
    benefit_figures,
    dashboard,
    forget_cache,
    root,
    scope_of,
    station_figures,
    trail,
    version,
)

__all__ = [
    # rollup: the upkeep, in the writing transaction
    "DIRECT_CHANNELS", "STATE_OF", "STOP_WORDS", "WORD_POS", "WORDS_PER_TICKET", "Cells", "Facts", "cells_of",
    "contact_logged", "facts", "hot_words_of", "levels", "ticket_added", "ticket_changed",
    # rebuild (the benchmark's naive queries group by the same local day and hour)
    "CODE_LENGTHS", "_local_day", "_local_hour", "all_cells", "rebuild",
    # figures: the reads
    "CONTACT_CHANNELS", "EARLIEST", "FIGURE_MEASURES", "HOT_WORD_DAYS", "KLINE_DAYS", "MA_DAYS", "MAX_RANGE_DAYS",
    "Breakdown", "Candle", "Figures", "Period", "Ranked", "Share", "breakdown", "cells_between",
    "figures", "figures_from", "hot_words", "kline", "kline_days", "open_and_overdue", "period", "ranking",
    # screen
    "CACHE_SECONDS", "BenefitFigures", "Dashboard", "StationFigures", "benefit_figures", "dashboard",
    "forget_cache", "root", "scope_of", "station_figures", "trail", "version",
    # public: the small-count rules
    "SMALL", "WITHHELD", "Rates", "board_for", "masked", "masked_rate", "masked_share", "public_figures",
    "rate_bases", "rates", "withheld",
    # disclosure: secondary suppression
    "NONE_WITHHELD", "NOTHING", "UNSEEN", "Protection", "Withheld", "protect",
    # export
    "rows_for_export",
]
