"""``template list|show|set|reset|preview``: the company's document layouts and e-mail texts
(docs/design/documents.md). Parsing and rendering only."""

from __future__ import annotations

import argparse
import sys

from salesledger.domain.errors import ValidationFailed

from .common import Subparsers, actor_of, add_command, add_group, company_of
from .files import no_json_to_stdout, read_text, write_output
from .render import emit_json, table


def cmd_template_list(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.selectors import template_overrides

    rows = template_overrides(company_of(args))
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no company templates: every document uses the default layout and e-mail text")
    else:
        named = any(r["name"] for r in rows)  # a name column only when a text has one
        table([(r["type"], r["kind"], *([r["name"]] if named else []), r["language"],
                r["size"], r["updated_at"]) for r in rows],
              ["type", "kind", *(["name"] if named else []), "language", "chars", "updated at"])
    return 0


def cmd_template_show(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.selectors import document_template_source, named_message_texts

    company = company_of(args)
    language = args.language or "en"
    _named_message_only(args)
    if args.message:
        texts = named_message_texts(company, args.kind, args.name or "", language)
        subject, body = texts.subject, texts.body
        if args.json:
            emit_json({"source": texts.source, "language": texts.language, "subject": subject,
                       "body": body})
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
    from salesledger.apps.documents.services import document_template_set, message_template_set

    company = company_of(args)
    actor, language = actor_of(args, company), args.language or ""
    _named_message_only(args)
    if args.message:
        if not args.subject or not args.body_file:
            raise ValidationFailed("an e-mail text needs --subject and --body-file")
        message_template_set(actor=actor, company=company, kind=args.kind, language=language,
                             subject=args.subject, body=read_text(args.body_file, "body"),
                             name=args.name or "")
        what = f"e-mail text {args.name}" if args.name else "e-mail text"
    else:
        if not args.file:
            raise ValidationFailed("give the layout with --file FILE (HTML)")
        document_template_set(actor=actor, company=company, kind=args.kind, language=language,
                              html=read_text(args.file, "template"))
        what = "layout"
    if args.json:
        emit_json({"kind": args.kind, "message": args.message, "name": args.name or None,
                   "language": language or None, "set": True})
    else:
        print(f"{args.kind} {what} set for {language or 'every language'}")
    return 0


def cmd_template_reset(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import document_template_reset, message_template_reset

    company = company_of(args)
    _named_message_only(args)
    if args.message:
        done = message_template_reset(actor=actor_of(args, company), company=company,
                                      kind=args.kind, language=args.language or "",
                                      name=args.name or "")
    else:
        done = document_template_reset(actor=actor_of(args, company), company=company,
                                       kind=args.kind, language=args.language or "")
    if args.json:
        emit_json({"kind": args.kind, "message": args.message, "name": args.name or None,
                   "language": args.language or None, "reset": bool(done)})
        return 0
    what = (f"e-mail text {args.name}" if args.name else "e-mail text") if args.message \
        else "layout"
    print(f"{args.kind} {what} for {args.language or 'every language'}: "
          + ("back to the default" if done else "was the default already"))
    return 0


def cmd_template_preview(args: argparse.Namespace) -> int:
    from salesledger.apps.documents.services import check_document_template

    no_json_to_stdout(args, args.output)
    company = company_of(args)
    pdf = check_document_template(company, args.kind, args.language or "",
                                  read_text(args.file, "template"))
    where = write_output(pdf, args.output)
    if args.json:
        emit_json({"kind": args.kind, "file": where, "bytes": len(pdf)})
    elif args.output != "-":
        print(f"the {args.kind} layout renders; sample document written to {where}")
    return 0


def _named_message_only(args: argparse.Namespace) -> None:
    if args.name and not args.message:
        raise ValidationFailed("--name names an e-mail text: give --message too", field="name")


# ---------------------------------------------------------------- registration
KINDS = ["invoice", "credit_note", "quote", "statement", "reminder"]


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "template", "the company's document layouts and e-mail texts")
    add_command(g, common, "list", cmd_template_list,
                "list the layouts and texts the company replaced")
    for name, handler, help_ in (
            ("show", cmd_template_show, "print the layout (or --message text) in effect"),
            ("set", cmd_template_set, "replace a layout (--file) or e-mail text (--message)"),
            ("reset", cmd_template_reset, "go back to the default layout or e-mail text"),
            ("preview", cmd_template_preview, "render a sample document with a layout file")):
        p = add_command(g, common, name, handler, help_)
        p.add_argument("kind", choices=KINDS)
        p.add_argument("--language", help="en, fr, de, es or pt (default: every language)")
        if name in ("show", "set", "reset"):
            p.add_argument("--message", action="store_true", help="the e-mail text")
            p.add_argument("--name", help="with --message: a named text of the kind (the "
                                          "one a dunning level names), not the kind's own")
        if name in ("set", "preview"):
            p.add_argument("--file", help="HTML layout (UTF-8)", required=name == "preview")
        if name == "set":
            p.add_argument("--subject", help="with --message: the subject line")
            p.add_argument("--body-file", help="with --message: the body (UTF-8 text)")
        if name == "preview":
            p.add_argument("--output", "-o", required=True)
