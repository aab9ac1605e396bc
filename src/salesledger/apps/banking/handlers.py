"""What the banking app does when the apps below it act (docs/design/events.md)."""

from __future__ import annotations

from salesledger.apps.core import events

from .payers import forget_removed_account


def register() -> None:
    events.subscribe(events.CustomerBankAccountRemoved, forget_removed_account)
