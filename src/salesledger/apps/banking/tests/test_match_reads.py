"""What the matcher reads decides which of the names scoring alike a line keeps: the
customers' names come in one order on every database (by name as bytes, then id), so that
SQLite and PostgreSQL propose the same for every line (docs/design/cash-application.md)."""

from __future__ import annotations

import pytest

from salesledger.apps.banking.matching import customer_names
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.tests.books import make_customer

from .support import bank_books

pytestmark = pytest.mark.django_db(transaction=False)


def test_the_names_are_read_by_name_as_bytes_then_id_whatever_the_rows_order() -> None:
    books = bank_books("names-order")
    company, owner = books["company"], books["owner"]
    # created neither in name order nor in a language's order ("beta" before "Zeta" in
    # most locales, after it as bytes), two of the same name, one renamed after the others
    # were written (PostgreSQL moves the row to the end of its table)
    for code, name in (("C1", "beta Foods"), ("C2", "Zeta Foods"), ("C3", "Alpha Foods"),
                       ("C4", "beta Foods"), ("C5", "Omega Foods")):
        make_customer(company, owner, code, name=name)
    Customer.objects.filter(company=company, code="C1").update(name="Delta Foods")
    rows = Customer.objects.filter(company=company).values_list("id", "name")
    expected = [pk for pk, name in sorted(rows, key=lambda r: (r[1].encode(), r[0]))]
    index = customer_names(company)
    assert list(index.keys) == expected
    assert [index.keys[pk] for pk in expected] == [
        "ALPHA FOODS", "DELTA FOODS", "OMEGA FOODS", "ZETA FOODS", "BETA FOODS"]
