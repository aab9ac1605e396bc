"""The demo company's history, planned as plain data: no Django, no database, no clock.

Everything is drawn from one ``random.Random(seed)`` in a fixed order (lists and dicts,
never sets, so the order does not depend on string hashing), so one seed always gives the
same customers, the same documents and the same payments. ``build_plan`` writes the
customers and their documents; ``plan_settlement`` then decides, from the instalments the
database computed for those documents, which receipts arrive and what they settle.

Payment behaviours, one per customer, follow what credit controllers meet in practice:
``prompt`` payers pay around the due date; ``late`` payers 10 to 60 days after it;
``partial`` payers pay part and the rest later (or never); ``chronic`` non-payers pay very
late and eventually stop paying; ``dispute`` customers pay promptly except for one or two
invoices they dispute, settled by a credit note, paid much later or still open. A quarter of
the customers pay in one monthly run (one receipt settling several invoices), a few
receipts are over-payments left unapplied, and large customers earn a yearly volume rebate
(a credit note that settles their next invoices).

Within a customer the delay is not a constant either (``Habits``), so that a customer's
average is not already the best guess of when the next invoice will be paid: a payer's habit
drifts over the two years (faster or slower), a large invoice takes longer than a small one
(it waits for an approval), payments that would fall in August or December slip (holidays,
year-end closing), and a few customers who paid well turn bad: they pay later and later,
then stop, are no longer invoiced, and what they owe is written off as a bad debt.
"""

from __future__ import annotations

import calendar
import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from salesledger.domain.invoicing import LineInput

from .demo_words import CONTACT_ROLES, COUNTRIES, DISPUTE_REASONS, PRODUCTS, Country, Product

HISTORY_DAYS = 730
BASE_CURRENCY = "EUR"
CENT = Decimal("0.01")
# Units of EUR per unit of the currency, around which the demo rates move.
RATE_CENTRE = {"USD": Decimal("0.92"), "GBP": Decimal("1.17")}
# Catalogue prices are in EUR; a customer billed in another currency gets round prices in it.
PRICE_FACTOR = {"EUR": Decimal(1), "USD": Decimal("1.08"), "GBP": Decimal("0.85")}

BEHAVIOURS = (("prompt", 40), ("late", 30), ("partial", 10), ("chronic", 7), ("dispute", 13))
SIZES = (("small", 60), ("medium", 30), ("large", 10))
# Invoices per month, by size.
FREQUENCY = {"small": (0.3, 1.0), "medium": (0.8, 2.0), "large": (2.0, 4.0)}
MAX_QUANTITY = {"small": 3, "medium": 10, "large": 40}
CREDIT_LIMITS = {"small": (2000, 5000, 10000), "medium": (10000, 20000, 30000),
                 "large": (50000, 100000, 150000)}
TERMS_BY_COUNTRY = {
    "FR": (("NET30", 50), ("NET14", 15), ("30-60-90", 10), ("2-10-NET30", 10), ("", 15)),
    "DE": (("NET30", 40), ("NET14", 20), ("2-10-NET30", 30), ("", 10)),
    "ES": (("30-60-90", 40), ("NET30", 50), ("", 10)),
    "GB": (("NET30", 70), ("NET14", 20), ("", 10)),
    "US": (("NET30", 80), ("2-10-NET30", 10), ("", 10)),
}
METHODS_FR = (("bank_transfer", 70), ("cheque", 15), ("direct_debit", 10), ("card", 5))


# ---------------------------------------------------------------- plan data
@dataclass
class PlanAddress:
    line1: str
    postal_code: str
    city: str
    region: str
    country: str
    line2: str = ""


@dataclass
class PlanContact:
    name: str
    email: str
    phone: str
    roles: tuple[str, ...]
    language: str


@dataclass
class PlanCustomer:
    index: int
    code: str
    name: str
    legal_name: str
    country: str
    currency: str
    language: str
    email: str
    phone: str
    terms_code: str
    credit_limit: str
    po_required: bool
    billing: PlanAddress
    contacts: list[PlanContact]
    ibans: list[tuple[str, str, str]]  # (country, bank code, account code) for IBAN.generate
    tax_id: tuple[str, str] | None  # (scheme, digits without check) -> completed by the loader
    behaviour: str
    size: str
    batch: bool
    method: str
    # A customer who turns bad: from this day it pays later and later, then stops.
    turns_bad: date | None = None
    # The day what it still owes is written off as a bad debt (on or before the plan's day).
    written_off: date | None = None


@dataclass
class PlanDoc:
    index: int
    customer: int
    kind: str
    issue_date: date
    currency: str
    rate: Decimal
    lines: list[LineInput]
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    corrects: int | None = None  # index into Plan.invoices
    apply_to: list[int] = field(default_factory=list)  # rebate: invoices it settles
    # Payments: (days after each instalment's due date, share of what is then open; None:
    # all of it). No payment is dated before ``pay_not_before``.
    events: list[tuple[int, Decimal | None]] = field(default_factory=list)
    pay_not_before: date | None = None
    # How much a payment falling in a holiday month slips (the customer's own factor).
    seasonal: float = 0.0


@dataclass
class Plan:
    today: date
    customers: list[PlanCustomer]
    invoices: list[PlanDoc]
    credit_notes: list[PlanDoc]
    rates: dict[tuple[str, int, int], Decimal]

    def rate(self, currency: str, day: date) -> Decimal:
        if currency == BASE_CURRENCY:
            return Decimal(1)
        return self.rates[(currency, day.year, day.month)]


@dataclass(frozen=True)
class InstalmentRow:
    id: int
    seq: int
    due_date: date
    open: int


@dataclass
class PlannedReceipt:
    customer: int
    date: date
    currency: str
    amount: int
    rate: Decimal
    method: str
    payer_reference: str
    bank_reference: str
    memo: str = ""


@dataclass(frozen=True)
class PlannedAllocation:
    instalment_id: int
    amount: int
    date: date
    receipt: int | None = None  # index into the planned receipts
    credit_note: int | None = None  # index into Plan.credit_notes


# ---------------------------------------------------------------- small helpers
def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def business_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def month_end_business_day(day: date) -> date:
    last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last


def ascii_slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return sep.join(words)


def digits(rng: random.Random, n: int, first_nonzero: bool = False) -> str:
    out = [str(rng.randint(1 if first_nonzero and i == 0 else 0, 9)) for i in range(n)]
    return "".join(out)


def fill(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randint(1, 9)) if c == "#" else c for c in pattern)


def minor(amount: Decimal) -> int:
    return int(amount.quantize(CENT).scaleb(2))


# ---------------------------------------------------------------- customers
def _company_name(rng: random.Random, c: Country) -> str:
    surname, surname2 = rng.sample(c.surnames, 2)
    return rng.choice(c.patterns).format(surname=surname, surname2=surname2,
                                         trade=rng.choice(c.trades), place=rng.choice(c.places))


def _postal_code(rng: random.Random, c: Country, prefix: str) -> str:
    if c.code == "FR":
        return prefix + (f"{rng.randint(1, 16):02d}" if len(prefix) == 3 else "0")
    if c.code == "DE":
        return prefix + digits(rng, 3)
    if c.code == "ES":
        return prefix + "0" + f"{rng.randint(1, 50):02d}"
    if c.code == "GB":
        return f"{prefix} {rng.randint(1, 9)}{''.join(rng.sample('ABDEFGHJLNPQRSTUWXYZ', 2))}"
    return prefix + f"{rng.randint(1, 99):02d}"


def _tax_scheme(rng: random.Random, c: Country, legal_form: str) -> tuple[str, str] | None:
    """What the loader needs to build a valid tax id with python-stdnum's check digits."""
    if c.code == "FR":
        return ("FR", digits(rng, 8, first_nonzero=True))
    if c.code == "DE":
        return ("DE", digits(rng, 8, first_nonzero=True))
    if c.code == "ES":
        return ("ES", ("A" if legal_form == "S.A." else "B") + digits(rng, 7))
    if c.code == "GB":
        return ("GB", digits(rng, 7, first_nonzero=True))
    return None  # US companies have no VAT number


def _customer(rng: random.Random, index: int, used_names: dict[str, int]) -> PlanCustomer:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    name = _company_name(rng, country)
    for _ in range(20):
        if name not in used_names:
            break
        name = _company_name(rng, country)
    else:
        name = f"{name} {rng.choice(country.cities)[0]}"
    used_names[name] = index
    form = rng.choice(country.legal_forms)
    size = weighted(rng, SIZES)
    behaviour = weighted(rng, BEHAVIOURS)
    currency = weighted(rng, country.currencies)
    city, prefix, region = rng.choice(country.cities)
    domain = f"{ascii_slug(name, '-')}.{country.tld}"
    billing = PlanAddress(
        line1=country.street_format.format(n=rng.randint(1, 180),
                                           street=rng.choice(country.streets)),
        line2=f"Suite {rng.randint(1, 30) * 100}" if country.code == "US" and rng.random() < 0.4
        else "",
        postal_code=_postal_code(rng, country, prefix), city=city, region=region,
        country=country.code)
    contacts = []
    for roles in rng.sample(CONTACT_ROLES, rng.randint(1, 3)):
        first, last = rng.choice(country.first_names), rng.choice(country.surnames)
        contacts.append(PlanContact(
            name=f"{first} {last}",
            email=f"{ascii_slug(first, '-')}.{ascii_slug(last, '-')}@{domain}",
            phone=fill(rng, country.phone_format), roles=roles, language=country.language))
    mailbox = {"FR": "compta", "DE": "buchhaltung", "ES": "contabilidad"}.get(country.code,
                                                                             "accounts")
    ibans = []
    if country.banks and rng.random() < 0.7:
        ibans.append((country.code, rng.choice(country.banks),
                      digits(rng, country.account_digits)))
    limit = "" if rng.random() < 0.25 else str(rng.choice(CREDIT_LIMITS[size]))
    po_required = rng.random() < (0.4 if size == "large" else 0.03)
    method = weighted(rng, METHODS_FR) if country.code == "FR" else "bank_transfer"
    return PlanCustomer(
        index=index, code=f"C{index + 1:05d}", name=name, legal_name=f"{name} {form}",
        country=country.code, currency=currency, language=country.language,
        email=f"{mailbox}@{domain}", phone=fill(rng, country.phone_format),
        terms_code=weighted(rng, TERMS_BY_COUNTRY[country.code]), credit_limit=limit,
        po_required=po_required, billing=billing, contacts=contacts, ibans=ibans,
        tax_id=_tax_scheme(rng, country, form), behaviour=behaviour, size=size,
        batch=behaviour in ("prompt", "late") and rng.random() < 0.3, method=method)


# ---------------------------------------------------------------- documents
def _rates(rng: random.Random, start: date, today: date) -> dict[tuple[str, int, int], Decimal]:
    """One rate per currency and month: a slow swing around the centre plus noise."""
    out = {}
    for currency, centre in RATE_CENTRE.items():
        day, k = start.replace(day=1), 0
        phase = rng.random() * 2 * math.pi
        while day <= today:
            swing = 0.04 * math.sin(phase + k / 4) + rng.uniform(-0.01, 0.01)
            out[(currency, day.year, day.month)] = (centre * Decimal(str(round(1 + swing, 6)))
                                                   ).quantize(Decimal("0.000001"))
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            k += 1
    return out


def _line(rng: random.Random, product: Product, customer: PlanCustomer) -> LineInput:
    top = MAX_QUANTITY[customer.size]
    if product.half_units:
        quantity = Decimal(rng.randint(1, 2 * top)) / 2
    else:
        quantity = Decimal(rng.randint(1, top))
    price = (product.unit_price * PRICE_FACTOR[customer.currency]
             * Decimal(rng.randint(95, 105)) / 100).quantize(CENT)
    discount = Decimal(rng.choice((5, 10, 15))) if rng.random() < 0.12 else Decimal(0)
    if customer.country == "FR":
        return LineInput(product.description, quantity, price, product.tax_rate, discount)
    # Intra-community supply to an EU business (K) or an export outside the EU (G): 0 %.
    category = "K" if customer.country in ("DE", "ES") else "G"
    return LineInput(product.description, quantity, price, Decimal(0), discount, category)


@dataclass(frozen=True)
class Habits:
    """How one customer's delays move: its own level, a drift per year, the days a large
    invoice adds per doubling of the amount, its noise, its sensitivity to holiday months."""

    level: float
    drift: float
    size_days: float
    noise: float
    seasonal: float
    typical: float  # the customer's usual invoice (net), against which "large" is measured


# Days a payment that would fall in the month slips, for a customer of seasonal factor 1.
HOLIDAY_SLIP = {8: 9, 12: 12, 1: 3}


def _habits(rng: random.Random, customer: PlanCustomer, mean_delay: int,
            products: list[Product]) -> Habits:
    late = customer.behaviour in ("late", "chronic")
    typical = float(sum(p.unit_price for p in products) / len(products)) * (
        MAX_QUANTITY[customer.size] / 2 + 0.5)
    return Habits(level=float(mean_delay) if late else rng.gauss(-2, 2),
                  drift=rng.gauss(0, 14 if late else 7),
                  size_days=rng.uniform(3, 9),
                  noise=6.0 if late else 2.5,
                  seasonal=rng.uniform(0.5, 1.5),
                  typical=typical)


def _net(lines: list[LineInput]) -> float:
    return float(sum((li.quantity * li.unit_price * (100 - li.discount_percent) / 100
                      for li in lines), Decimal(0)))


def _delay(rng: random.Random, h: Habits, issue: date, start: date, net: float) -> int:
    """One invoice's delay after its due date: the customer's level, its drift since the
    start, the size of the invoice, noise."""
    years = (issue - start).days / 365
    size = math.log2(max(net, 1.0) / h.typical) if h.typical > 0 else 0.0
    return int(round(h.level + h.drift * (years - 1) + h.size_days * size
                     + rng.gauss(0, h.noise)))


def _events(rng: random.Random, customer: PlanCustomer, h: Habits, issue: date, start: date,
            net: float, stop: date | None) -> list[tuple[int, Decimal | None]]:
    b = customer.behaviour
    if customer.turns_bad is not None and issue >= customer.turns_bad:
        worse = (issue - customer.turns_bad).days
        if worse > 90:
            return []  # it has stopped paying
        return [(max(0, _delay(rng, h, issue, start, net)) + 20 + worse, None)]
    if b in ("prompt", "dispute"):
        if rng.random() < 0.08:
            return [(rng.randint(15, 30), None)]
        return [(max(-10, _delay(rng, h, issue, start, net)), None)]
    if b == "late":
        return [(max(2, _delay(rng, h, issue, start, net)), None)]
    if b == "partial":
        first = max(0, _delay(rng, h, issue, start, net) + rng.randint(0, 20))
        share = Decimal(rng.choice((3, 4, 5, 6, 7))) / 10
        if rng.random() < 0.6:
            return [(first, share), (first + rng.randint(30, 120), None)]
        return [(first, share)]
    # chronic: very late while still paying, then nothing at all
    if stop is not None and issue >= stop:
        return []
    if rng.random() < 0.8:
        return [(rng.randint(45, 150), None)]
    return [(rng.randint(60, 120), Decimal("0.5"))]


def _dispute(rng: random.Random, plan: Plan, inv: PlanDoc, today: date) -> None:
    """Turn ``inv`` into a disputed invoice: a correcting credit note, a very late payment,
    or an invoice still open."""
    reason = rng.choice(DISPUTE_REASONS)
    outcome = weighted(rng, (("credit_partial", 45), ("credit_full", 15), ("paid_late", 25),
                             ("open", 15)))
    cn_day = business_day(inv.issue_date + timedelta(days=rng.randint(7, 30)))
    if outcome.startswith("credit") and cn_day > today:
        outcome = "open"
    if outcome == "open":
        inv.events = []
        return
    if outcome == "paid_late":
        inv.pay_not_before = inv.issue_date + timedelta(days=rng.randint(60, 120))
        return
    if outcome == "credit_full":
        lines = list(inv.lines)
        inv.events = []
    else:
        li = rng.choice(inv.lines)
        if li.quantity >= 2:
            qty = Decimal(rng.randint(1, int(li.quantity) - 1))
            lines = [LineInput(li.description, qty, li.unit_price, li.tax_rate,
                               li.discount_percent, li.tax_category)]
        else:
            price = (li.unit_price * Decimal(rng.randint(10, 50)) / 100).quantize(
                CENT, rounding=ROUND_DOWN)
            lines = [LineInput(f"Price adjustment: {li.description}", li.quantity, price,
                               li.tax_rate, li.discount_percent, li.tax_category)]
        inv.pay_not_before = cn_day + timedelta(days=rng.randint(3, 20))
    plan.credit_notes.append(PlanDoc(
        index=len(plan.credit_notes), customer=inv.customer, kind="credit_note",
        issue_date=cn_day, currency=inv.currency, rate=plan.rate(inv.currency, cn_day),
        lines=lines, notes=f"Credit for a disputed invoice: {reason}", corrects=inv.index))


def _rebates(plan: Plan, customer: PlanCustomer, docs: list[PlanDoc], disputed: list[int]
             ) -> None:
    """Large customers earn 2 % of a calendar year's purchases, credited in January."""
    years = sorted({d.issue_date.year for d in docs})
    for year in years[:-1]:
        net = sum((li.quantity * li.unit_price * (100 - li.discount_percent) / 100
                   for d in docs if d.issue_date.year == year for li in d.lines), Decimal(0))
        cn_day = business_day(date(year + 1, 1, 12))
        if net <= 0 or cn_day > plan.today:
            continue
        amount = (net * Decimal("0.02")).quantize(CENT)
        rate, category = (Decimal(20), "S") if customer.country == "FR" else (Decimal(0), (
            "K" if customer.country in ("DE", "ES") else "G"))
        later = [d.index for d in docs if d.issue_date >= cn_day and d.index not in disputed]
        plan.credit_notes.append(PlanDoc(
            index=len(plan.credit_notes), customer=customer.index, kind="credit_note",
            issue_date=cn_day, currency=customer.currency,
            rate=plan.rate(customer.currency, cn_day),
            lines=[LineInput(f"Volume rebate {year} (2 % of net purchases)", Decimal(1), amount,
                             rate, Decimal(0), category)],
            notes=f"Yearly volume rebate {year}", apply_to=later[:6]))


def _customer_docs(rng: random.Random, plan: Plan, customer: PlanCustomer, start: date
                   ) -> list[PlanDoc]:
    today = plan.today
    first = start
    if rng.random() < 0.3:
        first = start + timedelta(days=rng.randint(0, HISTORY_DAYS - 120))
    last = today
    if rng.random() < 0.08:
        last = min(today, first + timedelta(days=rng.randint(90, HISTORY_DAYS)))
    per_day = rng.uniform(*FREQUENCY[customer.size]) / 30.4
    products = rng.sample(PRODUCTS, rng.randint(3, 7))
    mean_delay = rng.randint(10, 60)
    stop = None
    if customer.behaviour == "chronic":
        stop = today - timedelta(days=rng.randint(180, 420))
    habits = _habits(rng, customer, mean_delay, products)
    if customer.behaviour in ("prompt", "late", "dispute") and rng.random() < 0.06:
        # It turns bad some day in the history; it is no longer invoiced five months later,
        # and what it owes is written off eight months after it turned.
        turn = first + timedelta(days=rng.randint(120, max(121, (today - first).days - 60)))
        if turn < today - timedelta(days=60):
            customer.turns_bad = turn
            last = min(last, turn + timedelta(days=150))
            if turn + timedelta(days=240) <= today - timedelta(days=5):
                customer.written_off = business_day(turn + timedelta(days=240))
    po_style = rng.choice(("PO-{n:06d}", "45{n:08d}", "BC{y}-{n:05d}", "ORD/{y}/{n:04d}"))
    buyer_ref = ""
    if customer.size != "small" and rng.random() < 0.2:
        buyer_ref = rng.choice(("Purchasing", "Cost centre 4711", "Service achats", "Facilities"))
    docs: list[PlanDoc] = []
    day = first + timedelta(days=rng.expovariate(per_day))
    while day <= last:
        issue = business_day(day)
        day += timedelta(days=max(1.0, rng.expovariate(per_day)))
        if issue > last:
            break
        n_lines = rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 20, 12, 8))[0]
        lines = [_line(rng, p, customer) for p in rng.sample(products, min(n_lines, len(products)))]
        po = ""
        if customer.po_required or rng.random() < 0.2:
            po = po_style.format(n=rng.randint(1, 99999), y=issue.year)
        docs.append(PlanDoc(
            index=-1, customer=customer.index, kind="invoice", issue_date=issue,
            currency=customer.currency, rate=plan.rate(customer.currency, issue), lines=lines,
            po_number=po, buyer_reference=buyer_ref, seasonal=habits.seasonal,
            events=_events(rng, customer, habits, issue, start, _net(lines), stop)))
    if customer.written_off is not None and all(d.events for d in docs):
        customer.written_off = None  # it stopped paying after its last invoice: nothing lost
    return docs


def build_plan(rng: random.Random, *, customers: int, today: date) -> Plan:
    start = today - timedelta(days=HISTORY_DAYS)
    plan = Plan(today=today, customers=[], invoices=[], credit_notes=[],
                rates=_rates(rng, start, today))
    used: dict[str, int] = {}
    plan.customers = [_customer(rng, i, used) for i in range(customers)]
    per_customer = [_customer_docs(rng, plan, c, start) for c in plan.customers]
    # Number invoices in date order, as the law of most countries expects.
    ordered = sorted((d for docs in per_customer for d in docs),
                     key=lambda d: (d.issue_date, d.customer))
    for i, d in enumerate(ordered):
        d.index = i
    plan.invoices = ordered
    for customer, docs in zip(plan.customers, per_customer, strict=True):
        disputed: list[int] = []
        candidates = [d for d in docs if d.issue_date <= today - timedelta(days=20)]
        if customer.behaviour == "dispute" and candidates:
            disputed = [d.index for d in rng.sample(candidates, min(len(candidates),
                                                                   rng.randint(1, 2)))]
        elif customer.behaviour != "chronic":
            disputed = [d.index for d in candidates if rng.random() < 0.006]
        for idx in disputed:
            _dispute(rng, plan, plan.invoices[idx], today)
        if customer.size == "large":
            _rebates(plan, customer, docs, disputed)
    plan.credit_notes.sort(key=lambda d: (d.issue_date, d.customer, d.index))
    for i, d in enumerate(plan.credit_notes):
        d.index = i
    return plan


# ---------------------------------------------------------------- settlement
@dataclass
class _Payment:
    customer: int
    currency: str
    date: date
    instalment_id: int
    amount: int
    invoice: int


def _credit_allocations(plan: Plan, instalments: dict[int, list[InstalmentRow]],
                        open_: dict[int, int], credit_open: list[int]
                        ) -> list[PlannedAllocation]:
    out = []
    for cn in plan.credit_notes:
        left = credit_open[cn.index]
        targets = [cn.corrects] if cn.corrects is not None else cn.apply_to
        for inv_index in targets:
            inv = plan.invoices[inv_index]
            for row in instalments.get(inv_index, []):
                take = min(left, open_[row.id])
                if take <= 0:
                    continue
                out.append(PlannedAllocation(row.id, take, max(cn.issue_date, inv.issue_date),
                                             credit_note=cn.index))
                open_[row.id] -= take
                left -= take
    return out


def _payments(plan: Plan, instalments: dict[int, list[InstalmentRow]], open_: dict[int, int]
              ) -> list[_Payment]:
    out = []
    for inv in plan.invoices:
        for delay, share in inv.events:
            for row in instalments.get(inv.index, []):
                day = row.due_date + timedelta(days=delay)
                day += timedelta(days=round(inv.seasonal * HOLIDAY_SLIP.get(day.month, 0)))
                day = max(day, inv.issue_date)
                if inv.pay_not_before:
                    day = max(day, inv.pay_not_before)
                day = business_day(day)
                remaining = open_[row.id]
                amount = remaining if share is None else int(remaining * share)
                lost = plan.customers[inv.customer].written_off
                if day > plan.today or amount <= 0 or (lost is not None and day >= lost):
                    continue
                open_[row.id] -= amount
                out.append(_Payment(inv.customer, inv.currency, day, row.id, amount, inv.index))
    return out


def _payer_reference(rng: random.Random, customer: PlanCustomer, refs: list[str]) -> str:
    if customer.method == "cheque":
        return f"Cheque {digits(rng, 7, first_nonzero=True)}"
    if customer.method == "direct_debit":
        return f"SEPA DD {customer.code}"
    if customer.method == "card":
        return "Card payment"
    if rng.random() < 0.15:
        return customer.name.upper()[:35]
    return " ".join(refs)[:140]


def plan_settlement(plan: Plan, instalments: dict[int, list[InstalmentRow]],
                    credit_open: list[int], numbers: dict[int, str], rng: random.Random
                    ) -> tuple[list[PlannedReceipt], list[PlannedAllocation]]:
    """Receipts and allocations that play out every customer's payment behaviour.

    ``instalments`` maps an invoice's index in ``plan.invoices`` to its instalments (as the
    database computed them, with what is still open); ``credit_open`` is what is still
    unapplied on each credit note; ``numbers`` maps an invoice index to its number.
    """
    today = plan.today
    open_ = {row.id: row.open for rows in instalments.values() for row in rows}
    allocations = _credit_allocations(plan, instalments, open_, credit_open)
    groups: dict[tuple[int, str, date], list[_Payment]] = {}
    for p in _payments(plan, instalments, open_):
        day = p.date
        if plan.customers[p.customer].batch:
            day = min(month_end_business_day(day), today)
        groups.setdefault((p.customer, p.currency, day), []).append(p)
    # Payments on account from chronic payers: round sums nobody has matched yet.
    for c in plan.customers:
        if c.behaviour == "chronic" and rng.random() < 0.7:
            day = business_day(today - timedelta(days=rng.randint(10, 150)))
            if day <= today:
                groups.setdefault((c.index, c.currency, day), [])
    receipts: list[PlannedReceipt] = []
    for (cust, currency, day), items in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0],
                                                                              kv[0][1])):
        customer = plan.customers[cust]
        amount = sum(p.amount for p in items)
        memo = ""
        if not items:
            amount = rng.choice((500, 1000, 1500, 2000)) * 100
            memo = "Payment on account"
        elif rng.random() < 0.03:
            # Over-payment: rounded up to the next hundred, or a small sum paid twice.
            extra = (-amount) % 10000 or 1500
            amount += extra
            memo = "Over-payment"
        refs: list[str] = []
        for p in items:
            if numbers.get(p.invoice) and numbers[p.invoice] not in refs:
                refs.append(numbers[p.invoice])
        index = len(receipts)
        receipts.append(PlannedReceipt(
            customer=cust, date=day, currency=currency, amount=amount,
            rate=plan.rate(currency, day), method=customer.method,
            payer_reference=_payer_reference(rng, customer, refs),
            bank_reference=f"{day:%y%m%d}{index + 1:07d}", memo=memo))
        allocations.extend(PlannedAllocation(p.instalment_id, p.amount, day, receipt=index)
                           for p in items)
    return receipts, allocations
