"""The model layer of "posted is forever": saves, deletes and queryset updates that would
change a posted row raise :class:`PostedIsImmutable` before reaching the database (where a
trigger would refuse them anyway, see ``guards.py``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q

from salesledger.domain.errors import PostedIsImmutable


def _refuse(model: type[models.Model]) -> PostedIsImmutable:
    return PostedIsImmutable(
        f"{model._meta.verbose_name} is posted and cannot be changed or deleted; "
        "record a correcting document instead",
        entity=model._meta.label,
    )


class ImmutableQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def _guarded(self) -> models.QuerySet:  # type: ignore[type-arg]
        cond = self.model.IMMUTABLE_WHEN  # type: ignore[attr-defined]
        return self if cond is None else self.filter(cond)

    def update(self, **kwargs: Any) -> int:
        mutable = set(self.model.MUTABLE_FIELDS)  # type: ignore[attr-defined]
        if not set(kwargs) <= mutable and self._guarded().exists():
            raise _refuse(self.model)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._guarded().exists():
            raise _refuse(self.model)
        return super().delete()


class ImmutableModel(models.Model):
    """Rows are immutable once written (or once ``IMMUTABLE_WHEN`` holds for them), except
    for the cached settlement columns named in ``MUTABLE_FIELDS``."""

    IMMUTABLE_WHEN: ClassVar[Q | None] = None
    MUTABLE_FIELDS: ClassVar[tuple[str, ...]] = ()

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def _stored_is_guarded(self) -> bool:
        if self._state.adding or self.pk is None:
            return False
        cond = type(self).IMMUTABLE_WHEN
        qs = type(self)._base_manager.filter(pk=self.pk)
        return qs.filter(cond).exists() if cond is not None else qs.exists()

    def save(self, *args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if not (fields and set(fields) <= set(self.MUTABLE_FIELDS)) and self._stored_is_guarded():
            raise _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._stored_is_guarded():
            raise _refuse(type(self))
        return super().delete(*args, **kwargs)
