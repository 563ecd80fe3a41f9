import datetime as dt

import pytest

from gmg.core.partial_dates import PartialDateError, humanise, parse


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("2010", dt.date(2010, 1, 1), dt.date(2010, 12, 31), "year"),
        ("2007-11", dt.date(2007, 11, 1), dt.date(2007, 11, 30), "month"),
        ("2016-02", dt.date(2016, 2, 1), dt.date(2016, 2, 29), "month"),
        ("2016-03-24", dt.date(2016, 3, 24), dt.date(2016, 3, 24), "day"),
        ("2016-02-25/2016-02-26", dt.date(2016, 2, 25), dt.date(2016, 2, 26), "range"),
        ("2009/2010", dt.date(2009, 1, 1), dt.date(2010, 12, 31), "range"),
    ],
)
def test_parse(text, start, end, precision):
    parsed = parse(text)
    assert (parsed.start, parsed.end, parsed.precision) == (start, end, precision)


@pytest.mark.parametrize("text", ["2016-02-30", "2006-13", "May 2010", "2010/2009", ""])
def test_impossible_dates_are_refused(text):
    with pytest.raises(PartialDateError):
        parse(text)


def test_humanise():
    assert humanise("2007-11") == "November 2007"
    assert humanise("2016-03-24") == "24 March 2016"
    assert humanise("2016-02-25/2016-02-26") == "25 February 2016 – 26 February 2016"
    assert humanise(None) == "not stated"


def test_precision_compatibility():
    assert parse("2003").overlaps(parse("2003-04"))
    assert not parse("2012-11").overlaps(parse("2013"))
