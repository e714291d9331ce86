"""Counters of the per-client rate limits when every worker and replica shares them through the state
database (`app.guard.sqlstorage`): one row per counted event of a moving window, one row per fixed window."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class RateLimitHit(Base):
    """One counted event (`amount` of them) of the moving window `bucket`; gone once `expires_at` passed."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(400))
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch, as the `limits` library counts
    amount: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class RateLimitCounter(Base):
    """A fixed window: `count` events since it opened, until `expires_at`."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(400), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)
