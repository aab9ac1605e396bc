"""The workspace's French catalogue is complete and compiled: every string the pages
translate has a French text, and the compiled file Django reads says what the source says."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import salesledger.web

LC_MESSAGES = Path(salesledger.web.__file__).parent / "locale" / "fr" / "LC_MESSAGES"


def _flat(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _texts(catalog: object) -> dict[object, object]:
    return {_flat(m.id): _flat(m.string) for m in catalog if m.id}  # type: ignore[attr-defined]


def test_every_string_has_a_french_text() -> None:
    with open(LC_MESSAGES / "django.po", "rb") as f:
        catalog = read_po(f, locale="fr")
    untranslated = [m.id for m in catalog if m.id and (
        not all(m.string) if isinstance(m.string, tuple) else not m.string)]
    assert untranslated == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_the_compiled_catalogue_is_up_to_date() -> None:
    with open(LC_MESSAGES / "django.po", "rb") as f:
        source = read_po(f, locale="fr")
    with open(LC_MESSAGES / "django.mo", "rb") as f:
        compiled = read_mo(f)
    assert _texts(compiled) == _texts(source)
