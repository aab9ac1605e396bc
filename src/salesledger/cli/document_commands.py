"""The document and delivery sub-commands: ``invoice pdf|send``, ``customer statement``,
``company set|show`` and ``template ...`` (registered from ``commands.register``).
Argument parsing and rendering only."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .commands import Sub, _actor, _as_of, _cmd, _company, _group
from .render import emit_json, kv, table


def _no_json_to_stdout(args: argparse.Namespace, output: str | None) -> None:
    """A file written to standard output leaves no room there for the JSON answer."""
    if args.json and output == "-":
        raise ValidationFailed("--json prints its answer on standard output: write the file "
                               "elsewhere (--output FILE)", field="output")


def _write(data: bytes, output: str) -> str:
    """Write ``data`` to ``output`` (``-``: standard output); returns where it went."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "standard output"
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {output}: {exc.strerror or exc}",
                               field="output") from None
    return output


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {what} {path}: {exc.strerror or exc}",
                               field=what) from None


def _read_text(path: str, what: str) -> str:
    try:
        return _read(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{what} {path} is not UTF-8 text", field=what) from None


# ---------------------------------------------------------------- invoices
def cmd_invoice_pdf(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import invoice_pdf_file
    from salesledger.apps.invoicing.selectors import invoice_get

    _no_json_to_stdout(args, args.output)
    company = _company(args)
    invoice = invoice_get(company, args.number)
    stored = invoice_pdf_file(actor=_actor(args, company), company=company, invoice=invoice)
    where = _write(bytes(stored.content), args.output or f"{invoice.number}.pdf")
    if args.output != "-":
        info = {"number": invoice.number, "file": where, "bytes": len(stored.content),
                "sha256": stored.sha256}
        if args.json:
            emit_json(info)
        else:
            print(f"{invoice.number}: wrote {where} ({len(stored.content):,} bytes, "
                  f"sha256 {stored.sha256})")
    return 0


def _delivery(comm: Any) -> dict[str, Any]:
    return {"recipients": comm.recipients, "message_id": comm.message_id,
            "status": comm.status, "detail": comm.status_detail}


def cmd_invoice_send(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import invoice_send

    company = _company(args)
    comm = invoice_send(actor=_actor(args, company), company=company, number=args.number,
                        to=args.to, attach=args.attach, as_of=_as_of(args, company))
    if args.json:
        emit_json({"number": args.number, **_delivery(comm)})
    else:
        print(f"{args.number} e-mailed to {comm.recipients}: {comm.status} "
              f"({comm.status_detail}); message id {comm.message_id}")
    return 0


# ---------------------------------------------------------------- statements
def cmd_customer_statement(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.delivery import customer_statement_send
    from salesledger.apps.documents.services import customer_statement_pdf

    _no_json_to_stdout(args, args.output)
    company = _company(args)
    actor, as_of = _actor(args, company), _as_of(args, company)
    if args.email:
        comm = customer_statement_send(actor=actor, company=company, code=args.code,
                                       as_of=as_of, to=args.to)
        if args.json:
            emit_json({"customer": args.code, "as_of": as_of, **_delivery(comm)})
        else:
            print(f"statement of {args.code} as of {as_of} e-mailed to {comm.recipients}: "
                  f"{comm.status} ({comm.status_detail})")
        return 0
    pdf = customer_statement_pdf(actor=actor, company=company, code=args.code, as_of=as_of)
    output = args.output or f"statement-{args.code}-{as_of.isoformat()}.pdf"
    where = _write(pdf, output)
    if output != "-":
        if args.json:
            emit_json({"customer": args.code, "as_of": as_of, "file": where, "bytes": len(pdf)})
        else:
            print(f"statement of {args.code} as of {as_of}: wrote {where} ({len(pdf):,} bytes)")
    return 0


# ---------------------------------------------------------------- company profile
_PROFILE_OPTIONS = {
    "name": "name", "legal_name": "legal_name", "tax_id": "tax_id",
    "registration_id": "registration_id", "address_line1": "address_line1",
    "address_line2": "address_line2", "postal_code": "postal_code", "city": "city",
    "country": "country", "email": "email", "phone": "phone", "website": "website",
    "iban": "iban", "bic": "bic", "brand_color": "brand_color", "footer": "document_footer",
    "legal_mentions": "legal_mentions", "future_date_horizon": "future_date_horizon_days",
}
_PROFILE_HELP = {"future_date_horizon": "DAYS after today beyond which a new document is "
                                        "refused unless posted with --allow-future-date "
                                        "(default 365)"}


def cmd_company_set(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_profile_update

    company = _company(args)
    fields: dict[str, Any] = {field: getattr(args, option)
                              for option, field in _PROFILE_OPTIONS.items()
                              if getattr(args, option) is not None}
    if args.logo and args.remove_logo:
        raise ValidationFailed("give --logo FILE or --remove-logo, not both", field="logo")
    if args.logo:
        fields["logo"] = _read(args.logo, "logo")
    elif args.remove_logo:
        fields["logo"] = None
    if not fields:
        raise ValidationFailed("nothing to change: give at least one option (see --help)")
    company = company_profile_update(actor=_actor(args, company), company=company, **fields)
    if args.json:
        return _show_profile(args, company)
    print(f"company {company.code} updated: {', '.join(sorted(fields))}")
    return 0


def cmd_company_show(args: argparse.Namespace) -> int:
    return _show_profile(args, _company(args))


def _show_profile(args: argparse.Namespace, company: Any) -> int:
    from salesledger.apps.documents.selectors import company_profile

    profile = company_profile(company)
    if args.json:
        emit_json(profile)
    else:
        kv([(k.replace("_", " "), v) for k, v in profile.items()])
    return 0


# ---------------------------------------------------------------- templates
def cmd_template_list(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.selectors import template_overrides

    rows = template_overrides(_company(args))
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no company templates: every document uses the default layout and e-mail text")
    else:
        table([(r["type"], r["kind"], r["language"], r["size"], r["updated_at"]) for r in rows],
              ["type", "kind", "language", "chars", "updated at"])
    return 0


def cmd_template_show(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.selectors import document_template_source, message_texts

    company = _company(args)
    language = args.language or "en"
    if args.message:
        subject, body, source = message_texts(company, args.kind, language)
        if args.json:
            emit_json({"source": source, "subject": subject, "body": body})
        else:
            print(f"Subject: {subject}\n\n{body}")
        return 0
    html, source = document_template_source(company, args.kind, language)
    if args.json:
        emit_json({"source": source, "html": html})
    else:
        sys.stdout.write(html)
    return 0


def cmd_template_set(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import (
        document_template_set,
        message_template_set,
    )

    company = _company(args)
    actor, language = _actor(args, company), args.language or ""
    if args.message:
        if not args.subject or not args.body_file:
            raise ValidationFailed("an e-mail text needs --subject and --body-file")
        message_template_set(actor=actor, company=company, kind=args.kind, language=language,
                             subject=args.subject, body=_read_text(args.body_file, "body"))
        what = "e-mail text"
    else:
        if not args.file:
            raise ValidationFailed("give the layout with --file FILE (HTML)")
        document_template_set(actor=actor, company=company, kind=args.kind, language=language,
                              html=_read_text(args.file, "template"))
        what = "layout"
    if args.json:
        emit_json({"kind": args.kind, "message": args.message, "language": language or None,
                   "set": True})
    else:
        print(f"{args.kind} {what} set for {language or 'every language'}")
    return 0


def cmd_template_reset(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import (
        document_template_reset,
        message_template_reset,
    )

    company = _company(args)
    reset = message_template_reset if args.message else document_template_reset
    done = reset(actor=_actor(args, company), company=company, kind=args.kind,
                 language=args.language or "")
    if args.json:
        emit_json({"kind": args.kind, "message": args.message,
                   "language": args.language or None, "reset": bool(done)})
        return 0
    what = "e-mail text" if args.message else "layout"
    print(f"{args.kind} {what} for {args.language or 'every language'}: "
          + ("back to the default" if done else "was the default already"))
    return 0


def cmd_template_preview(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import check_document_template

    _no_json_to_stdout(args, args.output)
    company = _company(args)
    pdf = check_document_template(company, args.kind, args.language or "",
                                  _read_text(args.file, "template"))
    where = _write(pdf, args.output)
    if args.json:
        emit_json({"kind": args.kind, "file": where, "bytes": len(pdf)})
    elif args.output != "-":
        print(f"the {args.kind} layout renders; sample document written to {where}")
    return 0


# ---------------------------------------------------------------- registration
KINDS = ["invoice", "credit_note", "quote", "statement"]
ATTACH_HELP = "files to attach, comma-separated: pdf, ubl, cii, facturx (default pdf)"


def register_invoice_extras(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "pdf", cmd_invoice_pdf,
             "write the PDF of a posted invoice or credit note (frozen when first made)")
    p.add_argument("number")
    p.add_argument("--output", "-o", help="file to write (default NUMBER.pdf; - for stdout)")
    p = _cmd(g, common, "send", cmd_invoice_send,
             "e-mail a posted invoice or credit note to the customer's billing contacts")
    p.add_argument("number")
    p.add_argument("--to", action="append", metavar="ADDRESS",
                   help="send to this address instead (repeat for several)")
    p.add_argument("--attach", default="pdf", help=ATTACH_HELP)


def register_customer_extras(g: Sub, common: argparse.ArgumentParser) -> None:
    p = _cmd(g, common, "statement", cmd_customer_statement,
             "a customer's statement of account on --as-of (PDF or e-mail)")
    p.add_argument("code")
    p.add_argument("--output", "-o", help="file to write (default statement-CODE-DATE.pdf)")
    p.add_argument("--email", action="store_true", help="e-mail it instead of writing a file")
    p.add_argument("--to", action="append", metavar="ADDRESS",
                   help="with --email: send to this address instead")


def register(sub: Sub, common: argparse.ArgumentParser) -> None:
    g = _group(sub, "company", "the company's profile: what documents print about it")
    p = _cmd(g, common, "set", cmd_company_set,
             "change seller details, bank account, branding and texts of documents")
    for option in _PROFILE_OPTIONS:
        p.add_argument("--" + option.replace("_", "-"), help=_PROFILE_HELP.get(option))
    p.add_argument("--logo", metavar="FILE", help="PNG, JPEG or SVG, at most 1 MB")
    p.add_argument("--remove-logo", action="store_true")
    _cmd(g, common, "show", cmd_company_show, "show the company's profile")

    g = _group(sub, "template", "the company's document layouts and e-mail texts")
    _cmd(g, common, "list", cmd_template_list, "list the layouts and texts the company replaced")
    for name, handler, help_ in (
            ("show", cmd_template_show, "print the layout (or --message text) in effect"),
            ("set", cmd_template_set, "replace a layout (--file) or e-mail text (--message)"),
            ("reset", cmd_template_reset, "go back to the default layout or e-mail text"),
            ("preview", cmd_template_preview, "render a sample document with a layout file")):
        p = _cmd(g, common, name, handler, help_)
        p.add_argument("kind", choices=KINDS)
        p.add_argument("--language", help="en, fr, de, es or pt (default: every language)")
        if name in ("show", "set", "reset"):
            p.add_argument("--message", action="store_true", help="the e-mail text")
        if name in ("set", "preview"):
            p.add_argument("--file", help="HTML layout (UTF-8)", required=name == "preview")
        if name == "set":
            p.add_argument("--subject", help="with --message: the subject line")
            p.add_argument("--body-file", help="with --message: the body (UTF-8 text)")
        if name == "preview":
            p.add_argument("--output", "-o", required=True)
