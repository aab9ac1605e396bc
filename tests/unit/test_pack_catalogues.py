"""The monthly pack's French and German catalogues (``apps/reporting/locale``) are complete
and compiled: every string the pack and its e-mail translate has a text in each, no text is
fuzzy, the placeholders are the source's, and the compiled file Django reads says what the
source says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import salesledger.apps.reporting
from tests.web.test_translations import _texts

HERE = Path(salesledger.apps.reporting.__file__).parent
TRANSLATED = ("pack.py", "pack_sending.py")


def _used() -> set[str]:
    return {m for name in TRANSLATED
            for _, m, _, _ in extract_from_file("python", HERE / name, keywords={"_": None})}


@pytest.mark.parametrize("language", ["fr", "de"])
def test_every_string_of_the_pack_has_a_text(language: str) -> None:
    with open(HERE / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as f:
        catalog = read_po(f, locale=language)
    texts = {m.id: m.string for m in catalog if m.id}
    assert set(texts) == _used()
    assert [k for k, v in texts.items() if not v] == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    for k, v in texts.items():
        assert sorted(re.findall(r"%\(\w+\)s", k)) == sorted(re.findall(r"%\(\w+\)s", v)), k
    with open(HERE / "locale" / language / "LC_MESSAGES" / "django.mo", "rb") as f:
        assert _texts(read_mo(f)) == _texts(catalog)


def test_a_string_the_workspace_translates_too_has_its_french_text() -> None:
    """Django reads every app's catalogue into one: a string in both the pack's and the
    workspace's must say the same, or one would change the other's pages."""
    from tests.web.test_translations import LC_MESSAGES

    with open(LC_MESSAGES / "django.po", "rb") as f:
        web = {m.id: m.string for m in read_po(f, locale="fr") if m.id}
    with open(HERE / "locale" / "fr" / "LC_MESSAGES" / "django.po", "rb") as f:
        pack = {m.id: m.string for m in read_po(f, locale="fr") if m.id}
    shared = set(web) & set(pack)
    assert "expected" in shared
    assert {k: pack[k] for k in shared} == {k: web[k] for k in shared}
