"""Operations shared by the apps' migrations. Whatever a migration imports from here must
keep its behaviour for as long as that migration exists: change nothing here, add."""

from django.db import migrations, models


def unindexed(model: str, field: str, table: str, column: str, index: str,
              state: models.Field) -> migrations.SeparateDatabaseAndState:
    """A foreign key's own index dropped, its table not copied: the state says the field
    has ``db_index=False`` (``state``), the database loses ``index`` by DROP INDEX (Django's
    SQLite editor would rebuild the whole table to change ``db_index``); undone by CREATE
    INDEX. ``index`` is the name Django gave it, the same on SQLite and PostgreSQL."""
    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL(
            f'DROP INDEX IF EXISTS "{index}"',
            f'CREATE INDEX "{index}" ON "{table}" ("{column}")')],
        state_operations=[migrations.AlterField(model_name=model, name=field,
                                                field=state)])
