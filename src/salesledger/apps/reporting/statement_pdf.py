"""A customer's statement for a period as a PDF, and e-mailed (docs/design/reporting.md, "A
customer's statement for a period").

The reporting app reads the period (``statement.customer_statement``: the opening balance,
every movement, the closing balance) and hands it to the documents app, below it, which lays
it out in the statement's layout with the aging on the last day and sends it as it sends the
statement of a day. Kept apart from ``selectors.py`` so that a report that prints no PDF does
not load the PDF and e-mail stacks.
"""

from __future__ import annotations

from datetime import date

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company
from salesledger.apps.customers.models import Communication
from salesledger.apps.documents.context import Period, PeriodMovement
from salesledger.apps.documents.delivery import period_statement_send
from salesledger.apps.documents.services import period_statement_pdf

from .statement import Statement, customer_statement, running


def as_period(statement: Statement) -> Period:
    """The statement as the documents app lays it out: each movement with its balance."""
    return Period(start=statement.start, end=statement.end, opening=dict(statement.opening),
                  closing=dict(statement.closing),
                  movements=[PeriodMovement(m.date, m.kind, m.document, m.currency, m.amount,
                                            balance) for m, balance in running(statement)])


def statement_pdf(*, actor: Actor, company: Company, code: str, start: date, end: date
                  ) -> tuple[Statement, bytes]:
    """Customer ``code``'s statement from ``start`` to ``end`` and its PDF (an alias's is
    its survivor's, as the statement's figures are)."""
    statement = customer_statement(company, code=code, start=start, end=end)
    return statement, period_statement_pdf(actor=actor, company=company,
                                           code=statement.customer, period=as_period(statement))


def statement_send(*, actor: Actor, company: Company, code: str, start: date, end: date,
                   as_of: date, to: list[str] | None = None
                   ) -> tuple[Statement, Communication]:
    """E-mail customer ``code``'s statement from ``start`` to ``end`` with its PDF, to its
    billing contacts or to ``to``; recorded on its timeline on ``as_of``."""
    statement = customer_statement(company, code=code, start=start, end=end)
    return statement, period_statement_send(actor=actor, company=company,
                                            code=statement.customer,
                                            period=as_period(statement), as_of=as_of, to=to)
