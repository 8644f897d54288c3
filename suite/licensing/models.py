"""The ``licences`` table: every licence text installed here, newest active one wins.

The text is stored as received and verified again each time it is read, so a row edited in
the database (or a vendor key removed from the configuration) never grants anything.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suite.db.base import Base, BusinessRow, utcnow


class InstalledLicence(BusinessRow, Base):
    __tablename__ = "licences"

    licence_id: Mapped[str] = mapped_column(String(64), index=True)
    chain_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    installed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    installed_by: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True, index=True)
