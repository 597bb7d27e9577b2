"""stations.pattern_week and pattern_of: the editor's common weeks, and recognising a station's week as one."""

import pytest

from portal.exceptions import InvalidInput
from portal.services import stations

DAYS = stations.WEEKDAYS


def test_each_pattern_gives_its_week_and_is_recognised_again():
    assert stations.pattern_week("all_day", "", "") == dict.fromkeys(DAYS, stations.ALL_DAY)
    assert stations.pattern_week("every_day", "07:00", "21:00") == dict.fromkeys(DAYS, [["07:00", "21:00"]])
    weekdays = stations.pattern_week("weekdays", "08:00", "18:00")
    assert [d for d in DAYS if weekdays[d]] == ["mon", "tue", "wed", "thu", "fri"] and weekdays["sat"] == []
    for pattern, opens, closes in (("all_day", "", ""), ("every_day", "07:00", "21:00"),
                                   ("weekdays", "08:00", "18:00")):
        week = stations.parse_hours(stations.pattern_week(pattern, opens, closes))
        assert stations.pattern_of(week) == (pattern, opens, closes)


def test_other_weeks_are_no_pattern():
    split = dict.fromkeys(DAYS, [["08:00", "12:00"], ["14:00", "20:00"]])
    uneven = dict.fromkeys(DAYS, [["08:00", "18:00"]]) | {"sun": [["10:00", "16:00"]]}
    assert stations.pattern_of(split) is None and stations.pattern_of(uneven) is None
    assert stations.pattern_of(dict.fromkeys(DAYS, [])) is None  # closed all week


def test_an_unknown_pattern_and_an_empty_period_are_refused():
    with pytest.raises(InvalidInput):
        stations.pattern_week("weekends", "08:00", "18:00")
    with pytest.raises(InvalidInput):
        stations.parse_hours(stations.pattern_week("every_day", "09:00", "09:00"))
