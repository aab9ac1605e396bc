"""Pure domain rules of the sales ledger: no Django, no database, no clock."""
