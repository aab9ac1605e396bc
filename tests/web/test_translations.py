"""The workspace's French catalogue is complete and compiled: every string the pages
translate has a French text, and the compiled file Django reads says what the source says."""

from __future__ import annotations

import re
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


TRANSLATE_TAG = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')(.*?)%\}""")


def test_every_literal_a_template_translates_is_in_the_catalogue() -> None:
    """``{% translate "…" %}`` looks its text up with each ``%`` doubled (Django's
    ``Variable``): an entry written with a single ``%`` is never found, and the page stays in
    English without a word."""
    with open(LC_MESSAGES / "django.po", "rb") as f:
        catalog = read_po(f, locale="fr")
    known = {(m.context or None, m.id) for m in catalog if isinstance(m.id, str)}
    missing = []
    for template in sorted((LC_MESSAGES.parents[2] / "templates").rglob("*.html")):
        for match in TRANSLATE_TAG.finditer(template.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if "noop" in match.group(3):
                continue
            context = re.search(r"""context\s+["']([^"']*)["']""", match.group(3))
            key = (context.group(1) if context else None, text.replace("%", "%%"))
            if key not in known:
                missing.append(f"{template.name}: {text}")
    assert missing == []
