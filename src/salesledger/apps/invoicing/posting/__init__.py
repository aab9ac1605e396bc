"""Posting invoices and credit notes: one way for every path, read -> check -> write.

A draft posted from the command line is a batch of one (``services.invoices_post``); new
documents of an import, a migration or the demo are a batch of thousands
(``services.documents_post_bulk``; the CSV import streams its file through the same two
parts a chunk at a time). ``check.py`` reads what the rules need for the whole batch with a
fixed number of queries and checks every document (``DocumentChecker``, ``documents_prepare``);
``write.py`` numbers the documents and writes them (``documents_write``, ``DocumentWriter``),
from what the pure core plans for each (``domain/posting.py``).

Numbers. A document without a number takes the next ones of its series (INV, CN) for the
fiscal year of its issue date, in order of issue date, then input order. A document given a
number keeps it in series ``IMP``, outside every counter (the open invoices of a business
moving from another system). One exception keeps the books sound: a kept number written like
this company's own (``INV2026-00042``, as an export of salesledger writes it) would collide
with a number the INV counter gives later, so such a number must continue its own series
without a gap; it is then stored in that series and moves the counter on.

E-invoice rules. A document numbered here is issued here: it must be a valid EN 16931
e-invoice (``einvoice_check``). A document that keeps the number another system (or an
earlier salesledger) gave it was issued there: it is history, and is not checked again.
Migrated history may also give its own due dates (``BulkDoc.due``) and come as opening items
(``BulkDoc.opening``: known by its total, booked against the opening-balances account;
docs/design/opening-items.md).
"""
