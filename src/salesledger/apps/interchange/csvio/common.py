"""What every CSV import shares: the file checks, the batch record, problems in one form."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, ImportBatch
from salesledger.domain.errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    DateBeyondHorizon,
    DuplicateCode,
    ImportFailed,
    InvalidTaxId,
    LedgerError,
    PeriodClosed,
    PurchaseOrderRequired,
    UnknownCustomer,
)
from salesledger.formats.csv_rows import Format, RowProblem, RowReader

CHUNK = 5000  # values per IN (...) list
PROGRESS_LINES = 1000  # lines read between two reports of an import's progress


@dataclass
class CsvSource:
    """An import file that can be read more than once: each :meth:`read` opens it anew (an
    import checks the whole file in one reading and writes in another, holding neither),
    and counts the readings finished."""

    path: Path
    fmt: Format
    limits: dict[str, int]
    # Told how far the readings have gone: (readings finished, bytes of this one, file size).
    progress: Callable[[int, int, int], None] | None = None
    readings: int = field(default=0, init=False)

    @contextlib.contextmanager
    def read(self) -> Iterator[RowReader]:
        with self.path.open(encoding="utf-8-sig", newline="") as fh:
            stream: Any = fh if self.progress is None else self._told(fh)
            yield RowReader(stream, self.fmt, name=self.path.name, limits=self.limits)
        self.readings += 1

    def _told(self, fh: Any) -> Iterator[str]:
        """The file's lines, telling ``progress`` where the reading is every
        ``PROGRESS_LINES`` lines (the position of the bytes read so far)."""
        assert self.progress is not None
        size = max(1, self.path.stat().st_size)
        for n, text in enumerate(fh, 1):
            if n % PROGRESS_LINES == 0:
                self.progress(self.readings, fh.buffer.tell(), size)
            yield text
        self.progress(self.readings, size, size)


def limits(columns: dict[str, tuple[type[models.Model], str]]) -> dict[str, int]:
    """Maximum text length of each CSV column: that of the database column it fills."""
    out = {}
    for col, (model, name) in columns.items():
        max_length = model._meta.get_field(name).max_length  # type: ignore[union-attr]
        if max_length:
            out[col] = int(max_length)
    return out


# Which column an error of the services points at, when it does not say (``field``).
_COLUMN_OF: dict[type[LedgerError], str] = {
    UnknownCustomer: "customer",
    PurchaseOrderRequired: "po_number",
    CreditExceedsInvoice: "corrects",
    CurrencyMismatch: "currency",
    DuplicateCode: "number",
    InvalidTaxId: "tax_id",
}


@dataclass
class ImportContext:
    company: Company
    actor: Actor
    kind: str
    name: str
    sha256: str
    forced: bool
    date_column: str = "date"  # where a closed period is reported
    allow_future_date: bool = False  # new documents dated beyond the horizon, confirmed
    credit_override: str = ""  # a credit controller's comment overriding credit refusals
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, line: int, column: str | None, reason: str, *, code: str = "invalid"
                ) -> None:
        self.problems.append(RowProblem(line, column, reason, code))

    def error(self, line: int, exc: LedgerError, *, rename: dict[str, str] | None = None,
              column: str | None = None) -> None:
        """Report a service's error at ``line``, in the column it concerns."""
        col = column or exc.fields.get("field") or _column_of(exc, self.date_column)
        col = (rename or {}).get(col, col) if col else None
        self.problems.append(RowProblem(line, col, exc.message, exc.code))

    def rows_read(self, reader: Any) -> None:
        """After the rows are read: the reader's own problems, and a file without rows."""
        self.problems.extend(reader.problems)
        if reader.rows == 0 and not reader.problems:
            self.problems.append(RowProblem(2, None, "the file has a header but no rows"))

    def fail_if_problems(self, extra: Iterable[RowProblem] = ()) -> None:
        self.problems.extend(extra)
        if self.problems:
            problems = sorted(set(self.problems), key=lambda p: (p.line, p.column or ""))
            n = len(problems)
            raise ImportFailed(
                f"{self.name}: {n} problem{'s' if n != 1 else ''}; nothing was imported",
                problems)

    def batch(self, rows: int) -> ImportBatch:
        user = self.actor if getattr(self.actor, "pk", None) else None
        return ImportBatch.objects.create(
            company=self.company, kind=self.kind, filename=self.name[:255], sha256=self.sha256,
            rows=rows, forced=self.forced, created_by=user)


def _column_of(exc: LedgerError, date_column: str) -> str | None:
    if isinstance(exc, (PeriodClosed, DateBeyondHorizon)):
        return date_column
    for cls, col in _COLUMN_OF.items():
        if isinstance(exc, cls):
            return col
    return None


def in_chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]
