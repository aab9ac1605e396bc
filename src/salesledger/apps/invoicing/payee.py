"""The company's bank accounts as posting reads them: the one place that gives
``build_snapshot`` what it needs to freeze the account an invoice is paid into
(``pay_to``, domain/bank_accounts.py), for every path that posts or previews a document.

Read once per batch (one query), never once per document. The main account's IBAN and BIC
are the company profile's (``company set --iban/--bic`` keeps the two in step,
ledger/banks.py); a main account without details, or a company without a main account row,
has its profile's.
"""

from __future__ import annotations

from salesledger.apps.core.models import Company
from salesledger.apps.ledger.banks import MAIN_CODE
from salesledger.apps.ledger.models import BankAccount
from salesledger.domain.bank_accounts import Payee, PayeeAccount


def company_payee(company: Company) -> Payee:
    """Who an invoice of ``company`` is paid to, and the accounts it may name, as stored
    (one query: the holder and the profile's IBAN and BIC come with the accounts, so that a
    ``company`` read before its profile changed names the accounts as they are)."""
    rows = list(BankAccount.objects.filter(company=company).values_list(
        "code", "currency", "iban", "bic", "number", "is_main", "company__legal_name",
        "company__name", "company__iban", "company__bic"))
    accounts = [PayeeAccount(code, currency, iban, bic, number, False)
                for code, currency, iban, bic, number, main, *_ in rows if not main]
    main = next((r for r in rows if r[5]), None)
    if main is not None:
        code, currency, iban, bic, number, _, legal, name, profile_iban, profile_bic = main
    else:  # no main account row: the profile's details are it
        code, currency, iban, bic, number = MAIN_CODE, company.base_currency, "", "", ""
        legal, name, profile_iban, profile_bic = (company.legal_name, company.name,
                                                  company.iban, company.bic)
    if not iban and not number:  # a profile written without its main account kept in step
        iban, bic = profile_iban or "", profile_bic or ""
    accounts.append(PayeeAccount(code, currency, _compact(iban), _compact(bic), number, True))
    return Payee(holder=legal or name, accounts=tuple(accounts))


def _compact(text: str) -> str:
    return "".join(text.split()).upper()
