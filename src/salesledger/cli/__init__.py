"""The ``salesledger`` command line: parsing and rendering only; every command calls one
service or selector (docs/design/errors.md says how errors are shown).

``main.py`` builds the parser and runs a command. Each command group lives in a module of
its own, which adds it to the parser with a ``register`` function:

- ``company.py``: ``init``, ``user``, ``period``, ``company``
- ``customer.py``: ``customer``; ``terms.py``: ``terms``
- ``invoice.py``: ``invoice``, ``credit-note``
- ``receipt.py``: ``receipt``, ``refund``; ``adjustment.py``: ``adjustment``
- ``reports.py``: ``balance``, ``open-items``, ``check``; ``report.py``: ``report``
- ``interchange.py``: ``import``, ``export``, ``demo``
- ``quote.py``: ``quote``; ``recurring.py``: ``recurring``; ``fx.py``: ``fx``;
  ``template.py``: ``template``
- ``bank.py``: ``bank`` (bank accounts, statement import)
- ``credit.py``: ``credit``; ``collections.py``: ``dispute``, ``promise``, ``plan``,
  ``worklist``; ``dunning.py``: ``dunning``
- ``serve.py``: ``serve``, ``worker``; ``backup.py``: ``backup``, ``restore``

They share ``common.py`` (the company, user and day a command acts for; parsing typed
values; adding commands), ``render.py`` (tables, JSON, money), ``display.py`` (what several
groups print alike: an invoice in full, an adjustment) and ``files.py`` (files read and
written). A group imports only these, never another group nor ``main``.
"""
