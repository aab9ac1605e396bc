"""``customer add|list|show|update|contact|add-contact|remove-contact|statement|write-off|
export-data|anonymise|review-list|duplicates|merge|unmerge`` and (the collections block at the end)
``customer note|call|timeline``: parsing and rendering only."""

from __future__ import annotations

import argparse
import csv
import re
from typing import Any

from salesledger.domain.errors import ValidationFailed
from salesledger.formats.csv_rows import neutralise_cell
from salesledger.money import major_text

from .common import (
    Subparsers,
    actor_of,
    add_command,
    add_group,
    as_of_day,
    company_of,
    parse_date,
)
from .display import adjustment_json, delivery_json
from .files import no_json_to_stdout, write_output
from .render import emit_json, kv, money, money_text, table


def cmd_customer_add(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import (
        AddressInput,
        BankAccountInput,
        ContactInput,
        CustomerInput,
        customer_create,
    )

    company = company_of(args)
    billing = None
    if args.address:
        billing = AddressInput(
            line1=args.address,
            line2=args.address_line2 or "",
            city=args.city or "",
            postal_code=args.postal_code or "",
            region=args.region or "",
            country=(args.address_country or args.country or company.country),
        )
    data = CustomerInput(
        code=args.code,
        name=args.name,
        currency=args.currency or "",
        legal_name=args.legal_name or "",
        tax_id=args.tax_id or "",
        country=args.country or "",
        language=args.language,
        email=args.email or "",
        terms_code=args.terms or "",
        credit_limit=args.credit_limit or "",
        parent_code=args.parent or "",
        po_required=args.po_required,
        notes=args.notes or "",
        legal_id=args.legal_id or "",
        endpoint=args.endpoint or "",
        mandate_reference=args.mandate or "",
        mandate_signed=(parse_date(args.mandate_signed, "--mandate-signed")
                        if args.mandate_signed else None),
        billing=billing,
        contacts=[
            ContactInput(
                name=args.contact or args.name,
                email=args.email,
                roles=("billing",),
                language=args.language,
            )
        ]
        if args.email
        else [],
        bank_accounts=[BankAccountInput(iban=i, bic=args.bic or "") for i in args.iban or []],
    )
    c = customer_create(actor=actor_of(args, company), company=company, data=data)
    if args.json:
        emit_json({"code": c.code, "id": c.pk})
    else:
        print(f"customer {c.code} added")
    return 0


def cmd_customer_list(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import customer_list

    company = company_of(args)
    rows = customer_list(company, search=args.search, limit=args.limit, offset=args.offset)
    if args.json:
        emit_json(rows)
    else:
        table(
            [(r["code"], r["name"], r["currency"], r["country"], r["terms"]) for r in rows],
            ["code", "name", "currency", "country", "terms"],
        )
    return 0


# The customer fields ``customer update`` changes, as options of the same names.
UPDATABLE = ("name", "legal_name", "tax_id", "country", "language", "email", "phone", "notes",
             "credit_limit", "legal_id", "endpoint", "mandate_reference", "mandate_signed")
# How e-invoices identify a customer, and its direct-debit mandate: the help of each option.
EINVOICE_HELP = {
    "legal_id": "legal registration number (EN 16931 BT-47): a SIREN or SIRET as typed, or "
                "SCHEME:NUMBER with its ISO 6523 scheme (0002 SIREN, 0009 SIRET, 0088 GLN...)",
    "endpoint": "electronic address, e.g. a Peppol participant id (BT-49): SCHEME:ID, e.g. "
                "0009:73282932000074 or 0088:5790000435951",
    "mandate_reference": "SEPA direct-debit mandate reference (BT-89): invoices are then "
                         "collected from the customer's first bank account",
    "mandate_signed": "the day the customer signed the direct-debit mandate (YYYY-MM-DD), "
                      "needed to collect under it",
}
# The address fields, as the options of ``customer add`` and ``customer update`` name them.
ADDRESS_OPTIONS = {"address": "line1", "address_line2": "line2", "postal_code": "postal_code",
                   "city": "city", "region": "region", "address_country": "country"}


def cmd_customer_add_iban(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import BankAccountInput, bank_account_add

    company = company_of(args)
    row = bank_account_add(actor=actor_of(args, company), company=company, code=args.code,
                           account=BankAccountInput(iban=args.iban, bic=args.bic or "",
                                                    holder=args.holder or ""))
    if args.json:
        emit_json({"code": args.code, "iban": row.iban, "bic": row.bic, "holder": row.holder})
    else:
        print(f"customer {args.code}: bank account {row.iban} added")
    return 0


def cmd_customer_remove_iban(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import bank_account_remove

    company = company_of(args)
    iban = bank_account_remove(actor=actor_of(args, company), company=company, code=args.code,
                               iban=args.iban)
    if args.json:
        emit_json({"code": args.code, "removed": iban})
    else:
        print(f"customer {args.code}: bank account {iban} removed")
    return 0


def cmd_customer_update(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from salesledger.apps.customers.services import (
        customer_address_set,
        customer_update,
        customer_verify,
    )

    company = company_of(args)
    actor = actor_of(args, company)
    changes = {field: getattr(args, field) for field in UPDATABLE
               if getattr(args, field) is not None}
    if changes.get("mandate_signed") is not None:
        changes["mandate_signed"] = (parse_date(changes["mandate_signed"], "--mandate-signed")
                                     if changes["mandate_signed"] else None)
    if args.po_required is not None:
        changes["po_required"] = args.po_required
    address = {field: getattr(args, option) for option, field in ADDRESS_OPTIONS.items()
               if getattr(args, option) is not None}
    kind = "shipping" if args.shipping else "billing"
    if not changes and not address and not args.verified:
        raise ValidationFailed("say what to change (see --help), or --verified")
    if changes:
        customer_update(actor=actor, company=company, code=args.code, **changes)
    if address:
        customer_address_set(actor=actor, company=company, code=args.code, kind=kind,
                             **address)
    if args.verified:
        customer_verify(actor=actor, company=company, code=args.code, at=timezone.now())
    what = (sorted(changes) + ([f"{kind} address"] if address else [])
            + (["verified"] if args.verified else []))
    if args.json:
        emit_json({"code": args.code, "changed": what})
    else:
        print(f"customer {args.code} updated: {', '.join(what)}")
    return 0


def cmd_customer_show(args: argparse.Namespace) -> int:
    from salesledger.apps.payments.selectors import customer_account

    company = company_of(args)
    d = customer_account(company, args.code, as_of=as_of_day(args, company))
    if args.json:
        emit_json(d)
        return 0
    kv(
        [
            ("code", d["code"]),
            ("name", d["name"]),
            ("legal name", d["legal_name"]),
            ("tax id", d["tax_id"]),
            *([("registration", d["legal_id"])] if d["legal_id"] else []),
            *([("e-invoice address", d["endpoint"])] if d["endpoint"] else []),
            *([("direct-debit mandate", d["mandate_reference"]
                + (f" signed {d['mandate_signed']}" if d.get("mandate_signed") else ""))]
              if d["mandate_reference"] else []),
            ("country", d["country"]),
            ("language", d["language"]),
            ("currency", d["currency"]),
            ("e-mail", d["email"]),
            ("phone", d["phone"]),
            ("terms", d["terms"]),
            ("credit limit", d["credit_limit"] and d["credit_limit"]["amount"]),
            ("PO required", d["po_required"]),
            ("verified at", d["verified_at"]),
            *([("verified by", d["verified_by"])] if d["verified_by"] else []),
            *([("e-mail doubtful", f"since {d['email_doubtful']['since']:%Y-%m-%d}: "
                                   f"{d['email_doubtful']['reason']}")]
              if d["email_doubtful"] else []),
            *([("merged into", f"{d['merged_into']} since {d['merged_at']:%Y-%m-%d}")]
              if d["merged_into"] else []),
            *([("aliases", ", ".join(d["aliases"]))] if d["aliases"] else []),
            *([("anonymised at", d["anonymised_at"])] if d["anonymised_at"] else []),
            ("parent", d["parent"]),
            ("notes", d["notes"]),
        ]
    )
    for a in d["addresses"]:
        print(f"{a['kind']} address: {a['line1']}, {a['postal_code']} {a['city']}, {a['country']}")
    for c in d["contacts"]:
        doubt = (f" DOUBTFUL since {c['doubtful']['since']:%Y-%m-%d}: {c['doubtful']['reason']}"
                 if c["doubtful"] else "")
        print(f"contact {c['id']}: {c['name']} <{c['email']}> ({c['roles']}){doubt}")
    for b in d["bank_accounts"]:
        print(f"bank account: {b['iban']} {b['bic']}")
    for bal in d["balances"]:
        print(f"balance: {bal['amount']} {bal['currency']}")
    return 0


def cmd_customer_statement(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import customer_statement_send
    from salesledger.apps.documents.services import customer_statement_pdf

    if args.schedule:
        return _statement_schedule(args)
    if not args.code:
        raise ValidationFailed("customer statement: give the customer's code, or --schedule "
                               "set|show|stop|run")
    if args.date_from or args.csv or args.xlsx:
        return _period_statement(args)
    no_json_to_stdout(args, args.output)
    company = company_of(args)
    actor, as_of = actor_of(args, company), as_of_day(args, company)
    if args.email:
        comm = customer_statement_send(actor=actor, company=company, code=args.code,
                                       as_of=as_of, to=args.to)
        if args.json:
            emit_json({"customer": args.code, "as_of": as_of, **delivery_json(comm)})
        else:
            print(f"statement of {args.code} as of {as_of} e-mailed to {comm.recipients}: "
                  f"{comm.status} ({comm.status_detail})")
        return 0
    pdf = customer_statement_pdf(actor=actor, company=company, code=args.code, as_of=as_of)
    output = args.output or f"statement-{args.code}-{as_of.isoformat()}.pdf"
    where = write_output(pdf, output)
    if output != "-":
        if args.json:
            emit_json({"customer": args.code, "as_of": as_of, "file": where, "bytes": len(pdf)})
        else:
            print(f"statement of {args.code} as of {as_of}: wrote {where} ({len(pdf):,} bytes)")
    return 0


def _statement_schedule(args: argparse.Namespace) -> int:
    """``--schedule set|show|stop|run``: statements of account on a schedule, sent by the
    dunning run's machinery (docs/design/dunning.md, "Statements on a schedule")."""
    from salesledger.apps.dunning.statement_selectors import schedule_list
    from salesledger.apps.dunning.statements import (
        statement_run,
        statement_schedule_set,
        statement_schedule_stop,
    )

    company = company_of(args)
    actor, as_of = actor_of(args, company), as_of_day(args, company)
    if args.code and args.schedule != "set":
        raise ValidationFailed(f"--schedule {args.schedule} takes no customer code "
                               f"({args.code}); --customer chooses them with --schedule set")
    if args.schedule == "set":
        if not args.every or args.day is None:
            raise ValidationFailed("--schedule set needs --every monthly|weekly and --day N")
        customers = ([args.code] if args.code else []) + (args.customers or [])
        row = statement_schedule_set(actor=actor, company=company, code=args.name,
                                     every=args.every, day=args.day, customers=customers,
                                     as_of=as_of)
        [info] = [r for r in schedule_list(company) if r["code"] == row.code]
        if args.json:
            emit_json(info)
        else:
            who = info["customers"] if isinstance(info["customers"], str) else ", ".join(
                info["customers"])
            print(f"statement schedule {row.code}: {row.every} on day {row.day}, to {who}, "
                  f"from {row.starts_on}")
        return 0
    if args.schedule == "stop":
        row = statement_schedule_stop(actor=actor, company=company, code=args.name)
        if args.json:
            emit_json({"code": row.code, "active": row.active})
        else:
            print(f"statement schedule {row.code} stopped")
        return 0
    if args.schedule == "show":
        rows = schedule_list(company)
        if args.json:
            emit_json(rows)
        else:
            table([(r["code"], r["every"], r["day"], r["starts_on"],
                    "yes" if r["active"] else "no",
                    r["customers"] if isinstance(r["customers"], str)
                    else ", ".join(r["customers"])) for r in rows],
                  ["schedule", "every", "day", "from", "active", "customers"])
        return 0
    summary = statement_run(actor=actor, company=company, as_of=as_of, send=args.send)
    data = summary.as_dict()
    if args.json:
        emit_json(data)
        return 2 if summary.problems else 0
    for p in data["planned"]:
        print(f"{p['customer']}: statement of {p['period']} ({p['schedule']})")
    for k in data["skipped"]:
        print(f"skipped {k['customer']}: {k['reason']}")
    for p in data["problems"]:
        print(f"{p['customer']}: {p['code']}: {p['message']}")
    if args.send:
        print(f"{summary.customers} statement(s) due on {summary.as_of}: sent "
              f"{summary.messages_sent} message(s)")
    else:
        print(f"{summary.customers} statement(s) due on {summary.as_of} (a preview: --send to "
              "send)")
    return 2 if summary.problems else 0


_DAY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def _period_ends(args: argparse.Namespace) -> tuple[str, list[str]]:
    """With ``--from``, ``--to`` gives the period's last day (a date) and, with ``--email``,
    the addresses to send to instead of the billing contacts (``--to 2026-03-31 --to
    ap@example.com``)."""
    given = args.to or []
    days = [v for v in given if _DAY.fullmatch(v.strip())]
    addresses = [v for v in given if not _DAY.fullmatch(v.strip())]
    if not args.date_from or len(days) != 1:
        raise ValidationFailed("give the period as --from YYYY-MM-DD --to YYYY-MM-DD")
    if addresses and not args.email:
        raise ValidationFailed(f"--to {addresses[0]}: an address is for --email; the period "
                               "ends on the --to that is a date", field="to")
    return days[0], addresses


def _period_statement(args: argparse.Namespace) -> int:
    """``--from``/``--to``: opening balance, movements, closing balance and the aging on the
    last day, as text, JSON, CSV, XLSX, a PDF (``--output``) or e-mailed (``--email``)."""
    from salesledger.apps.reporting.selectors import currencies, period_statement, running

    last, addresses = _period_ends(args)
    company = company_of(args)
    start, end = parse_date(args.date_from, "--from"), parse_date(last, "--to")
    if args.email or args.output:
        if args.csv or args.xlsx:
            raise ValidationFailed("give one of --output, --email, --csv and --xlsx")
        return _period_statement_pdf(args, company, start, end, addresses)
    st, aging = period_statement(company, code=args.code, start=start, end=end)
    curs = currencies(st, company.base_currency)
    rows = running(st)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["date", "type", "document", "currency", "amount", "balance"])
            for cur in curs:
                w.writerow([start, "opening_balance", "", cur, "",
                            major_text(st.opening.get(cur, 0), cur)])
            for m, bal in rows:
                w.writerow([m.date, m.kind, neutralise_cell(m.document), m.currency,
                            major_text(m.amount, m.currency), major_text(bal, m.currency)])
            for cur in curs:
                w.writerow([end, "closing_balance", "", cur, "",
                            major_text(st.closing.get(cur, 0), cur)])
        print(f"statement of {st.customer} from {start} to {end}: wrote {args.csv} "
              f"({len(rows)} movements)")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        write_xlsx(args.xlsx, [Sheet(
            f"{st.customer} {start} to {end}",
            ["date", "type", "document", "currency", "amount", "balance"],
            [*([start, "opening_balance", "", cur, None, Amount(st.opening.get(cur, 0), cur)]
               for cur in curs),
             *([m.date, m.kind, m.document, m.currency, Amount(m.amount, m.currency),
                Amount(bal, m.currency)] for m, bal in rows),
             *([end, "closing_balance", "", cur, None, Amount(st.closing.get(cur, 0), cur)]
               for cur in curs)])])
        print(f"statement of {st.customer} from {start} to {end}: wrote {args.xlsx} "
              f"({len(rows)} movements)")
        return 0
    if args.json:
        per = aging.by_currency or {company.base_currency: [0] * len(aging.buckets)}
        emit_json({
            "customer": st.customer, "name": st.name, "from": start, "to": end,
            "currencies": [{
                "currency": cur,
                "opening": money(st.opening.get(cur, 0), cur),
                "movements": [{"date": m.date, "type": m.kind, "document": m.document,
                               "amount": money(m.amount, cur), "balance": money(bal, cur)}
                              for m, bal in rows if m.currency == cur],
                "closing": money(st.closing.get(cur, 0), cur)} for cur in curs],
            "aging": {"as_of": end, "buckets": [
                {"label": b.label, "from_days": b.from_days, "to_days": b.to_days,
                 "amount": [money(v[k], c) for c, v in sorted(per.items())]}
                for k, b in enumerate(aging.buckets)],
                "total": [money(sum(v), c) for c, v in sorted(per.items())]},
        })
        return 0
    for cur in curs:
        print(f"opening balance {start}: {money_text(st.opening.get(cur, 0), cur)}")
    table([(m.date, m.kind, m.document, money_text(m.amount, m.currency),
            money_text(bal, m.currency)) for m, bal in rows],
          ["date", "type", "document", "amount", "balance"])
    for cur in curs:
        print(f"closing balance {end}: {money_text(st.closing.get(cur, 0), cur)}")
    per = aging.by_currency
    for cur, v in sorted(per.items()):
        print(f"aging on {end} ({cur}): " + ", ".join(
            f"{b.label} {major_text(v[k], cur)}" for k, b in enumerate(aging.buckets)))
    return 0


def _period_statement_pdf(args: argparse.Namespace, company: Any, start: Any, end: Any,
                          addresses: list[str]) -> int:
    """The statement of a period as a PDF in the statement's layout, written or e-mailed."""
    from salesledger.apps.reporting.statement_pdf import statement_pdf, statement_send

    actor = actor_of(args, company)
    if args.email:
        if args.output:
            raise ValidationFailed("give --output or --email, not both")
        st, comm = statement_send(actor=actor, company=company, code=args.code, start=start,
                                  end=end, as_of=as_of_day(args, company),
                                  to=addresses or None)
        if args.json:
            emit_json({"customer": st.customer, "from": start, "to": end,
                       **delivery_json(comm)})
        else:
            print(f"statement of {st.customer} from {start} to {end} e-mailed to "
                  f"{comm.recipients}: {comm.status} ({comm.status_detail})")
        return 0
    no_json_to_stdout(args, args.output)
    st, pdf = statement_pdf(actor=actor, company=company, code=args.code, start=start, end=end)
    where = write_output(pdf, args.output)
    if args.output != "-":
        if args.json:
            emit_json({"customer": st.customer, "from": start, "to": end, "file": where,
                       "bytes": len(pdf), "movements": len(st.movements)})
        else:
            print(f"statement of {st.customer} from {start} to {end}: wrote {where} "
                  f"({len(pdf):,} bytes, {len(st.movements)} movements)")
    return 0


def cmd_customer_write_off(args: argparse.Namespace) -> int:
    from salesledger.apps.invoicing.selectors import invoice_numbers
    from salesledger.apps.payments.adjustments.bad_debts import customer_write_off

    company = company_of(args)
    rows = customer_write_off(actor=actor_of(args, company), company=company, code=args.code,
                              day=as_of_day(args, company), reason=args.reason,
                              apply_credits=not args.keep_credits, tax_relief=args.tax_relief)
    numbers = invoice_numbers(company, {a.invoice_id for a in rows})
    if args.json:
        emit_json([{**adjustment_json(a), "invoice": numbers[a.invoice_id]} for a in rows])
    else:
        table([(a.pk, numbers[a.invoice_id], money_text(a.amount, a.currency)) for a in rows],
              ["adjustment", "invoice", "written off"])
    return 0


def cmd_customer_export_data(args: argparse.Namespace) -> int:
    from salesledger.apps.interchange.personal_data import customer_data_export

    no_json_to_stdout(args, args.output)
    company = company_of(args)
    archive = args.format == "zip"
    data, counts = customer_data_export(actor=actor_of(args, company), company=company,
                                        code=args.code, archive=archive)
    output = args.output or f"customer-{args.code}-data.{args.format}"
    where = write_output(data, output)
    if output == "-":
        return 0
    if args.json:
        emit_json({"customer": args.code, "file": where, "bytes": len(data), **counts})
        return 0
    held = ", ".join(_count(n, what.replace("_", " ")) for what, n in counts.items() if n)
    print(f"data of customer {args.code}: wrote {where} ({len(data):,} bytes): {held}")
    return 0


def cmd_customer_anonymise(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.personal_data import customer_anonymise

    if not args.confirm:
        raise ValidationFailed(f"anonymising erases the personal data of customer {args.code} "
                               "for good: run again with --confirm", field="confirm")
    company = company_of(args)
    done = customer_anonymise(actor=actor_of(args, company), company=company, code=args.code,
                              as_of=as_of_day(args, company))
    if args.json:
        emit_json({"customer": done.code, "anonymised_at": done.anonymised_at,
                   "already": done.already, "removed": {
                       "contacts": done.contacts, "addresses": done.addresses,
                       "bank_accounts": done.bank_accounts},
                   "communications_erased": done.communications})
    elif done.already:
        print(f"customer {done.code} was already anonymised on "
              f"{done.anonymised_at:%Y-%m-%d}: nothing to do")
    else:
        print(f"customer {done.code} anonymised: {_count(done.contacts, 'contacts')}, "
              f"{_count(done.addresses, 'addresses')} and "
              f"{_count(done.bank_accounts, 'bank accounts')} removed, "
              f"{_count(done.communications, 'communications')} erased; issued documents "
              "are kept")
    return 0


def cmd_customer_contact(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import ContactInput, contact_update

    company = company_of(args)
    roles = _roles(args.roles)
    row = contact_update(actor=actor_of(args, company), company=company, code=args.code,
                         email=args.email or "", contact_id=args.id, changes=ContactInput(
                             name=args.name or "", email=args.new_email or "",
                             phone=args.phone or "", roles=roles,
                             language=args.language or ""))
    if args.json:
        emit_json({"customer": args.code, "name": row.name, "email": row.email,
                   "phone": row.phone, "roles": row.roles, "doubtful": False})
    else:
        print(f"contact {row.name} <{row.email}> of {args.code} updated; its address is "
              "trusted again")
    return 0


def _roles(text: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in (text or "").split(",") if r.strip())


def cmd_customer_add_contact(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import ContactInput, contact_add

    company = company_of(args)
    row = contact_add(actor=actor_of(args, company), company=company, code=args.code,
                      contact=ContactInput(name=args.name, email=args.email or "",
                                           phone=args.phone or "",
                                           roles=_roles(args.roles) or ("billing",),
                                           language=args.language or ""))
    if args.json:
        emit_json({"customer": args.code, "name": row.name, "email": row.email,
                   "phone": row.phone, "roles": row.roles, "language": row.language})
    else:
        print(f"contact {row.name} <{row.email}> added to {args.code}")
    return 0


def cmd_customer_remove_contact(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.services import contact_remove

    company = company_of(args)
    before = contact_remove(actor=actor_of(args, company), company=company, code=args.code,
                            email=args.email or "", contact_id=args.id)
    if args.json:
        emit_json({"customer": args.code, "removed": before})
    else:
        print(f"contact {before['name']} <{before['email']}> removed from {args.code}")
    return 0


def cmd_customer_review_list(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.selectors import review_list

    company = company_of(args)
    as_of = as_of_day(args, company)
    rows = review_list(company, as_of=as_of, limit=args.limit)
    if args.json:
        emit_json({"as_of": as_of, "review_days": company.record_review_days,
                   "customers": rows})
        return 0
    print(f"records to review on {as_of} (not confirmed in {company.record_review_days} "
          "days, or a doubtful e-mail address):")
    table([(r["code"], r["name"], r["verified_at"] and f"{r['verified_at']:%Y-%m-%d}",
            r["verified_by"] or "", "; ".join(r["reasons"])) for r in rows],
          ["code", "name", "confirmed", "by", "why"])
    return 0


def cmd_customer_duplicates(args: argparse.Namespace) -> int:
    from salesledger.apps.banking.selectors import payer_ibans
    from salesledger.apps.customers.selectors import duplicate_customers

    company = company_of(args)
    if args.min_score is not None and not 0 <= args.min_score <= 100:
        raise ValidationFailed("--min-score is a score from 0 to 100", field="min_score")
    rows = duplicate_customers(company, payer_ibans=payer_ibans(company),
                               threshold=args.min_score)
    if args.json:
        emit_json(rows)
        return 0
    table([(r["a"], r["a_name"], r["b"], r["b_name"], f"{r['score']:.1f}",
            ", ".join(r["reasons"])) for r in rows],
          ["customer", "name", "may be", "name", "score", "why"])
    return 0


def cmd_customer_merge(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.merge import customer_merge

    company = company_of(args)
    done = customer_merge(actor=actor_of(args, company), company=company, alias=args.alias,
                          survivor=args.survivor, reason=args.reason or "")
    if args.json:
        emit_json({"alias": done.alias, "survivor": done.survivor, "merged_at": done.at,
                   "reason": done.reason})
    else:
        print(f"customer {done.alias} merged into {done.survivor}: its balance, open items "
              f"and reports are {done.survivor}'s now, and new documents for it go to "
              f"{done.survivor}; its posted documents stay as issued")
    return 0


def cmd_customer_unmerge(args: argparse.Namespace) -> int:
    from salesledger.apps.customers.merge import customer_unmerge

    company = company_of(args)
    done = customer_unmerge(actor=actor_of(args, company), company=company, code=args.code,
                            reason=args.reason or "")
    if args.json:
        emit_json({"customer": done.alias, "was_merged_into": done.survivor,
                   "reason": done.reason})
    else:
        print(f"customer {done.alias} is no longer merged into {done.survivor}")
    return 0


def _count(n: int, plural: str) -> str:
    """``1 contact``, ``2 contacts``, ``1 address``, ``0 audit events``."""
    if n == 1:
        plural = plural[:-2] if plural.endswith("sses") else plural[:-1]
    return f"{n} {plural}"


# ---------------------------------------------------------------- registration
def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "customer", "customers")
    p = add_command(g, common, "add", cmd_customer_add, "add a customer")
    p.add_argument("--code", required=True)
    p.add_argument("--name", required=True)
    for opt in (
        "--legal-name",
        "--tax-id",
        "--country",
        "--currency",
        "--terms",
        "--credit-limit",
        "--parent",
        "--email",
        "--contact",
        "--notes",
        "--address",
        "--address-line2",
        "--city",
        "--postal-code",
        "--region",
        "--address-country",
        "--bic",
    ):
        p.add_argument(opt)
    p.add_argument("--legal-id", help=EINVOICE_HELP["legal_id"])
    p.add_argument("--endpoint", help=EINVOICE_HELP["endpoint"])
    p.add_argument("--mandate", help=EINVOICE_HELP["mandate_reference"])
    p.add_argument("--mandate-signed", metavar="YYYY-MM-DD", help=EINVOICE_HELP["mandate_signed"])
    p.add_argument("--language", default="en")
    p.add_argument("--iban", action="append")
    p.add_argument("--po-required", action="store_true")
    p = add_command(g, common, "list", cmd_customer_list, "list customers")
    p.add_argument("--search")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p = add_command(g, common, "show", cmd_customer_show, "show a customer")
    p.add_argument("code")
    p = add_command(g, common, "update", cmd_customer_update,
                    "change a customer's details (only the options given), or confirm them")
    p.add_argument("code")
    for field in UPDATABLE:
        p.add_argument("--" + ("mandate" if field == "mandate_reference"
                               else field.replace("_", "-")), dest=field,
                       help=EINVOICE_HELP.get(field, "empty text clears it"
                                              if field in ("credit_limit", "notes") else None))
    p.add_argument("--po-required", dest="po_required", action="store_true", default=None)
    p.add_argument("--no-po-required", dest="po_required", action="store_false")
    for option, field in ADDRESS_OPTIONS.items():
        p.add_argument("--" + option.replace("_", "-"), dest=option,
                       help=f"the billing (or --shipping) address's {field}")
    p.add_argument("--shipping", action="store_true",
                   help="the address options change the shipping address, not the billing one")
    p.add_argument("--verified", action="store_true",
                   help="record that the record was confirmed accurate now")
    p = add_command(g, common, "add-iban", cmd_customer_add_iban,
                    "add a bank account the customer pays from (or is debited from)")
    p.add_argument("code")
    p.add_argument("iban")
    p.add_argument("--bic")
    p.add_argument("--holder", help="the account holder (default the customer's name)")
    p = add_command(g, common, "remove-iban", cmd_customer_remove_iban,
                    "remove a bank account that is not the customer's (any more); a payer "
                    "IBAN the bank matcher learned for it is forgotten too")
    p.add_argument("code")
    p.add_argument("iban")
    p = add_command(g, common, "statement", cmd_customer_statement,
                    "a customer's statement of account on --as-of (PDF or e-mail), or for "
                    "a period (--from/--to: text, --json, --csv, --xlsx, a PDF with --output "
                    "or e-mailed with --email); --schedule: "
                    "statements sent on a schedule")
    p.add_argument("code", nargs="?")
    p.add_argument("--schedule", choices=["set", "show", "stop", "run"],
                   help="set, show or stop a schedule of statements (--every, --day, "
                        "--customer, --name), or run the statements due on --as-of")
    p.add_argument("--name", default="STATEMENTS",
                   help="with --schedule: the schedule's code (default STATEMENTS)")
    p.add_argument("--every", choices=["monthly", "weekly"],
                   help="with --schedule set: every month or every week")
    p.add_argument("--day", type=int,
                   help="with --schedule set: day of the month (31: the last) or of the "
                        "week (1: Monday)")
    p.add_argument("--customer", dest="customers", action="append", metavar="CODE",
                   help="with --schedule set: send to this customer (repeat; default: every "
                        "customer with a balance)")
    sx = p.add_mutually_exclusive_group()
    sx.add_argument("--dry-run", action="store_true",
                    help="with --schedule run: preview only (the default)")
    sx.add_argument("--send", action="store_true", help="with --schedule run: write and send")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                   help="first day of a period: opening balance, movements, closing balance")
    p.add_argument("--csv", metavar="FILE", help="with --from/--to: write CSV to FILE")
    p.add_argument("--xlsx", metavar="FILE",
                   help="with --from/--to: write an Excel workbook to FILE")
    p.add_argument("--output", "-o", help="file to write (default statement-CODE-DATE.pdf)")
    p.add_argument("--email", action="store_true", help="e-mail it instead of writing a file")
    p.add_argument("--to", action="append", metavar="ADDRESS|YYYY-MM-DD",
                   help="with --email: send to this address instead; with --from: the last "
                        "day of the period (a date; repeat --to for addresses)")
    p = add_command(g, common, "write-off", cmd_customer_write_off,
                    "write off all a customer owes as bad debts")
    p.add_argument("code")
    p.add_argument("--reason", required=True)
    p.add_argument("--keep-credits", action="store_true",
                   help="do not apply open credit notes and payments first")
    p.add_argument("--tax-relief", action="store_true")
    p = add_command(g, common, "export-data", cmd_customer_export_data,
                    "everything held about a customer in one file (a zip with the frozen "
                    "documents, or JSON); manager or owner")
    p.add_argument("code")
    p.add_argument("--format", choices=["zip", "json"], default="zip")
    p.add_argument("--output", "-o",
                   help="file to write (default customer-CODE-data.zip or .json; - for "
                        "standard output)")
    p = add_command(g, common, "anonymise", cmd_customer_anonymise,
                    "erase a customer's personal data for good, keeping issued documents; "
                    "manager or owner")
    p.add_argument("code")
    p.add_argument("--confirm", action="store_true",
                   help="required: the erasure cannot be undone")
    p = add_command(g, common, "contact", cmd_customer_contact,
                    "change the contact with e-mail address EMAIL, or --id (only the options "
                    "given); a doubtful address is trusted again")
    p.add_argument("code")
    p.add_argument("email", metavar="EMAIL", nargs="?", default="")
    p.add_argument("--id", type=int, help="the contact's id (customer show lists it): for a "
                                          "contact without an e-mail address")
    p.add_argument("--name")
    p.add_argument("--new-email", help="the contact's new e-mail address")
    p.add_argument("--phone")
    p.add_argument("--roles", help="comma-separated: billing, payables, sales")
    p.add_argument("--language")
    p = add_command(g, common, "add-contact", cmd_customer_add_contact,
                    "add a contact to the customer (beyond the one customer add makes)")
    p.add_argument("code")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--roles", help="comma-separated: billing, payables, sales (default "
                                   "billing)")
    p.add_argument("--language")
    p = add_command(g, common, "remove-contact", cmd_customer_remove_contact,
                    "remove the contact with e-mail address EMAIL, or --id (audited with "
                    "what it held)")
    p.add_argument("code")
    p.add_argument("email", metavar="EMAIL", nargs="?", default="")
    p.add_argument("--id", type=int, help="the contact's id (customer show lists it): for a "
                                          "contact without an e-mail address")
    p = add_command(g, common, "review-list", cmd_customer_review_list,
                    "customers whose record was not confirmed within the company's review "
                    "period (company set --review-days), or with a doubtful e-mail address")
    p.add_argument("--limit", type=int)
    p = add_command(g, common, "duplicates", cmd_customer_duplicates,
                    "pairs of customers that may be one: same tax id, same IBAN, close names")
    p.add_argument("--min-score", type=float,
                   help="the lowest name score (0-100) that makes a pair (default 88)")
    p = add_command(g, common, "merge", cmd_customer_merge,
                    "make customer FROM an alias of INTO: balances, reports and new documents "
                    "follow INTO, posted documents stay as issued; manager or owner")
    p.add_argument("alias", metavar="FROM")
    p.add_argument("survivor", metavar="INTO")
    p.add_argument("--reason")
    p = add_command(g, common, "unmerge", cmd_customer_unmerge,
                    "undo the merge of an alias: a customer of its own again; manager or owner")
    p.add_argument("code")
    p.add_argument("--reason")
    _register_timeline(g, common)


# ---------------------------------------------------------------- the timeline (collections)
# ``customer note|call|timeline``: the exchanges with a customer and the collections casework
# in one order (docs/design/collections.md); written and read by the collections app.
def cmd_customer_note(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import customer_note_add, reply_handle

    company = company_of(args)
    actor, day = actor_of(args, company), as_of_day(args, company)
    if args.handled is not None:
        if args.text or args.inbound_reply:
            raise ValidationFailed("--handled ID marks a reply handled: give no text with it")
        reply = reply_handle(actor=actor, company=company, communication_id=args.handled,
                             day=day)
        if args.json:
            emit_json({"id": args.handled, "customer": reply.customer.code, "kind": "reply",
                       "status": "handled", "handled_on": reply.handled_on})
        else:
            print(f"reply {args.handled} of {reply.customer.code} handled on "
                  f"{reply.handled_on}: reminders may resume")
        return 0
    if args.code is None or not args.text:
        raise ValidationFailed("give the customer and the note: customer note CODE TEXT")
    comm = customer_note_add(actor=actor, company=company, customer=args.code, day=day,
                             text=args.text, invoice=args.invoice or "",
                             inbound_reply=args.inbound_reply)
    kind = "reply" if args.inbound_reply else "note"
    if args.json:
        emit_json({"id": comm.pk, "customer": args.code, "kind": kind, "day": day,
                   "invoice": args.invoice or None, "status": comm.status})
    elif args.inbound_reply:
        print(f"reply {comm.pk} from {args.code} recorded: reminders to {args.code} wait "
              f"until it is handled (customer note --handled {comm.pk})")
    else:
        print(f"note {comm.pk} added to {args.code}'s timeline")
    return 0


def cmd_customer_call(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.services import customer_call_log

    company = company_of(args)
    day = as_of_day(args, company)
    comm = customer_call_log(actor=actor_of(args, company), company=company,
                             customer=args.code, day=day, outcome=args.outcome,
                             notes=args.notes or "", invoice=args.invoice or "")
    if args.json:
        emit_json({"id": comm.pk, "customer": args.code, "kind": "call", "day": day,
                   "outcome": comm.status, "invoice": args.invoice or None,
                   "notes": comm.body})
    else:
        print(f"call {comm.pk} to {args.code} logged: {comm.status.replace('_', ' ')}")
    return 0


def cmd_customer_timeline(args: argparse.Namespace) -> int:
    from salesledger.apps.collections.selectors import customer_timeline

    company = company_of(args)
    rows = customer_timeline(company, args.code, as_of=as_of_day(args, company),
                             invoice=args.invoice or "")
    if args.json:
        emit_json([{"day": e.day, "at": e.at, "kind": e.kind, "summary": e.summary,
                    "status": e.status, "invoice": e.invoice or None, "id": e.ref}
                   for e in rows])
    else:
        table([(e.day, e.kind, e.invoice, e.status, e.summary[:70]) for e in rows],
              ["day", "what", "invoice", "status", "summary"])
    return 0


def _register_timeline(g: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(g, common, "note", cmd_customer_note,
                    "add a note to a customer's timeline, record an inbound reply to a "
                    "reminder (dunning waits until it is handled), or mark one handled")
    p.add_argument("code", nargs="?", help="customer code")
    p.add_argument("text", nargs="?", help="the note")
    p.add_argument("--invoice", metavar="NUMBER", help="the invoice it concerns")
    p.add_argument("--inbound-reply", action="store_true",
                   help="the customer answered a reminder: pause reminders until handled")
    p.add_argument("--handled", type=int, metavar="ID",
                   help="the reply ID has been dealt with: reminders may resume")
    p = add_command(g, common, "call", cmd_customer_call, "log a call to a customer")
    p.add_argument("code", help="customer code")
    p.add_argument("--outcome", required=True,
                   help="reached, no_answer, voicemail, wrong_number, promised or refused")
    p.add_argument("--notes")
    p.add_argument("--invoice", metavar="NUMBER")
    p = add_command(g, common, "timeline", cmd_customer_timeline,
                    "every e-mail, letter, call, note, dispute, promise and plan event, in order")
    p.add_argument("code", help="customer code")
    p.add_argument("--invoice", metavar="NUMBER", help="only what concerns this invoice")
