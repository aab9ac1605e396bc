"""The company's bank accounts as posting reads them: the one place that gives
``build_snapshot`` what it needs to freeze the account an invoice is paid into
(``pay_to``, domain/bank_accounts.py), for every path that posts or previews a document.

Read once per batch (one query), never once per document. The main account's IBAN and BIC
are the company profile's (``company set --iban/--bic`` keeps the two in step,
ledger/banks.py); a company without a main account row has its profile's details as one.
"""

from __future__ import annotations

from salesledger.apps.core.models import Company
from salesledger.apps.ledger.banks import MAIN_CODE
from salesledger.apps.ledger.models import BankAccount
from salesledger.domain.bank_accounts import Payee, PayeeAccount


def company_payee(company: Company) -> Payee:
    """Who an invoice of ``company`` is paid to, and the accounts it may name."""
    rows = list(BankAccount.objects.filter(company=company).values_list(
        "code", "currency", "iban", "bic", "number", "is_main"))
    accounts = [PayeeAccount(code, currency, iban, bic, number, False)
                for code, currency, iban, bic, number, main in rows if not main]
    main = next((r for r in rows if r[5]), None)
    accounts.append(PayeeAccount(
        main[0] if main else MAIN_CODE, main[1] if main else company.base_currency,
        "".join((company.iban or "").split()).upper(), (company.bic or "").strip().upper(),
        main[4] if main else "", True))
    return Payee(holder=company.legal_name or company.name, accounts=tuple(accounts))
