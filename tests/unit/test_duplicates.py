"""Duplicate customers, the pure rule (domain/duplicates.py): what makes a pair, and the
guards against pairs that only look alike."""

from __future__ import annotations

import random

from salesledger.domain.duplicates import (
    NAME_THRESHOLD,
    CustomerKey,
    duplicate_candidates,
    name_score,
    normalise_name,
    numbers_in,
)


def pairs(customers: list[CustomerKey], **kw: float) -> dict[tuple[str, str], list[str]]:
    by_id = {c.id: c.code for c in customers}
    return {(by_id[c.a], by_id[c.b]): c.reasons for c in duplicate_candidates(customers, **kw)}


def test_legal_forms_case_and_accents_do_not_make_names_different() -> None:
    assert normalise_name("Société Générale S.A.") == normalise_name("SOCIETE GENERALE")
    assert normalise_name("Dupont SARL") == normalise_name("dupont s.a.r.l.") == "dupont"
    assert normalise_name("Müller GmbH & Co. KG") == "muller"
    assert normalise_name("ACME Ltd") == normalise_name("Acme Limited")


def test_a_shared_tax_id_or_iban_makes_a_pair_whatever_the_names() -> None:
    customers = [
        CustomerKey(1, "C1", "Dupont et Fils", tax_id="FR40303265045"),
        CustomerKey(2, "C2", "DPF Distribution", tax_id="FR40303265045"),
        CustomerKey(3, "C3", "Harbour Foods", ibans=("GB33BUKB20201555555555",)),
        CustomerKey(4, "C4", "HF Trading", ibans=("GB33BUKB20201555555555",)),
        CustomerKey(5, "C5", "Someone Else"),
    ]
    found = {c.a: c for c in duplicate_candidates(customers)}
    assert set(found) == {1, 3}
    assert found[1].reasons == ["tax_id"] and found[1].score == 100.0
    assert found[1].shared == {"tax_id": "FR40303265045"}
    assert found[3].b == 4 and found[3].reasons == ["iban"]


def test_close_names_make_a_pair_with_their_score() -> None:
    customers = [
        CustomerKey(1, "C1", "Dupont et Fils SARL", country="FR"),
        CustomerKey(2, "C2", "DUPONT & FILS", country="FR"),
        CustomerKey(3, "C3", "Boulangerie Martin", country="FR"),
        CustomerKey(4, "C4", "Boulangerie Martinn", country="FR"),  # a typo
        CustomerKey(5, "C5", "Fils Dupont", country="FR"),  # word order
    ]
    found = pairs(customers)
    assert found[("C1", "C2")] == ["name"]
    assert found[("C3", "C4")] == ["name"]
    assert found[("C1", "C5")] == ["name"] and found[("C2", "C5")] == ["name"]
    assert len(found) == 4
    best = duplicate_candidates(customers)[0]
    assert best.score == 100.0  # identical once normalised


def test_names_alike_are_not_a_pair_when_guards_say_they_are_two_businesses() -> None:
    customers = [
        # different tax ids: two companies, however alike their names
        CustomerKey(1, "C1", "Garage Central", tax_id="FR40303265045"),
        CustomerKey(2, "C2", "Garage Central SARL", tax_id="FR83404833048"),
        # a number in the name differs
        CustomerKey(3, "C3", "Pharmacie du Lot 12"),
        CustomerKey(4, "C4", "Pharmacie du Lot 13"),
        # different countries
        CustomerKey(5, "C5", "Atlas Trading", country="FR"),
        CustomerKey(6, "C6", "Atlas Trading", country="DE"),
        # merely similar
        CustomerKey(7, "C7", "Martin Plomberie"),
        CustomerKey(8, "C8", "Martin Electricite"),
    ]
    assert pairs(customers) == {}
    # one tax id missing: the names decide
    customers[1] = CustomerKey(2, "C2", "Garage Central SARL")
    assert pairs(customers) == {("C1", "C2"): ["name"]}


def test_blocking_finds_the_same_pairs_as_comparing_every_pair() -> None:
    rng = random.Random(14)
    words = ["alpha", "boreal", "cobalt", "delta", "ember", "fjord", "garnet", "harbor",
             "indigo", "jasper", "kestrel", "lumen", "meridian", "nimbus", "onyx", "prairie"]
    forms = ["", " SARL", " GmbH", " Ltd", " SA"]
    customers = []
    for n in range(400):
        name = " ".join(rng.sample(words, 2)) + f" {rng.choice(words)[:3]}x{n % 37}"
        customers.append(CustomerKey(n, f"C{n:04d}", name.title() + rng.choice(forms)))
    for n in range(0, 400, 25):  # a duplicate with a typo and another legal form
        c = customers[n]
        typo = c.name[:3] + c.name[4:] if len(c.name) > 8 else c.name
        customers.append(CustomerKey(1000 + n, f"D{n:04d}", typo.upper() + " SAS"))
    blocked = set(pairs(customers))
    # every pair compared, without blocking: what blocking may miss, and never adds
    norms = {c.id: normalise_name(c.name) for c in customers}
    everything = {tuple(sorted((x.code, y.code)))
                  for i, x in enumerate(customers) for y in customers[i + 1:]
                  if numbers_in(norms[x.id]) == numbers_in(norms[y.id])
                  and name_score(norms[x.id], norms[y.id]) >= NAME_THRESHOLD}
    assert blocked <= everything
    assert len(blocked) >= 0.9 * len(everything)
    planted = {(f"C{n:04d}", f"D{n:04d}") for n in range(0, 400, 25)}
    assert len(planted & blocked) >= len(planted) - 1
