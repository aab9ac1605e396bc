"""Duplicate customers: which pairs of records may be one customer entered twice
(docs/design/customer-records.md).

A pair is a candidate when the two records share a tax id, share an IBAN (a bank account of
one, or an IBAN the other was seen paying from), or have close names. Names are compared
after folding case and accents and dropping legal forms (``Dupont SARL``, ``DUPONT s.a.r.l.``
and ``Dupont`` are one name), with rapidfuzz's token-sorted ratio, so that word order and a
typo cost little.

Comparing every pair of 100,000 customers is five billion comparisons; instead the names are
*blocked*: each name is filed under the first four letters of each pair of its words (of its
only word), and only names filed together are compared, by rapidfuzz's own loop. Word order
and a typo after the fourth letter of a word keep a name in its blocks; a typo in the first
letters of every word but one does not (a known miss). A block shared by too many names
(``garage services``) says too little and is not compared.

False-positive guards: two records with different tax ids are not one customer whatever
their names; names that differ in a number (``Garage 12`` and ``Garage 13``, ``Lot 4`` and
``Lot 5``) are different businesses; names in different countries are not compared.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# Legal forms and filler words, dropped from a name before it is compared (lower case, dots
# removed: ``S.A.R.L.`` is ``sarl``).
LEGAL_FORMS = frozenset("""
ab ag as asa bv bvba co corp corporation cv eg ei eirl eurl ev gbr gmbh gmbhcokg inc
incorporated kg kft lda llc llp lp ltd limited nv og ohg oy oyj plc pty sa sas sasu sarl
sc sca scs se sl snc spa sprl srl sro ug company cie et the and de der die von la le les
societe ste
""".split())

NAME_THRESHOLD = 88.0  # the lowest name score that makes a candidate
MAX_BLOCK = 400  # a key shared by more names than this says too little to block on


def fold(text: str) -> str:
    """Lower case, accents off (``Société Générale`` gives ``societe generale``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalise_name(name: str) -> str:
    """A name as compared: folded, dots out, other punctuation a space, legal forms and
    filler words dropped (all kept if nothing else is left)."""
    words = re.sub(r"[^a-z0-9 ]", " ", fold(name).replace(".", "").replace("&", " ")).split()
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def numbers_in(key: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\d+", key))


@dataclass(frozen=True)
class CustomerKey:
    """What duplicate detection reads of a customer."""

    id: int
    code: str
    name: str
    legal_name: str = ""
    tax_id: str = ""
    country: str = ""
    ibans: tuple[str, ...] = ()


@dataclass
class Candidate:
    """Two records that may be one customer: ``a`` and ``b`` by id (``a < b``), why
    (``tax_id``, ``iban``, ``name``), the score (100 for a shared identifier, else the name
    score) and the shared values."""

    a: int
    b: int
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    shared: dict[str, str] = field(default_factory=dict)


def name_score(a: str, b: str) -> float:
    """0..100: rapidfuzz's token-sorted ratio of two normalised names."""
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b))


def _keys(norm: str) -> set[str]:
    """The blocking keys of a normalised name: the first four letters of each pair of its
    words (so that word order and a typo after the fourth letter keep the key), or of its
    only word."""
    stems = sorted({w[:4] for w in norm.split()})
    if len(stems) == 1:
        return {f"one:{stems[0]}"}
    return {f"{a}|{b}" for n, a in enumerate(stems) for b in stems[n + 1:]}


def duplicate_candidates(customers: Sequence[CustomerKey], *,
                         threshold: float = NAME_THRESHOLD,
                         max_block: int = MAX_BLOCK) -> list[Candidate]:
    """Every candidate pair among ``customers``, best first (score, then the codes)."""
    by_id = {c.id: c for c in customers}
    found: dict[tuple[int, int], Candidate] = {}

    def add(x: int, y: int, reason: str, score: float, shared: str = "") -> None:
        a, b = (x, y) if x < y else (y, x)
        cand = found.get((a, b))
        if cand is None:
            cand = found[(a, b)] = Candidate(a, b)
        if reason not in cand.reasons:
            cand.reasons.append(reason)
        cand.score = max(cand.score, score)
        if shared:
            cand.shared[reason] = shared

    for reason, groups in (("tax_id", _groups((c.tax_id, c.id) for c in customers)),
                           ("iban", _groups((i, c.id) for c in customers for i in c.ibans))):
        for value, ids in groups.items():
            for n, x in enumerate(ids):
                for y in ids[n + 1:]:
                    add(x, y, reason, 100.0, value)
    norms = {c.id: normalise_name(c.name) for c in customers}
    blocks: dict[str, list[int]] = defaultdict(list)
    for c in customers:
        for key in _keys(norms[c.id]):
            blocks[key].append(c.id)
    for ids in blocks.values():
        if len(ids) < 2 or len(ids) > max_block:
            continue
        names = [norms[pk] for pk in ids]
        for n, x in enumerate(ids[:-1]):
            # rapidfuzz's own loop over the rest of the block, keeping the close ones
            for _, score, k in process.extract(names[n], names[n + 1:],
                                               scorer=fuzz.token_sort_ratio,
                                               score_cutoff=threshold, limit=None):
                y = ids[n + 1 + k]
                if _comparable(by_id[x], by_id[y], norms[x], norms[y]):
                    add(x, y, "name", float(score))
    out = [c for c in found.values() if not _different_tax_ids(by_id[c.a], by_id[c.b])]
    out.sort(key=lambda c: (-c.score, by_id[c.a].code, by_id[c.b].code))
    return out


def _groups(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Ids per non-empty value, for the values held by more than one id."""
    out: dict[str, list[int]] = defaultdict(list)
    for value, pk in pairs:
        if value and pk not in out[value]:
            out[value].append(pk)
    return {v: sorted(ids) for v, ids in out.items() if len(ids) > 1}


def _comparable(x: CustomerKey, y: CustomerKey, nx: str, ny: str) -> bool:
    """Whether two names may be compared at all: same country (when both have one), and
    the same numbers in the name."""
    if x.country and y.country and x.country != y.country:
        return False
    return numbers_in(nx) == numbers_in(ny)


def _different_tax_ids(x: CustomerKey, y: CustomerKey) -> bool:
    return bool(x.tax_id and y.tax_id and x.tax_id != y.tax_id)
