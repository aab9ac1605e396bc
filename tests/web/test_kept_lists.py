"""The worklist and the duplicates read what the worker keeps: a page of the day's kept
ranking, a page of the last scan's pairs, in a number of queries that does not grow with the
customers; casework done on the page moves its customer on the kept ranking at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from .conftest import AS_OF

DAY = date.fromisoformat(AS_OF)


@pytest.mark.parametrize("extra", [0, 30])
def test_the_worklist_page_reads_a_page_of_the_kept_ranking(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        post_invoice: Any, django_user_model: Any, django_assert_max_num_queries: Any,
        extra: int) -> None:
    from salesledger.apps.collections.ranking import worklist_rank_build, worklist_ranked
    from salesledger.apps.collections.selectors import worklist
    from salesledger.apps.core.services import membership_set

    company, owner = books["company"], books["owner"]
    for i in range(extra):
        make_customer(f"Q{i:03d}")
        post_invoice(f"Q{i:03d}", lines=(("Item", 1, f"{10 + i}.00", "20"),))
    django_user_model.objects.create_user("cole")
    membership_set(actor=owner, company=company, username="cole", role="collector")
    client = as_user(owner)
    ranked_here = client.get(f"/c/acme/collections/?as_of={AS_OF}").content.decode()
    assert "Ranked by the worker" not in ranked_here
    assert worklist_rank_build(company, day=DAY) == 1 + extra
    with django_assert_max_num_queries(8):
        page = client.get(f"/c/acme/collections/?as_of={AS_OF}")
    text = page.content.decode()
    assert page.status_code == 200 and "Ranked by the worker" in text
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    codes = [r.code for r in worklist(company, as_of=DAY)][:25]
    assert [body.index(f"/customers/{c}/") for c in codes] == sorted(
        body.index(f"/customers/{c}/") for c in codes)  # in the ranking's order
    # an assignment made on the page moves C001 on the kept ranking in its transaction
    done = client.post(f"/c/acme/collections/?as_of={AS_OF}",
                       {"customers": "C001", "collector": "cole", "next_action": "2025-05-20"})
    assert done.status_code == 302
    [mine] = worklist_ranked(company, as_of=DAY, collector="cole") or []
    assert (mine.code, mine.next_action) == ("C001", date(2025, 5, 20))
    with django_assert_max_num_queries(8):
        text = client.get(f"/c/acme/collections/?as_of={AS_OF}&collector=cole").content.decode()
    assert "C001" in text and "May 20, 2025" in text
    # another day than the kept ranking's: ranked on the page, as before
    other = client.get("/c/acme/collections/?as_of=2025-05-16").content.decode()
    assert "Ranked by the worker" not in other and "C001" in other


def test_the_duplicates_page_reads_a_page_of_the_last_scan(
        books: dict[str, Any], as_user: Callable[[Any], Any], make_customer: Any,
        django_assert_max_num_queries: Any) -> None:
    from salesledger.apps.customers.duplicates import duplicate_pairs_store
    from salesledger.apps.customers.services import customer_update

    make_customer("D001", name="Dupont et Fils")  # C001's name
    for i in range(20):
        make_customer(f"Z{i:03d}", name=f"Atelier {i}")
    client = as_user(books["owner"])
    assert duplicate_pairs_store(books["company"]) == 1
    with django_assert_max_num_queries(10):
        text = client.get("/c/acme/credit/duplicates/").content.decode()
    assert "D001" in text and "Found by the worker" in text and "Records have changed" not in text
    customer_update(actor=books["owner"], company=books["company"], code="Z001",
                    name="Martin SA")  # C002's name: found at the worker's next scan
    text = client.get("/c/acme/credit/duplicates/").content.decode()
    assert "Records have changed" in text and "Z001" not in text
    duplicate_pairs_store(books["company"])
    assert "Z001" in client.get("/c/acme/credit/duplicates/").content.decode()
