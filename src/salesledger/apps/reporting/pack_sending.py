"""The monthly receivables pack on a schedule, e-mailed to chosen users
(docs/design/reporting.md, "The pack on a schedule").

One writer for every path: ``report pack --schedule set|stop`` and the settings page set the
schedule through ``pack_schedule_set``/``pack_schedule_stop``; the worker's task, ``report
pack --schedule run --send`` and ``report pack --month M --send`` all send through
``pack_send``, so a month's pack leaves once whoever asks.

read -> write -> send, as the statements on a schedule (``dunning/statements.py``):
1. Read: the schedule, the month due on the day (``domain/pack_schedule.py``) and what was
   sent for it.
2. Write: the pack is rendered first (nothing written while it is), then kept in a
   ``PackSending`` row of status ``planned``, unique per company and month, audited, in one
   transaction. A second run that loses the race for the row sends nothing.
3. Send: the row is marked ``queued`` (audited) and committed, the e-mail with the PDF
   attached goes to the mail server, and its answer is recorded (audited). A run killed
   after the row was planned sends it when resumed; one killed while the mail server had it
   (``queued``) is never sent again and is reported as ``outcome_unknown``: a duplicate is
   worse than a question.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Membership, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.documents.delivery import Attachment, Outgoing, message_origin, send_now
from salesledger.domain.errors import NotFound, ValidationFailed
from salesledger.domain.pack_schedule import check_pack_day, pack_due, parse_recipient

from .models import PackRecipient, PackSchedule, PackSending
from .pack import monthly_pack, pack_title

PDF = "application/pdf"


# ---------------------------------------------------------------- reading
def pack_schedule_get(company: Company) -> PackSchedule | None:
    return PackSchedule.objects.filter(company=company).first()


def _recipients(schedule: PackSchedule) -> list[tuple[str, str, str]]:
    """(user name, e-mail, language) of the chosen users who are still members, by name."""
    members = Membership.objects.filter(company_id=schedule.company_id).values("user_id")
    rows = (PackRecipient.objects.filter(schedule=schedule, user_id__in=members)
            .order_by("user__username")
            .values_list("user__username", "user__email", "language"))
    return [(name, email, language) for name, email, language in rows]


def pack_schedule_show(company: Company) -> dict[str, Any]:
    """The schedule (or ``None``) and the packs sent, newest first (at most twelve)."""
    row = pack_schedule_get(company)
    sent = (PackSending.objects.filter(company=company).order_by("-month", "language")
            .values("month", "language", "day", "status", "status_detail", "recipients",
                    "sha256")[:12])
    return {
        "schedule": None if row is None else {
            "day": row.day, "starts_on": row.starts_on.isoformat(), "active": row.active,
            "users": [name for name, _, _ in _recipients(row)],
            "languages": {name: language for name, _, language in _recipients(row)}},
        "sent": [{"month": f"{s['month']:%Y-%m}", "language": s["language"],
                  "day": s["day"].isoformat(),
                  "status": s["status"], "detail": s["status_detail"],
                  "recipients": s["recipients"], "sha256": s["sha256"]} for s in sent]}


# ---------------------------------------------------------------- the schedule
def _chosen_users(company: Company, usernames: Sequence[str]) -> list[tuple[Any, str]]:
    """The users named (``USER`` or ``USER:LANGUAGE``), each with the language asked for
    (``""`` when not given)."""
    asked = dict(parse_recipient(u) for u in usernames if u and u.strip())
    names = sorted(asked)
    if not names:
        raise ValidationFailed("the pack needs at least one user to receive it "
                               "(--to USER)", field="users")
    users = {u.get_username(): u for u in get_user_model().objects.filter(
        username__in=names, memberships__company=company)}
    for name in names:
        user = users.get(name)
        if user is None:
            raise ValidationFailed(f"--to {name}: not a user of {company.code}", field="users",
                                   user=name)
        if not user.email:
            raise ValidationFailed(f"--to {name}: the user has no e-mail address (user add "
                                   "--email, or the users' settings page)", field="users",
                                   user=name)
    return [(users[n], asked[n]) for n in names]


def pack_schedule_set(*, actor: Actor, company: Company, day: int, users: Sequence[str],
                      as_of: date) -> PackSchedule:
    """Send the pack every month on ``day`` (31: the last) to ``users`` (members with an
    e-mail address; ``USER:LANGUAGE`` chooses the language the pack and its e-mail go to that
    user in, one of ``PACK_LANGUAGES``), from ``as_of`` on. Setting it again replaces the day
    and the users; a user named without a language keeps the one chosen before (else
    English)."""
    require_role(company, actor, Role.MANAGER)
    day = check_pack_day(day)
    chosen = _chosen_users(company, users)
    with transaction.atomic():
        row, created = PackSchedule.objects.update_or_create(
            company=company, defaults={"day": day, "starts_on": as_of, "active": True,
                                       "created_by": actor_row(actor)})
        before = dict(PackRecipient.objects.filter(schedule=row)
                      .values_list("user_id", "language"))
        PackRecipient.objects.filter(schedule=row).delete()
        languages = [lang or before.get(u.pk, "en") for u, lang in chosen]
        PackRecipient.objects.bulk_create(
            PackRecipient(company=company, schedule=row, user=u, language=lang)
            for (u, _), lang in zip(chosen, languages, strict=True))
        audit(company, actor, "report.pack_schedule_set", "pack_schedule", row.pk, day=day,
              starts_on=as_of.isoformat(), users=[u.get_username() for u, _ in chosen],
              languages=languages, created=created)
    return row


def pack_schedule_stop(*, actor: Actor, company: Company) -> PackSchedule:
    """Stop the schedule (kept, with the packs it sent)."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        row = PackSchedule.objects.select_for_update().filter(company=company).first()
        if row is None:
            raise NotFound(f"{company.code} has no pack schedule", company=company.code)
        row.active = False
        row.save(update_fields=["active"])
        audit(company, actor, "report.pack_schedule_stop", "pack_schedule", row.pk)
    return row


# ---------------------------------------------------------------- sending
@dataclass
class PackRun:
    """What a run did: the month it was for (if any), and what happened to its pack."""

    as_of: date
    send: bool
    month: str = ""
    state: str = "nothing_due"  # nothing_due, to_send, sent, already_sent, outcome_unknown...
    recipients: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "sent": self.send, "month": self.month,
                "state": self.state, "recipients": self.recipients, "problems": self.problems}


def pack_run(*, actor: Actor, company: Company, as_of: date, send: bool = False) -> PackRun:
    """The pack the schedule owes on ``as_of``: a preview unless ``send``."""
    require_role(company, actor, Role.CLERK)
    run = PackRun(as_of, send)
    schedule = pack_schedule_get(company)
    due = (None if schedule is None or not schedule.active
           else pack_due(schedule.day, starts_on=schedule.starts_on, as_of=as_of))
    if schedule is None or due is None:
        return run
    return pack_send(actor=actor, company=company, month=due.month, day=due.day, send=send,
                     run=run)


def pack_send(*, actor: Actor, company: Company, month: date, day: date, send: bool = True,
              run: PackRun | None = None) -> PackRun:
    """Send the pack of ``month`` to the schedule's users, once, in each recipient's language
    (one message per language): a pack already sent (or whose outcome is unknown) is not
    sent again. The languages of a month are fixed when it is planned: a month planned goes
    to the rows planned then, whoever was chosen since."""
    require_role(company, actor, Role.CLERK)
    run = run or PackRun(day, send)
    run.month = f"{month:%Y-%m}"
    schedule = pack_schedule_get(company)
    if schedule is None:
        raise NotFound(f"{company.code} has no pack schedule: choose who receives the pack "
                       "with report pack --schedule set", company=company.code)
    rows = list(PackSending.objects.filter(company=company, month=month).order_by("language"))
    if not rows:
        recipients = _recipients(schedule)
        run.recipients = [email for _name, email, _lang in recipients]
        if not run.recipients:
            run.state = "no_recipients"
            run.problems.append({"code": "no_recipients", "message": "none of the users "
                                 "chosen to receive the pack is still a member"})
            return run
        run.state = "to_send"
        if not send:
            return run
        groups: dict[str, list[str]] = {}
        for _name, email, language in recipients:
            groups.setdefault(language, []).append(email)
        rows = _plan(actor, company, month, day, groups)
    run.recipients = [e for row in rows for e in row.recipients.split(", ")]
    states = [_send_row(actor, company, row, run) for row in rows]
    run.state = _overall(states)
    return run


# When the rows of a month (one per language) end differently, what the run says: the first
# of these that one of them is in.
_WORST_FIRST = ("outcome_unknown", "failed", "bounced", "partial", "to_send", "sent",
                "logged", "already_sent")


def _overall(states: list[str]) -> str:
    if len(set(states)) == 1:
        return states[0]
    return next(s for s in (*_WORST_FIRST, *sorted(states)) if s in states)


def _send_row(actor: Actor, company: Company, row: PackSending, run: PackRun) -> str:
    """Hand one planned row to the mail server, or say what became of it."""
    if not run.send and row.status == "planned":
        return "to_send"
    if row.status == "planned":
        return _deliver(actor, company, row, run)
    if row.status == "queued":
        run.problems.append({"code": "outcome_unknown", "message": (
            f"the pack of {run.month} ({row.language}) was being handed to the mail server "
            "when the run stopped: check the mail server's log before sending it by hand")})
        return "outcome_unknown"
    if row.status in ("bounced", "failed"):
        run.problems.append({"code": "delivery_failed",
                             "message": f"{row.status}: {row.status_detail}"})
        return row.status
    return "already_sent"


def _plan(actor: Actor, company: Company, month: date, day: date,
          groups: dict[str, list[str]]) -> list[PackSending]:
    """One row per language, each with its pack, planned together: every pack is rendered
    first (read only), then the rows are written in one transaction, so that a run stopped
    after it resumes every language and one stopped before it plans them all again."""
    packs = {lang: monthly_pack(company, month=month, language=lang) for lang in sorted(groups)}
    try:
        with transaction.atomic():
            rows = []
            for lang, pack in packs.items():
                digest = hashlib.sha256(pack.pdf).hexdigest()
                row = PackSending.objects.create(
                    company=company, month=month, language=lang, day=day,
                    recipients=", ".join(groups[lang]), pdf=pack.pdf, sha256=digest,
                    created_by=actor_row(actor))
                audit(company, actor, "report.pack_planned", "pack_sending", row.pk,
                      month=pack.month, language=lang, day=day.isoformat(),
                      recipients=groups[lang], sha256=digest)
                rows.append(row)
    except IntegrityError:
        # Another run planned them first: this one goes on with those rows.
        return list(PackSending.objects.filter(company=company, month=month)
                    .order_by("language"))
    return rows


def _deliver(actor: Actor, company: Company, row: PackSending, run: PackRun) -> str:
    from_header, reply_to, message_id = message_origin(company)
    with transaction.atomic():
        # only the run that moves it from planned hands it over
        if not PackSending.objects.filter(pk=row.pk, status="planned").update(
                status="queued", message_id=message_id):
            return "outcome_unknown"
        audit(company, actor, "report.pack_queued", "pack_sending", row.pk,
              month=run.month, language=row.language, message_id=message_id)
    name = f"receivables-{company.code}-{run.month}.pdf"
    with override(row.language):
        subject = _("%(title)s: %(company)s") % {"title": pack_title(run.month),
                                                  "company": company.name}
        body = _("The receivables pack of %(company)s for %(month)s (as of its last day) is "
                 "attached: headline KPIs, aged receivables, trends and the 13-week cash "
                 "forecast, with their charts.") % {"company": company.name,
                                                    "month": run.month}
    outgoing = Outgoing(
        subject=subject[:200], body=body + "\n",
        recipients=tuple(row.recipients.split(", ")), language=row.language,
        attachments=(Attachment("pdf", name, bytes(row.pdf), PDF, row.sha256),))
    status, detail = send_now(outgoing, from_header, reply_to, message_id)
    with transaction.atomic():
        PackSending.objects.filter(pk=row.pk).update(status=status, status_detail=detail)
        audit(company, actor, f"report.pack_{status}", "pack_sending", row.pk,
              month=run.month, language=row.language, message_id=message_id, detail=detail)
    if status in ("bounced", "failed"):
        run.problems.append({"code": "delivery_failed", "message": f"{status}: {detail}"})
    return status
