"""Fixtures of the CSV import tests (named ``csv_*`` so that they never shadow the shared
fixtures of the project's root ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.invoicing.tests.books import make_company, make_owner

from .csv_support import write_csv


@pytest.fixture
def csv_owner(db: None) -> Any:
    return make_owner()


@pytest.fixture
def csv_company(csv_owner: Any) -> Any:
    return make_company(csv_owner, "csvco")


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """``csv_file("name.csv", text)``: write (dedented) UTF-8 text, return its path."""
    return lambda name, text: write_csv(tmp_path, name, text)


@pytest.fixture
def csv_import(csv_company: Any, csv_owner: Any) -> Callable[..., dict[str, Any]]:
    """``csv_import(kind, path, force=False, company=...)`` through ``import_file``."""
    def run(kind: str, path: Path, *, force: bool = False, company: Any = None
            ) -> dict[str, Any]:
        return import_file(kind=kind, path=path, company=company or csv_company,
                           actor=csv_owner, force=force)

    return run
