"""Cash application: what a bank statement line pays, as proposals that explain themselves
(docs/design/cash-application.md). Pure: the banking app reads the candidates (open invoices,
customers, known and learned payer IBANs) and hands them in; nothing here reads or writes.

The pipeline, per line:

1. **keys**: the end-to-end id of one of our direct debits (the bank returns it with the
   money collected), ISO 11649 RF references, and invoice numbers found in the text whatever the
   spacing, separators, prefix or case; against the open invoices of a customer already
   known, and none found as written, a number with one digit dropped, added or two
   neighbouring ones swapped too;
2. **customer**: from the counterparty IBAN (the customers' own accounts, then the payer
   IBANs learned from confirmed matches) or from the name (fuzzy, legal forms ignored);
3. **amounts**: the invoices referenced, one invoice, one instalment, the whole open balance,
   a combination of open invoices (bounded subset-sum), the amount less an early-payment
   discount, a short payment within the write-off tolerance, a part payment. A line in
   another currency than the invoices is converted first (``cash_fx``: the bank's original
   amount, or the day's rate with a little slack), its proposals carrying the currency and
   rate the receipt pays them at.

Every proposal has a confidence in [0, 1] (the strength of how the customer was found times
the strength of how the amount fits) and its evidence: short strings a clerk can read.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from .cash_fx import TABLE_STRENGTH, Conversion, conversion, snapped
from .references import is_creditor_reference

# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Line:
    """A statement line as the matcher sees it (amounts in minor units, money in > 0)."""

    id: int
    day: date
    amount: int
    currency: str
    name: str = ""
    iban: str = ""
    text: str = ""
    creditor_reference: str = ""
    end_to_end_id: str = ""
    # What the payer sent, when the bank converted it (the original amount and currency).
    original_amount: int | None = None
    original_currency: str = ""


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice with something open: ``open`` is what its open instalments still owe;
    ``discount`` what an early-payment discount takes off when paid by ``discount_date``;
    ``instalments`` the open amount of each open instalment, oldest first."""

    id: int
    number: str
    customer_id: int
    currency: str
    open: int
    total: int
    due_date: date
    discount: int = 0
    discount_date: date | None = None
    instalments: tuple[int, ...] = ()

    @classmethod
    def of(cls, id: int, number: str, customer_id: int, currency: str, open: int,  # noqa: A002
           total: int, due_date: date, discount: int, discount_date: date | None,
           instalments: tuple[int, ...]) -> OpenInvoice:
        """The same invoice as the constructor gives, made for the many read at once (a
        candidates' read makes hundreds of thousands): its fields set in one step rather
        than each through the frozen dataclass's ``object.__setattr__`` (a third of the
        time)."""
        inv = object.__new__(cls)
        inv.__dict__.update(id=id, number=number, customer_id=customer_id, currency=currency,
                            open=open, total=total, due_date=due_date, discount=discount,
                            discount_date=discount_date, instalments=instalments)
        return inv


@dataclass(frozen=True)
class Customer:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Tolerance:
    """The short-payment write-off tolerance: at most ``amount`` (minor units) and at most
    ``percent`` of the invoice total."""

    amount: int = 0
    percent: float = 0.0

    def allows(self, residual: int, total: int) -> bool:
        return 0 < residual <= self.amount and residual <= int(total * self.percent / 100)


@dataclass
class Candidates:
    """What the database gave for a batch of lines."""

    invoices_by_key: dict[str, list[OpenInvoice]] = field(default_factory=dict)
    open_by_customer: dict[int, list[OpenInvoice]] = field(default_factory=dict)
    iban_customer: dict[str, int] = field(default_factory=dict)  # the customers' own accounts
    learned_iban: dict[str, int] = field(default_factory=dict)  # payer IBANs learned
    names: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # line -> scores
    # line -> customer -> how many customers' names fit the line's as well as its (within
    # ``NAME_ALIKE`` points): a name shared by many customers names none of them
    names_alike: dict[int, dict[int, int]] = field(default_factory=dict)
    # line -> (customer, rule name): the payer a user's bank rule names
    ruled: dict[int, tuple[int, str]] = field(default_factory=dict)
    # line -> (customer, reference): references in its text learned as the payer's
    learned_reference: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    tolerance: Tolerance = Tolerance()
    # Read only for the lines going to review (``widen``), line -> open invoices: of any
    # customer, those the line's amount pays exactly or short within the tolerance (the
    # banking app may leave out those it pays short when it pays one exactly or in part:
    # ``widen`` does not look at them then); and those whose number is one digit off a
    # number in the line's text.
    by_amount: dict[int, list[OpenInvoice]] = field(default_factory=dict)
    near_numbers: dict[int, list[OpenInvoice]] = field(default_factory=dict)
    # Read for the lines going to review too: line -> (customer, statement line) when the
    # line's counterparty IBAN, neither a customer's own nor learned, paid one customer
    # only on lines applied before (or sure in the same run); its open invoices are in
    # ``open_by_customer``
    iban_paid: dict[int, tuple[int, int]] = field(default_factory=dict)
    # customer -> its children (``Customer.parent``), for the payers of the lines going to
    # review: a parent company pays for its subsidiaries (their open invoices are in
    # ``open_by_customer``); and the codes of those parents, for the evidence
    children: dict[int, list[int]] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    # the name keys of the customers of ``by_amount``'s invoices: of many invoices owing a
    # line's amount, those of a customer whose name resembles the payer's come first
    customer_keys: dict[int, str] = field(default_factory=dict)
    # (line currency, invoice currency, day) -> the rate table's cross rate: units of the
    # invoice's currency per unit of the line's, for the foreign-currency invoices found
    rates: dict[tuple[str, str, date], Decimal] = field(default_factory=dict)


# ---------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Proposal:
    customer_id: int
    allocations: tuple[tuple[str, int], ...]  # (invoice number, minor units)
    confidence: float
    evidence: tuple[str, ...]
    write_off: bool = False  # the residual of a short payment, within the tolerance
    # The invoices' currency and the rate the receipt pays them at, when it is not the
    # line's own (a foreign-currency payment); the allocations are in that currency.
    currency: str = ""
    rate: Decimal | None = None

    def signature(self) -> str:
        """The customer and allocations, as a rejection records them; worked out once (a
        line going to review compares hundreds of proposals by it in a large ledger)."""
        known: str | None = self.__dict__.get("_signature")
        if known is None:
            parts = ",".join(f"{n}={a}" for n, a in sorted(self.allocations))
            known = self.__dict__["_signature"] = f"{self.customer_id}:{parts}"
        return known


@dataclass(frozen=True)
class LineDecision:
    line_id: int
    kind: str  # "proposals" or "other"
    proposals: tuple[Proposal, ...] = ()
    evidence: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- keys

_ALNUM = re.compile(r"[^A-Z0-9]")
_RF = re.compile(r"R\s?F\s?(\d\s?\d)\s?([A-Z0-9]{1,21}(?:\s(?!RF\d\d)[A-Z0-9]{1,21}){0,5})")
_TOKEN = re.compile(r"[A-Z0-9]+(?:[ ./_\\-]{1,2}[A-Z0-9]+)*")
_RF_HEAD = re.compile(r"^RF\d\d")


def normalize(text: str) -> str:
    """Letters and digits, upper case: ``inv 2025/00042`` gives ``INV202500042``."""
    return _ALNUM.sub("", text.upper())


def rf_references(text: str) -> list[str]:
    """The RF references written in ``text`` (:func:`_rf_references`, kept for the texts
    seen lately: a line's text is read for candidates, for proposals and for review)."""
    return list(_rf_references(text))


@lru_cache(maxsize=1 << 15)
def _rf_references(text: str) -> tuple[str, ...]:
    """The RF references written in ``text`` (spaces inside allowed), as their reference
    part: what follows ``RF`` and the check digits (unchecked: a typo in the check digits
    does not hide the number; the invoice it names must still fit). Written in groups,
    where it ends is not known: each run of whole groups is a candidate."""
    out = []
    for m in _RF.finditer(text.upper()):
        groups = m.group(2).split()
        check = normalize(m.group(1))
        parts = ["".join(groups[:k]) for k in range(len(groups), 0, -1)]
        # and the first group cut short: a word glued to the reference ("...42PART")
        parts += [groups[0][:k] for k in range(len(groups[0]) - 1, 3, -1)]
        parts = [p for p in parts if len(p) <= 21]
        valid = [p for p in parts if is_creditor_reference(f"RF{check}{p}")]
        out.extend(valid or parts)
    return tuple(out)


def number_keys(text: str, prefixes: Iterable[str] = ()) -> list[str]:
    """Keys that may be invoice numbers in ``text`` (:func:`_number_keys`, kept for the
    texts seen lately: a line's text is read for candidates, for proposals and for
    review)."""
    return list(_number_keys(text, tuple(prefixes)))


@lru_cache(maxsize=1 << 15)
def _number_keys(text: str, prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """Keys that may be invoice numbers in free text: every run of letters and digits
    joined across the separators people type (space, dot, slash, dash, underscore), and the
    same with a known number prefix added or taken off; only keys with digits, longest
    first."""
    upper = text.upper()
    keys: dict[str, None] = {}
    for m in _TOKEN.finditer(upper):
        pieces = re.split(r"[ ./_\\-]+", m.group(0))
        # every contiguous run of pieces: "PAYMENT INV 2025 00042 THANKS" holds "INV202500042"
        for i in range(len(pieces)):
            joined = ""
            for j in range(i, min(len(pieces), i + 5)):
                joined += pieces[j]
                if any(ch.isdigit() for ch in joined) and 4 <= len(joined) <= 30:
                    keys[joined] = None
    for key in list(keys):
        bare = _RF_HEAD.sub("", key)  # an RF reference holds the number
        if bare != key and len(bare) >= 4:
            keys[bare] = None
    for key in list(keys):
        for prefix in prefixes:
            if prefix and not key.startswith(prefix):
                keys[prefix + key] = None
    return tuple(sorted(keys, key=len, reverse=True))


def digit_variants(key: str) -> set[str]:
    """What ``key`` becomes with one digit typed wrongly: each digit dropped, each pair of
    neighbouring digits swapped (the payer's typo undone the other way is the caller's
    match of the invoice's variants against the text's keys)."""
    out = set()
    for i, ch in enumerate(key):
        if ch.isdigit():
            out.add(key[:i] + key[i + 1:])
            if i + 1 < len(key) and key[i + 1].isdigit() and key[i + 1] != ch:
                out.add(key[:i] + key[i + 1] + ch + key[i + 2:])
    out.discard(key)
    return out


def digit_insertions(key: str) -> set[str]:
    """What ``key`` was before one of its digits was dropped: a digit added next to each of
    its digits (the other half of :func:`digit_variants`, for a lookup by number)."""
    out: set[str] = set()
    for i in range(len(key) + 1):
        if (i > 0 and key[i - 1].isdigit()) or (i < len(key) and key[i].isdigit()):
            out.update(key[:i] + d + key[i:] for d in "0123456789")
    out.discard(key)
    return out


def near_number(number_key: str, text_keys: Sequence[str]) -> bool:
    """Whether the text holds the invoice number with one digit dropped or added, or two
    neighbouring digits swapped, the letters kept (a digit changed is not enough: the
    numbers of a series differ by one digit).
    Numbers of fewer than four digits are never matched loosely."""
    if sum(ch.isdigit() for ch in number_key) < 4:
        return False
    return any(_one_digit_off(number_key, key) for key in text_keys)


def _keys_by_length(text_keys: Iterable[str]) -> dict[int, list[str]]:
    """A text's keys by their length, for :func:`_near_number_in`."""
    out: dict[int, list[str]] = {}
    for key in text_keys:
        out.setdefault(len(key), []).append(key)
    return out


@lru_cache(maxsize=1 << 17)
def _loose_key(number: str) -> str:
    """An invoice number as :func:`near_number` compares it (normalised), or ``""`` when
    it has fewer than four digits (never matched loosely): worked out once per number (a
    customer's open invoices are looked at for every line that may be its payment)."""
    key = normalize(number)
    return key if sum(ch.isdigit() for ch in key) >= 4 else ""


def _near_number_in(number: str, by_length: dict[int, list[str]]) -> bool:
    """:func:`near_number` of the invoice number ``number`` (as written) against a text's
    keys grouped by :func:`_keys_by_length`: only the keys one shorter, as long or one
    longer can be one digit off it, so only those are compared."""
    key = _loose_key(number)
    if not key:
        return False
    n = len(key)
    return any(_one_digit_off(key, k) for length in (n, n - 1, n + 1)
               for k in by_length.get(length, ()))


def _one_digit_off(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one digit dropped or added, or two neighbouring digits
    swapped: :func:`digit_variants` either way, without making them."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                and a[diff[1]] == b[diff[0]] and a[diff[0]].isdigit()
                and a[diff[1]].isdigit())
    if abs(len(a) - len(b)) != 1:
        return False
    long, short = (a, b) if len(a) > len(b) else (b, a)
    i = 0
    while i < len(short) and long[i] == short[i]:
        i += 1
    return long[i].isdigit() and long[i + 1:] == short[i:]


_WORD = re.compile(r"[A-Z0-9][A-Z0-9./_-]*[A-Z0-9]")


def reference_tokens(text: str, *, not_keys: Iterable[str] = (),
                     prefixes: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that may be a payer's own reference for its account with us
    (learned on a confirmation, ``PayerReference``): letters and digits together (``KD-4711``
    gives ``KD4711``), 4 to 40 characters, at least two digits and a letter; never an RF
    reference, a key in ``not_keys`` (the invoice numbers the payment named), one that begins
    as our invoice numbers do (``prefixes``), nor only digits (a date, an amount). Sorted,
    each once."""
    heads = tuple(p for p in prefixes if p)
    refused = {normalize(k) for k in not_keys}
    out = set()
    for m in _WORD.finditer(text.upper()):
        key = normalize(m.group(0))
        digits = sum(ch.isdigit() for ch in key)
        if not 4 <= len(key) <= 40 or digits < 2 or digits == len(key):
            continue
        if _RF_HEAD.match(key) or key in refused or (heads and key.startswith(heads)):
            continue
        out.add(key)
    return sorted(out)


# ---------------------------------------------------------------------------- names

_LEGAL = frozenset("""
AB AG AS ASA BV BVBA CO CORP CORPORATION CV EG EI EIRL EURL EV GBR GMBH GMBHCOKG INC
INCORPORATED KG KFT LDA LLC LLP LP LTD LIMITED NV OG OHG OY OYJ PLC PTY SA SAS SASU SARL
SC SCA SCS SE SL SNC SPA SPRL SRL SRO UG COMPANY CIE ET THE AND DE DER DIE VON
""".split())


_NOT_NAME = re.compile(r"[^A-Z0-9 ]")


def name_key(name: str) -> str:
    """A name as compared: upper case, punctuation gone, legal forms and small words out
    (``ACME Trading GmbH & Co. KG`` gives ``ACME TRADING``)."""
    words = _NOT_NAME.sub(" ", name.upper().replace("&", " ")).split()
    kept = [w for w in words if w not in _LEGAL]
    return " ".join(kept or words)


def name_score(a: str, b: str) -> float:
    """How alike two name keys are, 0..100 (rapidfuzz: the best of the token-sorted ratio
    and the plain one, so that word order and one typo cost little, and of nine tenths of
    the token-set ratio, so that one name's words all found in the other (``GLOBEX
    HOLDING`` paying for ``GLOBEX``) count, for less)."""
    if not a or not b:
        return 0.0
    return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b), 0.9 * fuzz.token_set_ratio(a, b))


def name_tokens(key: str) -> set[str]:
    """What indexes a name for the candidates' query: each word of three letters or more,
    and its first four letters (a typo late in a word still finds it)."""
    out = set()
    for w in key.split():
        if len(w) >= 3:
            out.add(w)
            out.add(w[:4] + "*")
    return out


def _word_pairs(key: str) -> set[str]:
    heads = sorted({w[:4] for w in key.split() if len(w) >= 3})
    return {f"{a}|{b}" for n, a in enumerate(heads) for b in heads[n + 1:]}


class NameIndex:
    """The customers' name keys, indexed once for every line of a run: by each pair of their
    words (first four letters, any order), and by each word and its first four letters.
    ``pool`` gives the names a line's name is scored against: those sharing a pair of words
    with it, and a word few names have (at most ``rare`` of them); only when there are none,
    every name sharing a word. A name of common words (a small vocabulary makes many) is so
    compared with hundreds of names, not with tens of thousands; one word misspelt leaves
    the pairs of the others."""

    def __init__(self, names: Iterable[tuple[int, str]]) -> None:
        self.keys: dict[int, str] = {}
        self.words: dict[str, list[int]] = {}
        self.pairs: dict[str, list[int]] = {}
        self.form_of: dict[int, int] = {}
        # arrays (``_forms_of``): the forms; each customer's form by id from ``_low``, or
        # in the order of ``_ids`` when those are far apart
        self._forms: Any = None
        self._tids: Any = None
        self._ids: Any = None
        self._low = 0
        forms: dict[str, int] = {}
        # what indexes a name depends on its key alone, worked out once per key (many
        # customers share theirs): its words, its pairs of words, its form (the words in
        # sorted order: what the token ratios compare)
        # (the lists of ids it goes into, its form): the lists are those of ``words`` and
        # ``pairs`` themselves, each id appended in the order the names come
        seen: dict[str, tuple[list[list[int]], int]] = {}
        words, pairs, form_of, keys = self.words, self.pairs, self.form_of, self.keys
        for pk, name in names:
            key = name_key(name)
            keys[pk] = key
            known = seen.get(key)
            if known is None:
                form = " ".join(sorted(key.split()))
                known = seen[key] = (
                    [words.setdefault(t, []) for t in name_tokens(key)]
                    + [pairs.setdefault(pair, []) for pair in _word_pairs(key)],
                    forms.setdefault(form, len(forms)))
            for postings in known[0]:
                postings.append(pk)
            form_of[pk] = known[1]
        self.forms = list(forms)
        self.rare = max(50, len(self.keys) // 100)
        # the keys as written, each once, for ``near_as_written`` (built when first needed)
        self._written: Any = None
        self._kids: Any = None

    def pool(self, key: str) -> dict[int, str]:
        """The names ``key`` is compared with, by customer, in the pool's order."""
        return {pk: self.keys[pk] for pk in self._pool(key)}

    def _pool(self, key: str) -> set[int]:
        # The scorers keep, of names scoring alike, those given first: the pool's order
        # is its set's, which depends on the order the ids went in; the words and pairs
        # are taken in sorted order, not in their own sets' (the strings' hashes, other in
        # every process), so that every run gives the same pool in the same order.
        ids: set[int] = set()
        for pair in sorted(_word_pairs(key)):
            ids.update(self.pairs.get(pair, ()))
        tokens = sorted(name_tokens(key))
        for t in tokens:
            if len(self.words.get(t, ())) <= self.rare:
                ids.update(self.words.get(t, ()))
        if not ids:
            for t in tokens:
                ids.update(self.words.get(t, ()))
        return ids

    def pool_ids(self, key: str) -> set[int]:
        """The customers of :meth:`pool`, unordered."""
        return self._pool(key)

    def near(self, key: str, cutoff: float, ties: int = 0, ids: set[int] | None = None
             ) -> dict[int, str]:
        """The names of the pool closest to ``key``, by customer: the ten best by token-set
        ratio, then the five best by token-sorted ratio, each at ``cutoff`` or more; of
        names scoring alike, those first in the pool. What ``process.extract`` gives over
        :meth:`pool` with each scorer, for less: each form (the words in sorted order,
        which is all either ratio looks at) is scored once however many customers have it
        (the token-sorted ratio of two names is the plain ratio of their forms), and the
        pool is ranked in arrays. ``ties``: up to that many more of each ranking that score
        as the last kept (in a large ledger many customers have the same name: each of
        them may be the payer, and how many there are is evidence too). ``ids``: the
        pool, when known (:meth:`pool_ids`)."""
        import numpy as np

        ids = self._pool(key) if ids is None else ids
        if not ids:
            return {}
        pool = np.fromiter(ids, dtype=np.int64, count=len(ids))  # in the set's order
        uniq, inverse = np.unique(self._forms_of(pool), return_inverse=True)
        texts = self._forms[uniq].tolist()
        out: dict[int, str] = {}
        for scorer, query, limit in ((fuzz.token_set_ratio, key, 10),
                                     (fuzz.ratio, " ".join(sorted(key.split())), 5)):
            scores = process.cdist([query], texts, scorer=scorer, dtype=np.float64,
                                   score_cutoff=cutoff, workers=1)[0][inverse]
            kept = np.flatnonzero(scores >= cutoff)
            if not len(kept):
                continue
            # best first, names scoring alike in the pool's order (lexsort is stable)
            ranked = kept[np.lexsort((kept, -scores[kept]))]
            n = min(limit, len(ranked))
            if ties and n < len(ranked):
                last = scores[ranked[n - 1]]
                n += min(ties, int(np.count_nonzero(scores[ranked[n:]] >= last)))
            best = ranked[:n]
            for pk in pool[best].tolist():
                out.setdefault(pk, self.keys[pk])
        return out


    def near_as_written(self, key: str, cutoff: float, limit: int = 5, ties: int = 0,
                        ids: set[int] | None = None) -> dict[int, str]:
        """The names of the pool closest to ``key`` by the plain ratio of the names as
        written, the ``limit`` best at ``cutoff`` or more (and up to ``ties`` more scoring as
        the last): a space dropped or moved (``Falcon OrionFarms``, ``Western PrimeT
        extiles``) makes other words, which both token ratios of :meth:`near` compare as
        such; written in the same order, the names are still alike. Each distinct key
        scored once. ``ids``: the pool, when known (:meth:`pool_ids`)."""
        import numpy as np

        ids = self._pool(key) if ids is None else ids
        if not ids:
            return {}
        if self._kids is None:
            self._forms_of(np.zeros(0, dtype=np.int64))  # the ids' layout
            written: dict[str, int] = {}
            by_id = {pk: written.setdefault(k, len(written)) for pk, k in self.keys.items()}
            self._written = np.array(list(written), dtype=object)
            if self._ids is None:
                self._kids = np.zeros(len(self._tids), dtype=np.int64)
                for pk, kid in by_id.items():
                    self._kids[pk - self._low] = kid
            else:
                self._kids = np.fromiter((by_id[pk] for pk in self._ids.tolist()),
                                         dtype=np.int64, count=len(self._ids))
        pool = np.fromiter(ids, dtype=np.int64, count=len(ids))
        at = pool - self._low if self._ids is None else np.searchsorted(self._ids, pool)
        uniq, inverse = np.unique(self._kids[at], return_inverse=True)
        scores = process.cdist([key], self._written[uniq].tolist(), scorer=fuzz.ratio,
                               dtype=np.float64, score_cutoff=cutoff, workers=1)[0][inverse]
        kept = np.flatnonzero(scores >= cutoff)
        if not len(kept):
            return {}
        ranked = kept[np.lexsort((kept, -scores[kept]))]
        n = min(limit, len(ranked))
        if ties and n < len(ranked):
            n += min(ties, int(np.count_nonzero(scores[ranked[n:]] >= scores[ranked[n - 1]])))
        return {pk: self.keys[pk] for pk in pool[ranked[:n]].tolist()}

    def _forms_of(self, pool: Any) -> Any:
        """The forms of the customers ``pool`` (an array of ids): from an array by id when
        the company's ids are close together (a look-up each), else by a binary search in
        the ids sorted."""
        import numpy as np

        if self._forms is None:
            self._forms = np.array(self.forms, dtype=object)
            ids = np.fromiter(self.form_of.keys(), dtype=np.int64, count=len(self.form_of))
            tids = np.fromiter(self.form_of.values(), dtype=np.int64, count=len(ids))
            self._low = int(ids.min()) if len(ids) else 0
            span = int(ids.max()) - self._low + 1 if len(ids) else 0
            if span <= 4 * len(ids) + 4096:
                self._tids = np.zeros(span, dtype=np.int64)
                self._tids[ids - self._low] = tids
            else:
                order = np.argsort(ids)
                self._ids, self._tids = ids[order], tids[order]
        if self._ids is None:
            return self._tids[pool - self._low]
        return self._tids[np.searchsorted(self._ids, pool)]


# ---------------------------------------------------------------------------- amounts

NOTHING_FITS = 0.1
MAX_SUBSET_ITEMS = 24  # open invoices of one customer searched for a combination
MAX_SUBSET_SIZE = 8
MAX_SUBSET_STEPS = 50_000


def subset_sums(amounts: Sequence[int], target: int, *, max_size: int = MAX_SUBSET_SIZE,
                max_steps: int = MAX_SUBSET_STEPS, limit: int = 2) -> list[tuple[int, ...]]:
    """Up to ``limit`` combinations (indexes) of ``amounts`` summing to ``target``, of at
    most ``max_size`` items; a depth-first search over the amounts largest first, pruned by
    what is left, and stopped after ``max_steps`` (bounded whatever the input)."""
    order = sorted(range(len(amounts)), key=lambda i: -amounts[i])
    values = [amounts[i] for i in order]
    suffix = [0] * (len(values) + 1)
    for i in range(len(values) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + values[i]
    found: list[tuple[int, ...]] = []
    steps = 0
    descending = [-v for v in values]  # ascending: where the amounts at most ``left`` begin
    n = len(values)

    def walk(start: int, left: int, chosen: list[int]) -> None:
        nonlocal steps
        if len(found) >= limit or steps > max_steps:
            return
        steps += 1
        if left == 0 and chosen:
            found.append(tuple(sorted(order[i] for i in chosen)))
            return
        if len(chosen) >= max_size or left < 0 or suffix[start] < left:
            return
        full = len(chosen) + 1 >= max_size
        for i in range(bisect_left(descending, -left, start), n):
            rest = left - values[i]
            if rest and (full or suffix[i + 1] < rest):
                # a dead end, and so is every smaller amount after it (what is left only
                # grows, what follows only shrinks): one step each, as a call would count
                steps = min(steps + n - i, max_steps + 1)
                return
            chosen.append(i)
            walk(i + 1, rest, chosen)
            chosen.pop()
            if len(found) >= limit or steps > max_steps:
                return

    walk(0, target, [])
    return found


def _discounted(inv: OpenInvoice, day: date) -> int:
    if inv.discount and inv.discount_date and day <= inv.discount_date:
        return inv.open - inv.discount
    return inv.open


def fit_invoices(amount: int, day: date, invoices: Sequence[OpenInvoice],
                 tolerance: Tolerance) -> tuple[float, tuple[tuple[str, int], ...], str, bool]:
    """How ``amount`` pays the ``invoices`` named for it: (strength, allocations, why,
    write_off). Exactly, less their discounts, short within the tolerance (one invoice),
    over (the rest stays unapplied on the receipt), or in part (oldest first)."""
    total = sum(i.open for i in invoices)
    ordered = sorted(invoices, key=lambda i: (i.due_date, i.number))
    full = tuple((i.number, i.open) for i in ordered)
    if amount == total:
        return 1.0, full, "amount equals what is open", False
    net = sum(_discounted(i, day) for i in invoices)
    if net != total and amount == net:
        return 0.99, tuple((i.number, _discounted(i, day)) for i in ordered), \
            "amount equals what is open less the early-payment discount", False
    if len(ordered) == 1 and tolerance.allows(total - amount, ordered[0].total):
        return 0.97, ((ordered[0].number, amount),), "short by an amount within the " \
            "write-off tolerance", True
    if len(ordered) == 1:
        inst = ordered[0].instalments
        running = 0
        for k, part in enumerate(inst):
            running += part
            if amount == running and k + 1 < len(inst):
                return 0.99, ((ordered[0].number, amount),), \
                    f"amount equals the first {k + 1} open instalment(s)", False
    if amount > total:
        return 0.93, full, "amount is more than what is open: the rest stays unapplied", False
    allocs: list[tuple[str, int]] = []
    left = amount
    for i in ordered:
        if left <= 0:
            break
        part = min(left, i.open)
        allocs.append((i.number, part))
        left -= part
    return 0.9, tuple(allocs), "part payment", False


def first_instalments(inv: OpenInvoice, amount: int) -> list[int]:
    """How many of ``inv``'s first open instalments ``amount`` pays exactly, fewer than all
    (``[k]``, or ``[]``): what is due first, of an invoice in instalments, paid together."""
    running = 0
    for k, part in enumerate(inv.instalments[:-1], start=1):
        running += part
        if running == amount:
            return [k]
        if running > amount:
            break
    return []


def fit_customer(amount: int, day: date, invoices: Sequence[OpenInvoice], tolerance: Tolerance
                 ) -> list[tuple[float, tuple[tuple[str, int], ...], str, bool]]:
    """How ``amount`` may pay a customer's open invoices when no invoice is named, best
    first: one invoice (exactly, less its discount, short within the tolerance), one
    instalment or the first open instalments of one invoice, the whole balance, a
    combination."""
    out: list[tuple[float, tuple[tuple[str, int], ...], str, bool]] = []
    exact = [i for i in invoices if i.open == amount]
    if exact:
        strength = 0.97 if len(exact) == 1 else 0.55
        oldest = min(exact, key=lambda i: (i.due_date, i.number))
        out.append((strength, ((oldest.number, amount),),
                    "amount equals one open invoice" + (
                        "" if len(exact) == 1 else f" ({len(exact)} of that amount)"), False))
    disc = [i for i in invoices if i.discount and _discounted(i, day) == amount]
    if disc:
        strength = 0.95 if len(disc) == 1 else 0.5
        out.append((strength, ((disc[0].number, amount),),
                    "amount equals one invoice less its early-payment discount", False))
    total = sum(i.open for i in invoices)
    if len(invoices) > 1 and amount == total:
        out.append((0.97, tuple((i.number, i.open) for i in sorted(
            invoices, key=lambda i: (i.due_date, i.number))), "amount equals the whole open "
            "balance", False))
    # (the invoices of one open instalment, most of them, are passed over at once)
    inst = [(i, k) for i in invoices if len(i.instalments) > 1
            for k, part in enumerate(i.instalments) if part == amount]
    if inst:
        i, _ = inst[0]
        # two instalments of one invoice alike are one allocation, not a doubt
        out.append((0.93 if len({i.id for i, _ in inst}) == 1 else 0.5,
                    ((i.number, amount),), "amount equals one open instalment", False))
    # (more than one of the first instalments: an invoice of three at least)
    first = [(i, k) for i in invoices if len(i.instalments) > 2
             for k in first_instalments(i, amount) if k > 1]
    if first:
        i, k = first[0]
        out.append((0.93 if len(first) == 1 else 0.5, ((i.number, amount),),
                    f"amount equals the first {k} open instalments of one invoice", False))
    if not out and 1 < len(invoices):
        pool = sorted(invoices, key=lambda i: (i.due_date, i.number))[:MAX_SUBSET_ITEMS]
        combos = subset_sums([i.open for i in pool], amount)
        if combos:
            chosen = [pool[k] for k in combos[0]]
            # the more invoices searched, the likelier a coincidence
            strength = 0.99 - 0.004 * len(pool) if len(combos) == 1 else 0.5
            out.append((strength, tuple((i.number, i.open) for i in chosen),
                        f"amount equals {len(chosen)} open invoices together" + (
                            "" if len(combos) == 1 else " (other combinations too)"), False))
    if not out:
        short = [i for i in invoices if tolerance.allows(i.open - amount, i.total)]
        if len(short) == 1:
            out.append((0.85, ((short[0].number, amount),), "short of one invoice by an amount "
                        "within the write-off tolerance", True))
    if not out and invoices:
        # nothing fits: paid on account of the oldest, for a clerk to judge (seldom what
        # the payer meant: below an amount that fits some customer's invoice, in ``widen``)
        _, allocs, how, _ = fit_invoices(amount, day, invoices, Tolerance())
        out.append((NOTHING_FITS, allocs, f"no amount fits ({how}); oldest first", False))
    out.sort(key=lambda o: -o[0])
    return out


# ---------------------------------------------------------------------------- the pipeline

IBAN_KNOWN = 0.99
IBAN_LEARNED = 0.98
RF_FOUND = 1.0
# The key under which the banking app hands in the invoice a direct debit collected.
DEBIT_KEY = "DD:"
DEBIT_FOUND = 1.0
NUMBER_FOUND = 0.995
NUMBER_NEAR = 0.9
RULE_FOUND = 0.99  # what the user wrote down is as sure as the customer's own IBAN
# a reference of the payer's own learned from a confirmation: as sure as a name at 96%
REFERENCE_LEARNED = 0.89


def _name_strength(score: float) -> float:
    """A name found at ``score`` (0..100): 0.95 at 100, 0.80 at 90, 0.65 at 85."""
    return max(0.0, min(0.95, 0.95 - (100 - score) * 0.015))


NAME_ALIKE = 2.0  # names within this many points of each other fit a line as well


def _shared_fit(fit: float, shared: int) -> float:
    """How an amount that fits at ``fit`` tells the payer among ``shared`` customers whose
    names fit the line as well: ``fit`` once for the customer and once for each other
    customer it might have fitted by chance (``fit ** shared``: the others were looked at
    and did not fit, but a payer outside them, whose name only resembles theirs, would find
    a fit as weak among more customers more often); unchanged for a name one customer
    has."""
    return fit if shared <= 1 else fit ** shared


def payers(line: Line, c: Candidates) -> dict[int, tuple[float, str]]:
    """Who may have paid ``line``, customer -> (strength, why): its counterparty IBAN (the
    customer's own, else learned), the customers its name fits, the customer a bank rule
    names, the customers whose learned references it carries; the strongest way each."""
    payer: dict[int, tuple[float, str]] = {}

    def know(cid: int, s: float, reason: str) -> None:
        if cid not in payer or payer[cid][0] < s:
            payer[cid] = (s, reason)

    iban = normalize(line.iban)
    if iban and iban in c.iban_customer:
        know(c.iban_customer[iban], IBAN_KNOWN, "counterparty IBAN is the customer's")
    elif iban and iban in c.learned_iban:
        know(c.learned_iban[iban], IBAN_LEARNED, "counterparty IBAN paid for the customer "
             "before (learned)")
    alike = c.names_alike.get(line.id, {})
    for cid, score in c.names.get(line.id, ()):
        n = alike.get(cid, 1)
        know(cid, _name_strength(score), f"counterparty name matches ({score:.0f}%)" + (
            "" if n <= 1 else f"; {n} customers' names match as well"))
    if line.id in c.ruled:
        cid, rule = c.ruled[line.id]
        know(cid, RULE_FOUND, f"bank rule {rule} names the payer")
    for cid, ref in c.learned_reference.get(line.id, ()):
        know(cid, REFERENCE_LEARNED, f"reference {ref} paid for the customer before (learned)")
    return payer


def propose(line: Line, c: Candidates, *, prefixes: Iterable[str] = (),
            rejected: Iterable[str] = (), limit: int = 3) -> LineDecision:
    """The proposals for one line, best first (see the module docstring)."""
    if line.amount <= 0:
        return LineDecision(line.id, "other", evidence=("money out: not a customer payment",))
    refused = set(rejected)
    text = " ".join(p for p in (line.creditor_reference, line.text, line.end_to_end_id) if p)
    found: dict[int, OpenInvoice] = {}
    why: dict[int, str] = {}
    strength: dict[int, float] = {}
    e2e = line.end_to_end_id.strip()
    converted: dict[str, Conversion | None] = {}

    def payable(currency: str) -> bool:
        """Whether the line can pay invoices in ``currency``: its own, or converted."""
        if currency == line.currency:
            return True
        if currency not in converted:
            converted[currency] = conversion(
                line.amount, line.currency, line.day, currency,
                original_amount=line.original_amount,
                original_currency=line.original_currency, rates=c.rates)
        return converted[currency] is not None

    for inv in c.invoices_by_key.get(DEBIT_KEY + e2e, ()) if e2e else ():
        if payable(inv.currency):
            found[inv.id], why[inv.id], strength[inv.id] = inv, f"our direct debit {e2e} " \
                f"of {inv.number}", DEBIT_FOUND
    for part in rf_references(text):
        for inv in c.invoices_by_key.get("RF:" + part, ()):
            if payable(inv.currency) and inv.id not in found:
                found[inv.id], why[inv.id], strength[inv.id] = inv, f"RF reference of " \
                    f"{inv.number}", RF_FOUND
    keys = number_keys(text, prefixes)
    for key in keys:
        for inv in c.invoices_by_key.get(key, ()):
            if payable(inv.currency) and inv.id not in found:
                found[inv.id], why[inv.id], strength[inv.id] = inv, f"invoice number " \
                    f"{inv.number} in the text", NUMBER_FOUND

    # who paid
    payer = payers(line, c)
    iban = normalize(line.iban)
    alike = c.names_alike.get(line.id, {})

    # invoice numbers with a typo, among the open invoices of a customer already known,
    # when no number was found as written (numbers in a series differ by a digit or two)
    # (a number one digit off two of the customer's invoices names neither: the amount
    # decides among its open invoices, as if no number were written)
    if keys and not found:
        by_length = _keys_by_length(keys)
        for cid in payer:
            near = [inv for inv in c.open_by_customer.get(cid, ())
                    if inv.id not in found and payable(inv.currency)
                    and _near_number_in(inv.number, by_length)]
            if len(near) == 1:
                [inv] = near
                found[inv.id], why[inv.id], strength[inv.id] = inv, f"invoice number " \
                    f"{inv.number} in the text with one digit off", NUMBER_NEAR

    proposals: list[Proposal] = []
    by_customer: dict[tuple[int, str], list[OpenInvoice]] = {}
    for inv in found.values():
        by_customer.setdefault((inv.customer_id, inv.currency), []).append(inv)
    for (cid, cur), invs in by_customer.items():
        key_strength = min(strength[i.id] for i in invs)
        evidence = [why[i.id] for i in sorted(invs, key=lambda i: i.number)]
        corroborated = cid in payer
        if corroborated:
            evidence.append(payer[cid][1])
            key_strength = 1 - (1 - key_strength) * (1 - payer[cid][0]) ** 0.5
        conv = converted.get(cur)
        if conv is not None:
            conv = snapped(conv, [sum(i.open for i in invs)], line.amount, line.currency)
        fit, allocs, how, write_off = fit_invoices(
            conv.amount if conv else line.amount, line.day, invs, c.tolerance)
        if conv is not None:
            fit, write_off, how = _foreign(conv, fit, write_off, how)
            evidence.append(conv.how)
        if not corroborated and (line.name or iban):
            # a number found for someone else than the payer: sure only if the amount is
            evidence.append("the counterparty is not known as this customer")
            key_strength *= (0.97 if key_strength >= NUMBER_FOUND else 0.9) * (
                1.0 if fit >= 0.97 else 0.7)
        proposals.append(Proposal(cid, allocs, round(key_strength * fit, 4),
                                  (*evidence, how), write_off,
                                  cur if conv else "", conv.rate if conv else None))
    # another currency only when something can convert the line (most ledgers: nothing)
    foreign = bool(c.rates) or bool(line.original_currency)
    for cid, (s, reason) in payer.items():
        mine = c.open_by_customer.get(cid, ())
        invs = [i for i in mine if i.currency == line.currency]
        # found by a name that others share: the amount must tell them apart, and the more
        # customers it is compared with, the likelier one of them fits by chance
        shared = alike.get(cid, 1) if "name matches" in reason else 1
        for fit, allocs, how, write_off in fit_customer(line.amount, line.day, invs,
                                                        c.tolerance)[:2]:
            proposals.append(Proposal(cid, allocs, round(s * _shared_fit(fit, shared), 4),
                                      (reason, how), write_off))
        if not foreign or len(invs) == len(mine):
            continue
        for cur in sorted({i.currency for i in mine} - {line.currency}):
            if not payable(cur):
                continue
            conv = converted[cur]
            assert conv is not None
            invs = [i for i in mine if i.currency == cur]
            conv = snapped(conv, [i.open for i in invs] + [sum(i.open for i in invs)],
                           line.amount, line.currency)
            for fit, allocs, how, write_off in fit_customer(conv.amount, line.day, invs,
                                                            c.tolerance)[:2]:
                fit, write_off, how = _foreign(conv, fit, write_off, how)
                proposals.append(Proposal(cid, allocs, round(s * fit, 4),
                                          (reason, conv.how, how), write_off, cur, conv.rate))
    best: dict[str, Proposal] = {}
    for p in proposals:
        sig = p.signature()
        if sig in refused:
            continue
        if sig not in best or best[sig].confidence < p.confidence:
            best[sig] = p
    ranked = sorted(best.values(), key=lambda p: (-p.confidence, p.signature()))
    # Two strong proposals that disagree: neither is sure.
    if len(ranked) > 1 and ranked[1].confidence > 0.7 and ranked[0].customer_id != \
            ranked[1].customer_id:
        top = ranked[0]
        ranked[0] = Proposal(top.customer_id, top.allocations,
                             round(min(top.confidence, 0.7), 4),
                             (*top.evidence, "another customer fits too"), top.write_off)
    why_not: tuple[str, ...] = () if ranked else ("no reference, payer or amount fits",)
    return LineDecision(line.id, "proposals", tuple(ranked[:limit]), why_not)


def _foreign(conv: Conversion, fit: float, write_off: bool, how: str
             ) -> tuple[float, bool, str]:
    """A fit of a converted amount: a little less sure at the day's rate; never a write-off
    (the residual of a payment in another currency is an exchange difference or a part
    payment, not a short payment to write off)."""
    if write_off:
        fit, write_off, how = min(fit, 0.9), False, "part payment (short)"
    return (fit if conv.exact else fit * TABLE_STRENGTH), write_off, how


def match_lines(lines: Sequence[Line], candidates: Candidates, *,
                prefixes: Iterable[str] = (),
                rejected: Callable[[int], Iterable[str]] = lambda _id: ()) -> list[LineDecision]:
    """:func:`propose` for every line."""
    pre = tuple(prefixes)
    return [propose(line, candidates, prefixes=pre, rejected=rejected(line.id))
            for line in lines]


# ---------------------------------------------------------------------------- wider, weaker

# Below the lowest auto-apply threshold a company can set (0.5): what ``widen`` finds is a
# suggestion for a clerk, never applied, whatever the setting.
WIDE_CEILING = 0.49
WIDE_NEAR_NUMBER = 0.9  # an invoice number one digit off, for someone the payer is not known as
WIDE_AMOUNT = 0.8  # the only open invoice of the ledger of exactly that amount
WIDE_INSTALMENTS = 0.7  # the only one an open instalment (or its first few) of which is it
WIDE_SHORT = 0.6  # the only one the amount pays short within the tolerance (and none exactly)
WIDE_SHORT_MAX = 3
# the customer the counterparty IBAN paid on a line applied before (not learned: nobody
# confirmed it; the line applied may have been paid for another customer)
WIDE_IBAN_PAID = 0.95
WIDE_PARENT = 0.9  # a subsidiary's invoices, the payer found being its parent company
# Of the invoices owing a line's amount, a customer whose name resembles the payer's (a
# parent company's name often holds its subsidiary's, ``GLOBEX HOLDING`` for ``GLOBEX
# TRADING``; below ``NAME_MIN_SCORE`` it is not found by its name) counts a little more:
# its strength times 1 + ``WIDE_RESEMBLES`` x score, from ``RESEMBLES`` up (below it,
# words shared by chance)
RESEMBLES = 60.0
WIDE_RESEMBLES = 0.1


def widen(line: Line, c: Candidates, decision: LineDecision, *, rejected: Iterable[str] = (),
          limit: int = 3) -> LineDecision:
    """More suggestions for a line going to review, from weaker evidence the banking app
    reads for such lines alone (``Candidates.near_numbers`` and ``by_amount``): an invoice
    whose number is one digit off a number in the text, whoever it is of; an open invoice of
    any customer that the amount pays exactly (what it owes in all, one of its open
    instalments, or its first few), or short within the tolerance, shared among the
    invoices that fit alike. Their confidence is that strength times ``WIDE_CEILING``,
    ranked with the line's own proposals; the best ``limit`` are kept."""
    if decision.kind == "other" or line.amount <= 0:
        return decision
    seen = set(rejected) | {p.signature() for p in decision.proposals}
    extra: list[Proposal] = []

    def add(p: Proposal) -> None:
        if p.signature() not in seen:
            seen.add(p.signature())
            extra.append(p)

    # who the payer is known to pay for: the customer its IBAN paid on lines applied
    # before, and the subsidiaries of a payer found (a parent company pays for them); what
    # the amount pays of their open invoices, as the payer's own would be fitted
    def fitted(cid: int, strength: float, reason: str) -> None:
        invs = [i for i in c.open_by_customer.get(cid, ()) if i.currency == line.currency]
        for fit, allocs, how, write_off in fit_customer(line.amount, line.day, invs,
                                                        c.tolerance)[:2]:
            if fit > NOTHING_FITS:
                add(Proposal(cid, allocs, round(WIDE_CEILING * strength * fit, 4),
                             (reason, how), write_off))

    found = payers(line, c)
    paid = c.iban_paid.get(line.id)
    if paid is not None and paid[0] not in found:
        fitted(paid[0], WIDE_IBAN_PAID, f"counterparty IBAN paid the customer on statement "
               f"line {paid[1]} (applied)")
        found[paid[0]] = (WIDE_IBAN_PAID, "counterparty IBAN paid the customer before")
    for parent, (strength, reason) in sorted(found.items()):
        for child in c.children.get(parent, ()):
            if child not in found:
                fitted(child, WIDE_PARENT * strength, f"{reason}: {c.codes.get(parent, parent)}"
                       f", the parent company of the customer")
    for inv in c.near_numbers.get(line.id, ()):
        if inv.currency != line.currency:
            continue
        fit, allocs, how, write_off = fit_invoices(line.amount, line.day, [inv], c.tolerance)
        add(Proposal(inv.customer_id, allocs, round(WIDE_CEILING * WIDE_NEAR_NUMBER * fit, 4),
                     (f"invoice number {inv.number} is one digit off a number in the text",
                      how), write_off))
    same = [i for i in c.by_amount.get(line.id, ()) if i.currency == line.currency]
    amount = line.amount
    exact = [i for i in same if i.open == amount]
    # what an invoice in instalments owes in part: one open instalment, or its first few
    parts = [(i, first_instalments(i, amount)) for i in same
             if i.open != amount and len(i.instalments) > 1]
    parts = [(i, k) for i, k in parts if k or amount in i.instalments]
    # The invoices that fit alike share the belief: each kind's proposals are equally
    # strong, so of each only the ``limit`` first by signature can be among the ``limit``
    # best (those after them rank after them): the others are counted, not made (in a
    # ledger of a million open items, tens of invoices owe any amount).
    fits = len(exact) + len(parts)
    # of many, those of a customer whose name resembles the payer's first (then by
    # signature), a little stronger, saying so
    resembles = _resemblance(line, c, [i.customer_id for i in exact] + [
        i.customer_id for i, _ in parts]) if fits > 1 else {}

    def why(cid: int) -> tuple[float, tuple[str, ...]]:
        score = resembles.get(cid, 0.0)
        if not score:
            return 1.0, ()
        return 1 + WIDE_RESEMBLES * score / 100, (
            f"counterparty name resembles the customer's ({score:.0f}%)",)

    if exact:
        alone = " (the only open invoice of that amount)" if len(exact) == 1 else \
            f" (one of {len(exact)} open invoices of that amount)"
        strength = WIDE_CEILING * WIDE_AMOUNT / fits
        for inv in _first_by_signature(exact, amount, seen, limit, resembles):
            more, said = why(inv.customer_id)
            add(Proposal(inv.customer_id, ((inv.number, inv.open),), round(strength * more, 4),
                         (f"amount equals open invoice {inv.number}{alone}", *said)))
    if parts:
        strength = WIDE_CEILING * WIDE_INSTALMENTS / fits
        ks = {inv.id: k for inv, k in parts}
        for inv in _first_by_signature([i for i, _ in parts], amount, seen, limit, resembles):
            [k] = ks[inv.id] or [1]
            what = "one open instalment" if k == 1 and amount in inv.instalments else \
                f"the first {k} open instalments"
            more, said = why(inv.customer_id)
            add(Proposal(inv.customer_id, ((inv.number, amount),), round(strength * more, 4),
                         (f"amount equals {what} of invoice {inv.number}" + (
                             "" if fits == 1 else f" (one of {fits} that owe it)"), *said)))
    # short of an invoice: only when none is paid exactly and few are near (in a ledger of
    # many invoices, hundreds lie within a few euros of any amount: no evidence at all)
    if not exact and not parts:
        short = [i for i in same if c.tolerance.allows(i.open - amount, i.total)]
        if len(short) <= WIDE_SHORT_MAX:
            for inv in short:
                add(Proposal(inv.customer_id, ((inv.number, amount),),
                             round(WIDE_CEILING * WIDE_SHORT / len(short), 4),
                             (f"amount is short of open invoice {inv.number} by an amount "
                              "within the write-off tolerance",), True))
    if not extra:
        return decision
    # each placed after the line's own proposals that are at least as strong, their order
    # kept (a best proposal held down because another customer fits too stays first)
    ranked = list(decision.proposals)
    for p in sorted(extra, key=lambda p: (-p.confidence, p.signature())):
        at = len(ranked)
        while at > 0 and ranked[at - 1].confidence < p.confidence:
            at -= 1
        ranked.insert(at, p)
    return LineDecision(decision.line_id, decision.kind, tuple(ranked[:limit]), ())


def _resemblance(line: Line, c: Candidates, customers: Iterable[int]) -> dict[int, float]:
    """How much the name of each of ``customers`` resembles the line's counterparty name
    (``name_score``), for those at ``RESEMBLES`` or more; none without a name."""
    key = name_key(line.name) if line.name else ""
    if not key:
        return {}
    out = {}
    for cid in set(customers):
        theirs = c.customer_keys.get(cid)
        if theirs:
            score = name_score(key, theirs)
            if score >= RESEMBLES:
                out[cid] = score
    return out


def _first_by_signature(invoices: Sequence[OpenInvoice], amount: int, seen: Collection[str],
                        limit: int, resembles: dict[int, float] | None = None
                        ) -> list[OpenInvoice]:
    """Of ``invoices``, each paid ``amount`` by a proposal of one allocation (whose signature
    is ``customer:number=amount``), the ``limit`` first that are not ``seen``: those of a
    customer whose name resembles the payer's most (``resembles``), then by that signature:
    those that can be among a line's best (:func:`widen`)."""
    score = resembles or {}
    signed = [(-score.get(inv.customer_id, 0.0), f"{inv.customer_id}:{inv.number}={amount}",
               inv) for inv in invoices]
    return [inv for _, _, inv in heapq.nsmallest(
        limit, ((r, sig, inv) for r, sig, inv in signed if sig not in seen),
        key=lambda x: (x[0], x[1]))]
