"""Seeded generator of CSV files for the import benchmark (formats: docs/csv-formats.md).

    python bench/generate.py large --out /tmp/bench-data [--seed 20261123] [--numbers]

Sizes: small = 1,000 invoices, medium = 10,000, large = 100,000, huge = 1,000,000; one
customer per 100 invoices (at least 50). Writes ``customers.csv`` and ``invoices.csv`` (and,
with ``--numbers``, ``receipts.csv``) into ``--out``. The same seed always gives the same files.

Invoices have 1 to 4 lines at several tax rates (20 %, 10 %, 5.5 %, 0 % zero-rated), some
discounts, dates over the year 2025, the customer's currency (EUR, some USD and GBP with an
exchange rate) and its payment terms; one document in twenty is a credit note. Without
``--numbers`` rows are grouped by ``ref`` and the documents take new gapless numbers; with it
they keep numbers ``LEG-0000001``..., credit notes correct an earlier invoice of the same
customer, and ``receipts.csv`` pays about half of the invoices.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

SIZES = {"small": 1_000, "medium": 10_000, "large": 100_000, "huge": 1_000_000}
YEAR = 2025
TAX_RATES = (("20", "S"), ("20", "S"), ("10", "S"), ("5.5", "S"), ("0", "Z"))
TERMS = ("", "", "NET30", "NET14", "30-60-90", "2-10-NET30")
PRODUCTS = ("Consulting hour", "Support plan", "Widget", "Gadget", "Licence", "Training day",
            "Spare part", "Installation", "Maintenance visit", "Freight")
CITIES = (("FR", "Paris", "75001"), ("FR", "Lyon", "69001"), ("DE", "Berlin", "10115"),
          ("DE", "Hamburg", "20095"), ("BE", "Brussels", "1000"), ("NL", "Utrecht", "3511"),
          ("US", "Boston", "02108"), ("GB", "Leeds", "LS1"))
RATES = {"USD": (Decimal("0.85"), Decimal("0.95")), "GBP": (Decimal("1.12"), Decimal("1.20"))}


@dataclass
class Customer:
    code: str
    currency: str
    po_required: bool
    terms: str


def customer_count(invoices: int) -> int:
    return max(50, invoices // 100)


def iban_de(n: int) -> str:
    """A valid German IBAN (ISO 13616 check digits) at one real bank code."""
    bban = f"37040044{n:010d}"
    return f"DE{98 - int(bban + '131400') % 97:02d}{bban}"


def write_customers(path: Path, rng: random.Random, count: int) -> list[Customer]:
    out = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "name", "country", "currency", "language", "email", "terms",
                    "credit_limit", "po_required", "billing_line1", "billing_postal_code",
                    "billing_city", "billing_country", "contact_name", "contact_email",
                    "contact_roles", "iban"])
        for n in range(1, count + 1):
            country, city, postal = rng.choice(CITIES)
            currency = {"US": "USD", "GB": "GBP"}.get(country, "EUR")
            c = Customer(f"C{n:05d}", currency, rng.random() < 0.05, rng.choice(TERMS))
            out.append(c)
            ibans = [iban_de(n * 10 + k) for k in range(rng.choice((0, 0, 1, 1, 2)))]
            w.writerow([
                c.code, f"Customer {n} {rng.choice(('SARL', 'GmbH', 'BV', 'Ltd', 'Inc'))}",
                country, currency, "en", f"ap{n}@example.com", c.terms,
                _no_limit(rng),
                "true" if c.po_required else "false", f"{n} Market Street", postal, city,
                country, f"Accounts {n}", f"billing{n}@example.com", "billing|payables",
                "|".join(ibans),
            ])
    return out


def _no_limit(rng: random.Random) -> str:
    """No credit limit: the year's invoices are imported as new documents, and limits set
    before them would refuse the ones that pass them (docs/design/credit.md). The draws
    that picked a limit are still made, so that the rest of the data stays the same."""
    if rng.random() < 0.3:
        rng.choice((5000, 10000, 50000))
    return ""


def _day(rng: random.Random) -> date:
    return date(YEAR, 1, 1) + timedelta(days=rng.randrange(0, 330))


def _line(rng: random.Random) -> list[str]:
    rate, category = rng.choice(TAX_RATES)
    qty = str(rng.randint(1, 20)) if rng.random() < 0.8 else f"{rng.randint(1, 999) / 10:.1f}"
    price = f"{rng.randint(100, 200_000) / 100:.2f}"
    discount = rng.choice(("0", "0", "0", "5", "10"))
    return [rng.choice(PRODUCTS), qty, price, rate, discount, category]


def write_invoices(path: Path, rng: random.Random, count: int, customers: list[Customer],
                   numbers: bool) -> list[tuple[str, Customer, date, int]]:
    """Returns (number, customer, issue date, approximate total in minor units) of each
    invoice written with a number (for the receipts)."""
    issued: list[tuple[str, Customer, date, int]] = []
    by_customer: dict[str, list[tuple[str, date, list[str]]]] = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["kind", "number" if numbers else "ref", "customer", "issue_date",
                    "currency", "rate", "terms", "po_number", "corrects", "description",
                    "quantity", "unit_price", "tax_rate", "discount_percent", "tax_category"])
        for n in range(1, count + 1):
            c = rng.choice(customers)
            day = _day(rng)
            key = f"LEG-{n:07d}" if numbers else f"R{n}"
            rate = ""
            if c.currency in RATES:
                lo, hi = RATES[c.currency]
                rate = str((lo + (hi - lo) * Decimal(rng.randint(0, 1000)) / 1000)
                           .quantize(Decimal("0.0001")))
            po = f"PO-{rng.randint(1000, 99999)}" if c.po_required or rng.random() < 0.1 else ""
            earlier = by_customer.get(c.code, [])
            if rng.random() < 0.05 and (earlier or not numbers):
                kind, corrects, lines = "credit_note", "", [_line(rng)]
                if numbers:  # one unit of the first line of an invoice not credited yet
                    target, target_day, first = earlier.pop(rng.randrange(len(earlier)))
                    corrects, day = target, max(day, target_day)
                    lines = [first[:1] + ["1"] + first[2:]]
                po = ""
            else:
                kind, corrects = "invoice", ""
                lines = [_line(rng) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))]
                if numbers:
                    if "." not in lines[0][1]:  # a whole quantity: at least one to credit
                        by_customer.setdefault(c.code, []).append((key, day, lines[0]))
                    net = sum(Decimal(li[1]) * Decimal(li[2]) for li in lines)
                    issued.append((key, c, day, int(net * 100)))
            for i, li in enumerate(lines):
                head = [kind, key, c.code, day.isoformat(), c.currency, rate, c.terms, po,
                        corrects] if i == 0 else ["", key, "", "", "", "", "", "", ""]
                w.writerow(head + li)
    return issued


def write_receipts(path: Path, rng: random.Random,
                   issued: list[tuple[str, Customer, date, int]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer", "date", "amount", "currency", "rate", "method", "invoice"])
        for number, c, day, net in issued:
            if rng.random() < 0.5:
                continue
            amount = max(1, net // rng.choice((1, 1, 2, 3)))
            rate = ""
            if c.currency in RATES:
                rate = str(RATES[c.currency][0])
            paid = min(day + timedelta(days=rng.randint(0, 60)), date(YEAR, 12, 31))
            w.writerow([c.code, paid.isoformat(), f"{amount / 100:.2f}", c.currency, rate,
                        "bank_transfer", number])


def generate(size: str, out: Path, *, seed: int = 20261123, numbers: bool = False
             ) -> dict[str, Path]:
    """Write the files for ``size`` into ``out``; return their paths by kind."""
    count = SIZES[size]
    rng = random.Random(f"{seed}-{size}-{numbers}")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"customers": out / "customers.csv", "invoices": out / "invoices.csv"}
    customers = write_customers(paths["customers"], rng, customer_count(count))
    issued = write_invoices(paths["invoices"], rng, count, customers, numbers)
    if numbers:
        paths["receipts"] = out / "receipts.csv"
        write_receipts(paths["receipts"], rng, issued)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--numbers", action="store_true",
                        help="keep numbers, credit notes correct invoices, write receipts.csv")
    args = parser.parse_args()
    for kind, path in generate(args.size, args.out, seed=args.seed,
                               numbers=args.numbers).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
