"""The CSV file of third-party orders that ``RedemptionService.import_csv`` turns into redemption
codes (T6, docs/tickets-partners.md): reading it into rows of named columns.

The file (UTF-8, with or without a byte-order mark, or GB 18030) has a header row naming its
columns (English or Chinese names, any order, other columns ignored):

=============  ==================  ========  ==================================================
column         also                required  what
=============  ==================  ========  ==================================================
order          订单号              yes       the partner's order number
ticket_type    type, 票种          yes       a ticket type code of the box office
code           兑换码, 取票码      \\-        the code the customer was given (empty: one is made)
session        场次                \\-        a session code (empty: any session)
quantity       qty, 数量           \\-        tickets for the code (default 1)
phone          mobile, 手机        \\-        the customer's phone (a row needs a code or a phone)
paid           amount, 金额        \\-        what the partner collected, yuan (default 0)
partner        渠道                \\-        the partner (default: the one the import is for)
=============  ==================  ========  ==================================================
"""

from __future__ import annotations

import csv
import io

from suite.errors import InvalidInput
from suite.i18n import _

MAX_ROWS = 20_000

# canonical column -> the names a header may give it (compared in lower case)
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("order", "external_order", "order_no", "订单号"),
    "ticket_type": ("ticket_type", "type", "票种"),
    "code": ("code", "兑换码", "取票码"),
    "session": ("session", "场次"),
    "quantity": ("quantity", "qty", "数量"),
    "phone": ("phone", "mobile", "手机", "手机号"),
    "paid": ("paid", "amount", "金额"),
    "partner": ("partner", "渠道"),
}
REQUIRED_COLUMNS = ("order", "ticket_type")


def read_csv(data: str | bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (line number, {canonical column: text}); header problems raise."""
    if isinstance(data, bytes):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                data = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise InvalidInput(_("The file is neither UTF-8 nor GB 18030 text."))
    if not isinstance(data, str):
        raise InvalidInput(_("The import needs the CSV file's text."))
    reader = csv.reader(io.StringIO(data.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(_("The file is empty.")) from None
    except csv.Error as exc:
        raise InvalidInput(_("line {line}: {message}").format(line=1, message=str(exc))) from None
    names = {alias.lower(): canonical for canonical, aliases in CSV_COLUMNS.items() for alias in aliases}
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        canonical = names.get(title.strip().lower())
        if canonical is not None:
            if canonical in columns.values():
                raise InvalidInput(_("line 1: the column {name} is there twice.").format(name=canonical))
            columns[index] = canonical
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise InvalidInput(_("line 1: the header lacks the columns {names} (it has: {found}).").format(
            names=", ".join(missing), found=", ".join(h.strip() for h in header)))
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise InvalidInput(_("The file has more than {n} rows: split it.").format(n=MAX_ROWS))
            rows.append((line, {name: (record[i] if i < len(record) else "") for i, name in columns.items()}))
    except csv.Error as exc:
        raise InvalidInput(_("line {line}: {message}").format(line=line + 1, message=str(exc))) from None
    if not rows:
        raise InvalidInput(_("The file has a header but no orders."))
    return rows


__all__ = ["CSV_COLUMNS", "MAX_ROWS", "REQUIRED_COLUMNS", "read_csv"]
