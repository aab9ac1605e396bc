"""Benchmark: find the duplicate customers among many (docs/design/customer-records.md).

    .venv/bin/python bench/bench_duplicates.py large            # 100,000 customers, SQLite
    .venv/bin/python bench/bench_duplicates.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Generates seeded customers (names of a trade, a family name and a town, with their legal
forms; 0 to 1 IBAN; some tax ids) and plants duplicates among them: one in a hundred is
entered again with its name retyped (case, accents, legal form, word order, a typo), one in
a thousand again with the same tax id under another name, one in a thousand with an IBAN the
other was seen paying from. Then:

- ``pure``: the blocked comparison alone (``domain.duplicates.duplicate_candidates``) over
  the customers in memory;
- ``cli``: in a fresh database (SQLite in a temporary directory, or a new PostgreSQL database
  next to the one named), the customers written in bulk, ``salesledger customer duplicates
  --json`` run as the command line in a process of its own (wall clock, CPU, peak memory).

Each measure reports how many planted pairs were found (``recall``), how many pairs in all,
and how many names were compared. Prints one JSON object per measure and writes them all to
``bench/results/duplicates-SIZE-DB-TIMESTAMP.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from bench_import import bench_database, cli, machine  # noqa: E402

from salesledger.domain.duplicates import CustomerKey, duplicate_candidates  # noqa: E402

SIZES = {"small": 1_000, "medium": 10_000, "large": 100_000}
COMPANY = "bench"
TRADES = ("Boulangerie", "Garage", "Pharmacie", "Plomberie", "Menuiserie", "Transports",
          "Imprimerie", "Librairie", "Fromagerie", "Electricite", "Charpente", "Peinture",
          "Architectes", "Conseil", "Informatique", "Hotel", "Restaurant", "Cave", "Optique",
          "Fleurs", "Bakery", "Logistics", "Software", "Consulting", "Engineering", "Foods",
          "Textiles", "Metals", "Marine", "Energy", "Autohaus", "Baeckerei", "Druckerei",
          "Elektro", "Moebel", "Reisen", "Bau", "Handel", "Medien", "Technik")
FAMILIES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
            "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Andre", "Lefevre",
            "Mercier", "Dupont", "Lambert", "Bonnet", "Francois", "Martinez", "Muller",
            "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
            "Hoffmann", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
            "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
            "Green", "Hall", "Wood", "Jackson", "Clarke", "Rossi", "Russo", "Ferrari",
            "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Janssen",
            "DeVries", "Peeters", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
            "Wouters", "Lopez", "Gonzalez", "Rodriguez", "Fernandez", "Sanchez", "Perez",
            "Gomez", "Diaz", "Alvarez", "Romero", "Nowak", "Kowalski", "Wisniewski",
            "Wojcik", "Kaminski", "Lewandowski", "Zielinski", "Szymanski", "Dabrowski", "Kozlowski")
TOWNS = ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg",
         "Montpellier", "Bordeaux", "Lille", "Rennes", "Reims", "Toulon", "Grenoble", "Dijon",
         "Angers", "Nimes", "Brest", "Tours", "Limoges", "Amiens", "Perpignan", "Metz",
         "Besancon", "Orleans", "Rouen", "Mulhouse", "Caen", "Nancy", "Avignon", "Berlin",
         "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Leeds", "Bristol",
         "Glasgow", "Cardiff", "Utrecht", "Leiden", "Ghent", "Bruges", "Namur", "Liege",
         "Porto", "Braga", "Seville", "Bilbao")
FORMS = ("", "", "SARL", "SAS", "SA", "GmbH", "Ltd", "EURL", "& Fils", "et Associes")
ACCENTED = {"e": "é", "a": "à", "u": "ü", "o": "ö"}


def iban_fr(n: int) -> str:
    """A French IBAN (ISO 13616 check digits) numbered ``n``."""
    bban = f"3000600001{n:011d}00"
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    return f"FR{98 - int(digits) % 97:02d}{bban}"


def retyped(name: str, rng: random.Random) -> str:
    """The same name as someone else would type it."""
    words = name.split()
    how = rng.randrange(5)
    if how == 0:
        return name.upper()
    if how == 1:
        return " ".join(words[:-1] if words[-1] in FORMS else words) + " " + rng.choice(
            ("SARL", "S.A.R.L.", "Ltd", "GmbH", "SA"))
    if how == 2:
        return "".join(ACCENTED.get(c, c) if rng.random() < 0.3 else c for c in name)
    if how == 3 and len(words) > 2:
        return " ".join([words[1], words[0], *words[2:]])
    i = rng.randrange(1, max(2, len(name) - 1))
    return name[:i] + name[i + 1:]  # a letter left out


def customers(size: str, seed: int) -> tuple[list[CustomerKey], set[tuple[str, str]]]:
    """Seeded customers with duplicates planted among them, and the planted pairs."""
    rng = random.Random(seed)
    count = SIZES[size]
    out: list[CustomerKey] = []
    planted: set[tuple[str, str]] = set()
    n = 0
    while len(out) < count:
        n += 1
        name = " ".join(filter(None, (rng.choice(TRADES), rng.choice(FAMILIES),
                                      rng.choice(TOWNS), rng.choice(FORMS))))
        tax = f"FR{n:011d}" if rng.random() < 0.3 else ""
        ibans = (iban_fr(n),) if rng.random() < 0.5 else ()
        code = f"C{n:07d}"
        out.append(CustomerKey(len(out) + 1, code, name, tax_id=tax, country="FR", ibans=ibans))
        if n % 100 == 0:
            twin = CustomerKey(len(out) + 1, f"D{n:07d}", retyped(name, rng), country="FR")
            out.append(twin)
            planted.add((code, twin.code))
        if n % 1000 == 1 and tax:
            other = CustomerKey(len(out) + 1, f"T{n:07d}", f"{rng.choice(FAMILIES)} Holding",
                                tax_id=tax, country="FR")
            out.append(other)
            planted.add((code, other.code))
        if n % 1000 == 2 and ibans:
            payer = CustomerKey(len(out) + 1, f"I{n:07d}", f"{rng.choice(FAMILIES)} Payeur",
                                country="FR", ibans=ibans)
            out.append(payer)
            planted.add((code, payer.code))
    return out, planted


def recall(found: set[tuple[str, str]], planted: set[tuple[str, str]]) -> float:
    hit = sum(1 for a, b in planted if (a, b) in found or (b, a) in found)
    return round(hit / len(planted), 4) if planted else 1.0


def pure(size: str, seed: int) -> dict[str, Any]:
    keys, planted = customers(size, seed)
    start = time.perf_counter()
    pairs = duplicate_candidates(keys)
    seconds = time.perf_counter() - start
    codes = {k.id: k.code for k in keys}
    found = {(codes[p.a], codes[p.b]) for p in pairs}
    return {"benchmark": "duplicates_pure", "size": size, "customers": len(keys),
            "planted": len(planted), "recall": recall(found, planted), "pairs": len(pairs),
            "seconds": round(seconds, 2)}


def in_database(size: str, seed: int, db: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.services import company_create
    from salesledger.apps.customers.models import BankAccount, Customer

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code=COMPANY, name="Benchmark Ltd", owner=owner)
    keys, planted = customers(size, seed)
    # The setup writes the rows in bulk (what an import of customers would leave); the
    # IBANs that a twin shares are learned payer IBANs in real books, not bank accounts of
    # two customers (unique per company): the first holder keeps it here.
    rows = Customer.objects.bulk_create(
        (Customer(company=company, code=k.code, name=k.name, tax_id=k.tax_id,
                  country=k.country, currency="EUR") for k in keys), batch_size=5000)
    ids = {r.code: r.pk for r in rows}
    taken: set[str] = set()
    accounts = []
    for k in keys:
        for iban in k.ibans:
            if iban not in taken:
                taken.add(iban)
                accounts.append(BankAccount(company=company, customer_id=ids[k.code],
                                            iban=iban, holder=k.name))
    BankAccount.objects.bulk_create(accounts, batch_size=5000)
    if db == "postgresql":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    answer, seconds, cpu, peak = cli("customer", "duplicates", "--company", COMPANY)
    found = {(p["a"], p["b"]) for p in answer}
    iban_planted = {(a, b) for a, b in planted if b.startswith("I")}
    return {"benchmark": "duplicates_cli", "size": size, "customers": len(keys),
            "planted": len(planted), "recall": recall(found, planted - iban_planted),
            "pairs": len(answer), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(peak, 1), "db": db}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="large")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--pure-only", action="store_true",
                        help="only the comparison in memory, no database")
    parser.add_argument("--results", type=Path, default=HERE / "results",
                        help="directory of the JSON results file (default bench/results)")
    args = parser.parse_args()
    results = [pure(args.size, args.seed)]
    db = "none"
    if not args.pure_only:
        with bench_database(args.database_url) as (_, db):
            results.append(in_database(args.size, args.seed, db))
    stamp = datetime.now(UTC)
    for r in results:
        r.update(machine=machine(), date=stamp.strftime("%Y-%m-%d %H:%M"),
                 load_average=[round(x, 2) for x in os.getloadavg()])
        print(json.dumps(r))
    args.results.mkdir(parents=True, exist_ok=True)
    name = f"duplicates-{args.size}-{db}-{stamp.strftime('%Y%m%dT%H%M%S')}"
    (args.results / f"{name}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
