"""Adjustments: settling (part of) an invoice without money, and the short payments, early
payments and bad debts that call for it (docs/design/adjustments.md).

An ``Adjustment`` is a settlement source like a receipt or a credit note, except that it is
applied in full the moment it is made: its allocations (``Allocation.adjustment``) settle the
invoice's open instalments oldest due first, and its journal entry credits the receivable
against the account of its kind (``domain/adjustments.py``). Nothing is changed or deleted
afterwards: a reversal is a reversing adjustment whose allocations reverse the original's and
whose entry is the opposite of the original's.

One module per feature, each importing only those above it in this list:

    writer       the one writer of adjustments and of their reversal (``adjustment_reverse``)
    settings     the company's write-off tolerance and discount tax policy
    write_offs   a payment that leaves a residual: written off (within the tolerance) or
                 recorded as a deduction (``receipt_allocate_short``, ``invoice_adjust``)
    discounts    the early-payment discount of an instalment paid in time
    bad_debts    bad debts (``invoice_write_off``, ``customer_write_off``) and their
                 recovery by a later payment (``invoice_recover``)

Import the names from their module; this package hands nothing on.

Locking order, as everywhere (``payments/services.py``): the receipt first, then the invoice
row, then its instalments in ascending id. Every service writes its audit event in its
transaction.
"""
