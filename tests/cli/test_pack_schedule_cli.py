"""``report pack --schedule set|show|stop|run`` and ``report pack --month M --send``: the
monthly pack e-mailed to chosen users through a real SMTP server (aiosmtpd), read back from
what arrived (the PDF attached, and it renders: its pages and text read back); a month goes
once, whoever asks again; every change audited; bad input one line, exit 2."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("init", "--company", "acme", "--owner", "alice"),
                 ("user", "add", "bea", "--role", "viewer", "--email", "bea@acme.example"),
                 ("user", "add", "carl", "--role", "manager", "--email", "carl@acme.example"),
                 ("user", "add", "dan", "--role", "clerk"),
                 ("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-01-10",
                  "--line", "Audit;1;1000;0", "--post", "--as-of", "2026-01-10"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-02-15",
                  "--line", "Audit;1;2000;0", "--post", "--as-of", "2026-02-15")):
        code, _, err = run(capsys, *argv)
        assert code == 0, err


def _audit_actions() -> list[str]:
    from salesledger.apps.core.models import AuditEvent

    return [a for a in AuditEvent.objects.order_by("seq").values_list("action", flat=True)
            if a.startswith("report.")]


def test_the_pack_goes_once_a_month_to_the_chosen_users(
        capsys: pytest.CaptureFixture[str], books: None, smtp_server: Any) -> None:
    from pypdf import PdfReader

    shown = run_json(capsys, "report", "pack", "--schedule", "set", "--day", "3", "--to", "bea",
                     "--to", "carl", "--as-of", "2026-02-20")
    assert shown["schedule"] == {"day": 3, "starts_on": "2026-02-20", "active": True,
                                 "users": ["bea", "carl"],
                                 "languages": {"bea": "en", "carl": "en"}}
    # a preview names the month and who would receive it, and sends nothing
    preview = run_json(capsys, "report", "pack", "--schedule", "run", "--as-of", "2026-03-04")
    assert (preview["month"], preview["state"]) == ("2026-02", "to_send")
    assert preview["recipients"] == ["bea@acme.example", "carl@acme.example"]
    assert smtp_server.received == []
    # on the day after the 3rd, the pack of February goes, once, whatever the runs
    sent = run_json(capsys, "report", "pack", "--schedule", "run", "--send",
                    "--as-of", "2026-03-04")
    assert (sent["month"], sent["state"], sent["problems"]) == ("2026-02", "sent", [])
    again = run_json(capsys, "report", "pack", "--schedule", "run", "--send",
                     "--as-of", "2026-03-20")
    assert (again["month"], again["state"]) == ("2026-02", "already_sent")
    by_hand = run_json(capsys, "report", "pack", "--month", "2026-02", "--send")
    assert by_hand["state"] == "already_sent"
    [mail] = smtp_server.received
    assert sorted(mail.rcpt_tos) == ["bea@acme.example", "carl@acme.example"]
    assert mail.message["Subject"] == "Receivables pack 2026-02: acme"
    [part] = [p for p in mail.message.iter_attachments()]
    assert part.get_filename() == "receivables-acme-2026-02.pdf"
    assert part.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(part.get_content()))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3
    assert "Receivables pack 2026-02" in text and "Receivable 3000.00 EUR" in text
    assert "Expected receipts per week after 2026-02-28" in text  # a chart's own title
    # what was sent is the PDF kept, by its hash, and every step is audited
    listed = run_json(capsys, "report", "pack", "--schedule", "show")
    [row] = listed["sent"]
    import hashlib

    assert row["sha256"] == hashlib.sha256(part.get_content()).hexdigest()
    assert (row["month"], row["status"]) == ("2026-02", "sent")
    assert _audit_actions() == ["report.pack_schedule_set", "report.pack_planned",
                                "report.pack_queued", "report.pack_sent"]
    # stopped: nothing is due any more
    run_json(capsys, "report", "pack", "--schedule", "stop")
    stopped = run_json(capsys, "report", "pack", "--schedule", "run", "--send",
                       "--as-of", "2026-04-04")
    assert stopped["state"] == "nothing_due" and len(smtp_server.received) == 1
    # on demand, a month not yet sent goes to the schedule's users
    march = run_json(capsys, "report", "pack", "--month", "2026-03", "--send")
    assert (march["month"], march["state"]) == ("2026-03", "sent")
    assert len(smtp_server.received) == 2


def test_each_user_receives_the_pack_in_their_language(
        capsys: pytest.CaptureFixture[str], books: None, smtp_server: Any,
        tmp_path: Any) -> None:
    from pypdf import PdfReader

    def pdf_text(data: bytes) -> str:
        return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)

    shown = run_json(capsys, "report", "pack", "--schedule", "set", "--day", "3",
                     "--to", "bea:fr", "--to", "carl", "--as-of", "2026-02-20")
    assert shown["schedule"]["languages"] == {"bea": "fr", "carl": "en"}
    sent = run_json(capsys, "report", "pack", "--schedule", "run", "--send",
                    "--as-of", "2026-03-04")
    assert (sent["state"], sent["recipients"]) == ("sent", ["carl@acme.example",
                                                            "bea@acme.example"])
    by_rcpt = {tuple(m.rcpt_tos): m.message for m in smtp_server.received}
    assert sorted(by_rcpt) == [("bea@acme.example",), ("carl@acme.example",)]
    fr, en = by_rcpt[("bea@acme.example",)], by_rcpt[("carl@acme.example",)]
    assert fr["Subject"] == "Dossier des créances 2026-02 : acme"
    assert fr["Content-Language"] == "fr" and en["Content-Language"] == "en"
    assert "Le dossier des créances de acme pour 2026-02" in fr.get_body().get_content()
    assert en["Subject"] == "Receivables pack 2026-02: acme"
    [fr_pdf] = [p.get_content() for p in fr.iter_attachments()]
    text = pdf_text(fr_pdf)
    assert "Dossier des créances 2026-02" in text and "Créances 3000.00 EUR" in text
    assert "Encaissements attendus par semaine après le 2026-02-28" in text  # a chart's title
    assert "Receivable" not in text
    # each language is a row of its own, sent once
    again = run_json(capsys, "report", "pack", "--schedule", "run", "--send",
                     "--as-of", "2026-03-20")
    assert again["state"] == "already_sent" and len(smtp_server.received) == 2
    listed = run_json(capsys, "report", "pack", "--schedule", "show")
    assert [(r["month"], r["language"], r["status"]) for r in listed["sent"]] == [
        ("2026-02", "en", "sent"), ("2026-02", "fr", "sent")]
    # set again without a language: bea keeps French
    shown = run_json(capsys, "report", "pack", "--schedule", "set", "--day", "3",
                     "--to", "bea", "--as-of", "2026-02-20")
    assert shown["schedule"]["languages"] == {"bea": "fr"}
    # on demand, the PDF in German
    path = tmp_path / "pack.pdf"
    assert run(capsys, "report", "pack", "--month", "2026-02", "--language", "de",
               "--pdf", str(path))[0] == 0
    text = pdf_text(path.read_bytes())
    assert "Forderungsbericht 2026-02" in text and "Forderungen 3000.00 EUR" in text
    assert "Liquiditätsprognose: 13 Wochen nach dem 2026-02-28" in text
    code, _, err = run(capsys, "report", "pack", "--schedule", "set", "--day", "3",
                       "--to", "bea:it")
    assert code == 2 and "--to bea:it: the pack is written in en, fr, de, not 'it'" in err


def test_a_pack_cut_off_while_the_server_had_it_is_not_sent_again(
        capsys: pytest.CaptureFixture[str], books: None, smtp_server: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from salesledger.apps.reporting import pack_sending

    run_json(capsys, "report", "pack", "--schedule", "set", "--day", "31", "--to", "bea",
             "--as-of", "2026-01-01")

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # the process stops while the mail server has it

    monkeypatch.setattr(pack_sending, "send_now", dies)
    with pytest.raises(KeyboardInterrupt):
        run(capsys, "report", "pack", "--schedule", "run", "--send", "--as-of", "2026-02-28")
    monkeypatch.undo()
    code, out, _ = run(capsys, "report", "pack", "--schedule", "run", "--send",
                       "--as-of", "2026-03-01")
    assert code == 2 and "pack of 2026-02: outcome unknown" in out
    assert smtp_server.received == []


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                          books: None) -> None:
    for args, said in (
            (["--schedule", "set", "--day", "40", "--to", "bea"], "--day 40: the pack goes out "
             "on a day of the month, 1 to 31 (31: the last day)"),
            (["--schedule", "set", "--day", "3"], "--schedule set needs --day N"),
            (["--schedule", "set", "--day", "3", "--to", "dan"],
             "--to dan: the user has no e-mail address"),
            (["--schedule", "set", "--day", "3", "--to", "zoe"], "--to zoe: not a user of acme"),
            (["--schedule", "stop"], "acme has no pack schedule"),
            (["--month", "2026-02", "--send"], "acme has no pack schedule"),
            (["--schedule", "run", "--month", "2026-02"], "takes no --month"),
            ([], "report pack needs --month")):
        code, _, err = run(capsys, "report", "pack", *args)
        assert code == 2, args
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # a clerk may not set it; nothing was written or audited
    code, _, err = run(capsys, "report", "pack", "--schedule", "set", "--day", "3", "--to",
                       "bea", "--user", "dan")
    assert code != 0 and "permission" in err
    assert _audit_actions() == []
