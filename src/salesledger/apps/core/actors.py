"""Who does a write: a user, or the system.

Every service takes an ``actor``. It is the signed-in (or ``--user``) user who asked for the
write, or ``None`` when the system acts on its own: a scheduled run, the task worker, a
PDF frozen after posting. The audit trail names the system ``system``; rows that keep who
created them (``created_by``, ``posted_by``, …) keep NULL for it.

These helpers are the one place that turns an actor into a column value, so that a user
object that was never saved (``pk`` is None) is treated as the system everywhere alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

Actor: TypeAlias = "AbstractBaseUser | None"

SYSTEM_NAME = "system"


def actor_row(actor: Actor) -> AbstractBaseUser | None:
    """``actor`` as the value of a ``created_by``-like foreign key: None for the system."""
    return actor if actor is not None and getattr(actor, "pk", None) else None


def actor_id(actor: Actor) -> int | None:
    """``actor``'s primary key for a raw insert: None for the system."""
    row = actor_row(actor)
    return row.pk if row is not None else None


def actor_name(actor: Actor) -> str:
    """The name the audit trail records: the username, or ``system``."""
    return (getattr(actor, "username", "") if actor is not None else "") or SYSTEM_NAME
