"""Price bars persisted in the database (PostgreSQL or SQLite), with the ranges already fetched.

Tables (on :class:`app.db.Base`):

``price_bars``
    one row per (symbol, interval, date) — the primary key, which is also the index for range
    queries — with raw ``open/high/low/close/volume``, ``adj_close`` and the ``source`` provider.
``price_coverage``
    date ranges already asked of a provider per (symbol, interval), merged when they touch, so
    weekends, holidays and days before a listing are not fetched again.
``price_symbols``
    the display name of each stored symbol, as the provider gave it.

Writes are upserts (``INSERT .. ON CONFLICT DO UPDATE``, the dialect's own), so writing the same
bars twice changes nothing. :meth:`PriceStore.write` also *rebases* history: Yahoo's and Alpaca's
adjusted closes (and, after a split, the split-adjusted OHLC) are relative to the latest bar, so
when a top-up overlaps stored bars and the overlapping prices differ by a constant factor (a
dividend or split happened since the first fetch), all stored bars of the symbol are rescaled by
that factor and the series stays on one basis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import (
    Date,
    DateTime,
    Double,
    Engine,
    Index,
    Integer,
    String,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from data.errors import StoreNotReadyError
from data.frames import COLUMNS, empty_frame
from data.orm import Base

REBASE_TOLERANCE = 2e-4  # relative; above price rounding noise, below one small dividend
UPSERT_CHUNK = 2000


class PriceBar(Base):
    __tablename__ = "price_bars"

    symbol: Mapped[str] = mapped_column(String(20), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    date: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    adj_close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)
    source: Mapped[str] = mapped_column(String(16))


class PriceCoverage(Base):
    __tablename__ = "price_coverage"
    __table_args__ = (Index("ix_price_coverage_symbol_interval", "symbol", "interval"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(20))
    interval: Mapped[str] = mapped_column(String(8))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PriceSymbol(Base):
    __tablename__ = "price_symbols"

    symbol: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(16))


TABLES = [PriceBar.__table__, PriceCoverage.__table__, PriceSymbol.__table__]


@dataclass(frozen=True)
class WriteResult:
    rows_added: int
    rows_updated: int
    rebase_factor: float | None  # set when stored history was rescaled (see module docstring)


class PriceStore:
    """The tables come from the migrations (``arena db upgrade``; revision 0002);
    :meth:`create_tables` is for tests and benchmarks on a bare database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tables_checked = False

    def create_tables(self) -> None:
        """Create the three tables where missing (tests, benchmarks)."""
        Base.metadata.create_all(self.engine, tables=TABLES)
        self._tables_checked = True

    def _ready(self) -> None:
        if self._tables_checked:
            return
        existing = set(inspect(self.engine).get_table_names())
        missing = [t.name for t in TABLES if t.name not in existing]
        if missing:
            raise StoreNotReadyError(
                f"the database has no {', '.join(missing)} table(s): run `arena db upgrade` "
                "with the same DATABASE_URL")
        self._tables_checked = True

    def load(self, symbol: str, interval: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Stored bars with dates in ``[start, end]``; ``attrs["source"]`` lists their sources."""
        self._ready()
        bar = PriceBar.__table__.c
        query = (select(bar.date, bar.open, bar.high, bar.low, bar.close, bar.adj_close,
                        bar.volume, bar.source)
                 .where(bar.symbol == symbol, bar.interval == interval,
                        bar.date >= _midnight(start),
                        bar.date < _midnight(end + dt.timedelta(days=1)))
                 .order_by(bar.date))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return empty_frame()
        dates, *values, sources = zip(*rows, strict=True)
        frame = pd.DataFrame(np.array(values, dtype="float64").T, columns=list(COLUMNS),
                             index=pd.DatetimeIndex(dates, name="date").as_unit("ns"))
        frame.attrs["source"] = "+".join(sorted(set(sources)))
        return frame

    def missing_ranges(self, symbol: str, interval: str, start: dt.date,
                       end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The parts of ``[start, end]`` no provider has been asked for yet, oldest first."""
        self._ready()
        gaps, cursor = [], start
        for first, last in self.coverage(symbol, interval):
            if last < cursor or first > end:
                continue
            if first > cursor:
                gaps.append((cursor, first - dt.timedelta(days=1)))
            cursor = max(cursor, last + dt.timedelta(days=1))
        if cursor <= end:
            gaps.append((cursor, end))
        return gaps

    def coverage(self, symbol: str, interval: str) -> list[tuple[dt.date, dt.date]]:
        self._ready()
        cov = PriceCoverage.__table__.c
        query = (select(cov.start_date, cov.end_date)
                 .where(cov.symbol == symbol, cov.interval == interval)
                 .order_by(cov.start_date))
        with self.engine.connect() as connection:
            return [(row.start_date, row.end_date) for row in connection.execute(query)]

    def nearest_bars(self, symbol: str, interval: str, start: dt.date,
                     end: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The dates of the last stored bar before ``start`` and the first one after ``end``."""
        self._ready()
        bar = PriceBar.__table__.c
        where = (bar.symbol == symbol, bar.interval == interval)
        with self.engine.connect() as connection:
            before = connection.scalar(
                select(func.max(bar.date)).where(*where, bar.date < _midnight(start)))
            after = connection.scalar(select(func.min(bar.date)).where(
                *where, bar.date >= _midnight(end + dt.timedelta(days=1))))
        return (before.date() if before else None, after.date() if after else None)

    def write(self, symbol: str, interval: str, frame: pd.DataFrame, source: str,
              covered: tuple[dt.date, dt.date] | None = None,
              name: str | None = None) -> WriteResult:
        """Upsert ``frame`` (rebasing stored history if needed) and record ``covered`` as
        fetched, in one transaction."""
        self._ready()
        with self.engine.begin() as connection:
            stored = _stored_overlap(connection, symbol, interval, frame)
            factors = _rebase_factors(stored, frame)
            if factors is not None:
                _rescale_history(connection, symbol, interval, *factors)
            if len(frame):
                _upsert_bars(connection, symbol, interval, frame, source)
            if covered is not None:
                _add_coverage(connection, symbol, interval, covered, source)
            if name or len(frame):
                _upsert_symbol(connection, symbol, name, source)
        added = int((~frame.index.isin(stored.index)).sum())
        return WriteResult(added, len(frame) - added, factors[1] if factors else None)

    def symbols(self, interval: str = "1d") -> list[dict]:
        """Stored symbols: ``symbol, name, source, first_date, last_date, bars``."""
        self._ready()
        bar, info = PriceBar.__table__.c, PriceSymbol.__table__.c
        query = (select(bar.symbol, bar.source, func.min(bar.date), func.max(bar.date),
                        func.count())
                 .where(bar.interval == interval).group_by(bar.symbol, bar.source))
        with self.engine.connect() as connection:
            names = dict(connection.execute(select(info.symbol, info.name)).all())
            rows = connection.execute(query).all()
        merged: dict[str, dict] = {}
        for symbol, source, first, last, count in rows:
            entry = merged.setdefault(symbol, {
                "symbol": symbol, "name": names.get(symbol), "sources": set(),
                "first_date": first.date(), "last_date": last.date(), "bars": 0})
            entry["sources"].add(source)
            entry["first_date"] = min(entry["first_date"], first.date())
            entry["last_date"] = max(entry["last_date"], last.date())
            entry["bars"] += count
        return [{**{k: v for k, v in e.items() if k != "sources"},
                 "source": "+".join(sorted(e["sources"]))} for _, e in sorted(merged.items())]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _stored_overlap(connection, symbol: str, interval: str, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return empty_frame()
    bar = PriceBar.__table__.c
    query = (select(bar.date, bar.close, bar.adj_close)
             .where(bar.symbol == symbol, bar.interval == interval,
                    bar.date >= frame.index[0].to_pydatetime(),
                    bar.date <= frame.index[-1].to_pydatetime()))
    rows = connection.execute(query).all()
    index = pd.DatetimeIndex([r.date for r in rows], name="date").as_unit("ns")
    return pd.DataFrame({"close": [r.close for r in rows],
                         "adj_close": [r.adj_close for r in rows]}, index=index, dtype="float64")


def _rebase_factors(stored: pd.DataFrame, fresh: pd.DataFrame) -> tuple[float, float] | None:
    """``(price_factor, adj_factor)`` = median of fresh/stored over the overlapping bars, or
    None when both are 1 within :data:`REBASE_TOLERANCE`."""
    common = stored.index.intersection(fresh.index)
    if common.empty:
        return None
    price = float(np.median(fresh.loc[common, "close"] / stored.loc[common, "close"]))
    adj = float(np.median(fresh.loc[common, "adj_close"] / stored.loc[common, "adj_close"]))
    if abs(price - 1) <= REBASE_TOLERANCE and abs(adj - 1) <= REBASE_TOLERANCE:
        return None
    return price, adj


def _rescale_history(connection, symbol: str, interval: str, price: float, adj: float) -> None:
    bar = PriceBar.__table__.c
    connection.execute(
        update(PriceBar.__table__)
        .where(bar.symbol == symbol, bar.interval == interval)
        .values(open=bar.open * price, high=bar.high * price, low=bar.low * price,
                close=bar.close * price, volume=bar.volume / price,
                adj_close=bar.adj_close * adj))


def _insert(connection, table):
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"price store: no upsert for the {dialect} dialect")


def _upsert_bars(connection, symbol: str, interval: str, frame: pd.DataFrame,
                 source: str) -> None:
    statement = _insert(connection, PriceBar.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["symbol", "interval", "date"],
        set_={c: statement.excluded[c] for c in (*COLUMNS, "source")})
    dates = frame.index.to_pydatetime()
    values = frame[list(COLUMNS)].to_numpy(dtype="float64").tolist()
    rows = [{"symbol": symbol, "interval": interval, "date": d, "source": source,
             **dict(zip(COLUMNS, v, strict=True))} for d, v in zip(dates, values, strict=True)]
    for begin in range(0, len(rows), UPSERT_CHUNK):
        connection.execute(statement, rows[begin:begin + UPSERT_CHUNK])


def _add_coverage(connection, symbol: str, interval: str, covered: tuple[dt.date, dt.date],
                  source: str) -> None:
    """Insert ``covered``, merged with every stored range it overlaps or touches."""
    cov = PriceCoverage.__table__.c
    first, last = covered
    where = (cov.symbol == symbol, cov.interval == interval,
             cov.start_date <= last + dt.timedelta(days=1),
             cov.end_date >= first - dt.timedelta(days=1))
    for start_date, end_date in connection.execute(select(cov.start_date, cov.end_date)
                                                   .where(*where)):
        first, last = min(first, start_date), max(last, end_date)
    connection.execute(delete(PriceCoverage.__table__).where(*where))
    connection.execute(PriceCoverage.__table__.insert().values(
        symbol=symbol, interval=interval, start_date=first, end_date=last, source=source,
        fetched_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))


def _upsert_symbol(connection, symbol: str, name: str | None, source: str) -> None:
    statement = _insert(connection, PriceSymbol.__table__).values(
        symbol=symbol, name=name, source=source)
    update_values = {"source": statement.excluded.source}
    if name:
        update_values["name"] = statement.excluded.name
    connection.execute(statement.on_conflict_do_update(index_elements=["symbol"],
                                                       set_=update_values))
