"""The e-mail that carries a document: subject and body per kind and language.

Built-in texts exist for every kind in every supported language; a company may replace any
of them (``MessageTemplate``). Texts hold placeholders in braces, ``{number}``, ``{total}``,
``{due_date}``, ``{payment_reference}``, ``{company}``...: only the names listed for the kind
are accepted, with no attribute access, indexing, conversion or format spec, so a text can
only place values, never reach into them. A text with an unknown placeholder is refused when
it is saved and, should one ever be stored, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from salesledger.domain.errors import DocumentTemplateError

COMMON = ("number", "company", "customer", "issue_date", "total")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "invoice": (*COMMON, "due_date", "payment_reference"),
    "credit_note": (*COMMON, "corrects", "payment_reference"),
    "quote": (*COMMON, "valid_until"),
    "statement": ("number", "company", "customer", "as_of", "balance"),
    "reminder": ("number", "company", "customer", "as_of", "level", "items", "total"),
}

_SIGN = "\n\n{company}"

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "invoice": {
        "en": ("Invoice {number} from {company}",
               "Hello,\n\nPlease find attached our invoice {number} of {issue_date} for "
               "{total}, due on {due_date}.\nWhen paying by bank transfer, please quote the "
               "payment reference {payment_reference}.\n\nKind regards," + _SIGN),
        "fr": ("Facture {number} de {company}",
               "Bonjour,\n\nVeuillez trouver ci-joint notre facture {number} du {issue_date} "
               "d'un montant de {total}, payable au plus tard le {due_date}.\nPour un "
               "règlement par virement, merci d'indiquer la référence {payment_reference}."
               "\n\nCordialement," + _SIGN),
        "de": ("Rechnung {number} von {company}",
               "Guten Tag,\n\nanbei erhalten Sie unsere Rechnung {number} vom {issue_date} über "
               "{total}, fällig am {due_date}.\nBitte geben Sie bei der Überweisung die "
               "Zahlungsreferenz {payment_reference} an.\n\nMit freundlichen Grüßen" + _SIGN),
        "es": ("Factura {number} de {company}",
               "Buenos días:\n\nLe adjuntamos nuestra factura {number} del {issue_date} por "
               "{total}, con vencimiento el {due_date}.\nSi paga por transferencia, indique "
               "la referencia {payment_reference}.\n\nAtentamente," + _SIGN),
        "pt": ("Fatura {number} de {company}",
               "Bom dia,\n\nJunto enviamos a nossa fatura {number} de {issue_date}, no valor "
               "de {total}, com vencimento em {due_date}.\nSe pagar por transferência, "
               "indique a referência {payment_reference}.\n\nCom os melhores cumprimentos,"
               + _SIGN),
    },
    "credit_note": {
        "en": ("Credit note {number} from {company}",
               "Hello,\n\nPlease find attached our credit note {number} of {issue_date} for "
               "{total}, which corrects invoice {corrects}.\n\nKind regards," + _SIGN),
        "fr": ("Avoir {number} de {company}",
               "Bonjour,\n\nVeuillez trouver ci-joint notre avoir {number} du {issue_date} "
               "d'un montant de {total}, qui rectifie la facture {corrects}.\n\nCordialement,"
               + _SIGN),
        "de": ("Gutschrift {number} von {company}",
               "Guten Tag,\n\nanbei erhalten Sie unsere Gutschrift {number} vom {issue_date} "
               "über {total} zur Rechnung {corrects}.\n\nMit freundlichen Grüßen" + _SIGN),
        "es": ("Factura rectificativa {number} de {company}",
               "Buenos días:\n\nLe adjuntamos nuestra factura rectificativa {number} del "
               "{issue_date} por {total}, que corrige la factura {corrects}.\n\nAtentamente,"
               + _SIGN),
        "pt": ("Nota de crédito {number} de {company}",
               "Bom dia,\n\nJunto enviamos a nossa nota de crédito {number} de {issue_date}, "
               "no valor de {total}, que corrige a fatura {corrects}.\n\nCom os melhores "
               "cumprimentos," + _SIGN),
    },
    "quote": {
        "en": ("Quote {number} from {company}",
               "Hello,\n\nPlease find attached our quote {number} for {total}, valid until "
               "{valid_until}.\n\nKind regards," + _SIGN),
        "fr": ("Devis {number} de {company}",
               "Bonjour,\n\nVeuillez trouver ci-joint notre devis {number} d'un montant de "
               "{total}, valable jusqu'au {valid_until}.\n\nCordialement," + _SIGN),
        "de": ("Angebot {number} von {company}",
               "Guten Tag,\n\nanbei erhalten Sie unser Angebot {number} über {total}, gültig "
               "bis {valid_until}.\n\nMit freundlichen Grüßen" + _SIGN),
        "es": ("Presupuesto {number} de {company}",
               "Buenos días:\n\nLe adjuntamos nuestro presupuesto {number} por {total}, "
               "válido hasta el {valid_until}.\n\nAtentamente," + _SIGN),
        "pt": ("Orçamento {number} de {company}",
               "Bom dia,\n\nJunto enviamos o nosso orçamento {number}, no valor de {total}, "
               "válido até {valid_until}.\n\nCom os melhores cumprimentos," + _SIGN),
    },
    "statement": {
        "en": ("Statement of account from {company}",
               "Hello,\n\nPlease find attached your statement of account as of {as_of}. "
               "Balance: {balance}.\n\nKind regards," + _SIGN),
        "fr": ("Relevé de compte de {company}",
               "Bonjour,\n\nVeuillez trouver ci-joint votre relevé de compte au {as_of}. "
               "Solde : {balance}.\n\nCordialement," + _SIGN),
        "de": ("Kontoauszug von {company}",
               "Guten Tag,\n\nanbei erhalten Sie Ihren Kontoauszug zum {as_of}. Saldo: "
               "{balance}.\n\nMit freundlichen Grüßen" + _SIGN),
        "es": ("Extracto de cuenta de {company}",
               "Buenos días:\n\nLe adjuntamos su extracto de cuenta a {as_of}. Saldo: "
               "{balance}.\n\nAtentamente," + _SIGN),
        "pt": ("Extrato de conta de {company}",
               "Bom dia,\n\nJunto enviamos o seu extrato de conta em {as_of}. Saldo: "
               "{balance}.\n\nCom os melhores cumprimentos," + _SIGN),
    },
}

# A reminder (docs/design/dunning.md): {level} is the name the policy gives the level reached,
# {items} the items listed, grouped by level, {total} what is asked for.
DEFAULTS["reminder"] = {
    "en": ("{level}: payment reminder from {company}",
           "Hello,\n\nAccording to our records, the following items on your account "
           "{number} are due or overdue as of {as_of}:\n\n{items}\n\nTotal: {total}.\n\n"
           "If you have already paid, please disregard this message. Otherwise please pay "
           "without delay, or reply to this message if something is wrong.\n\nKind regards,"
           + _SIGN),
    "fr": ("{level} : rappel de paiement de {company}",
           "Bonjour,\n\nSauf erreur de notre part, les pièces suivantes de votre compte "
           "{number} sont échues ou arrivent à échéance au {as_of} :\n\n{items}\n\n"
           "Total : {total}.\n\nSi vous avez déjà réglé, merci de ne pas tenir compte de ce "
           "message. Sinon, merci de régler sans tarder, ou de nous répondre en cas de "
           "problème.\n\nCordialement," + _SIGN),
    "de": ("{level}: Zahlungserinnerung von {company}",
           "Guten Tag,\n\nnach unseren Unterlagen sind zum {as_of} folgende Posten Ihres "
           "Kontos {number} fällig oder überfällig:\n\n{items}\n\nSumme: {total}.\n\n"
           "Falls Sie bereits bezahlt haben, betrachten Sie diese Nachricht bitte als "
           "gegenstandslos. Andernfalls bitten wir um umgehende Zahlung oder um Ihre Antwort, "
           "falls etwas nicht stimmt.\n\nMit freundlichen Grüßen" + _SIGN),
    "es": ("{level}: recordatorio de pago de {company}",
           "Buenos días:\n\nSegún nuestros registros, las siguientes partidas de su cuenta "
           "{number} están vencidas o vencen a {as_of}:\n\n{items}\n\nTotal: {total}.\n\n"
           "Si ya ha pagado, no tenga en cuenta este mensaje. En caso contrario, le rogamos "
           "que pague sin demora o que nos responda si hay algún problema.\n\nAtentamente,"
           + _SIGN),
    "pt": ("{level}: lembrete de pagamento de {company}",
           "Bom dia,\n\nDe acordo com os nossos registos, os seguintes documentos da sua "
           "conta {number} estão vencidos ou vencem em {as_of}:\n\n{items}\n\nTotal: "
           "{total}.\n\nSe já pagou, ignore esta mensagem. Caso contrário, pedimos que pague "
           "sem demora ou que nos responda se algo não estiver certo.\n\nCom os melhores "
           "cumprimentos," + _SIGN),
}


def check_text(kind: str, text: str, *, what: str) -> None:
    """Refuse a text whose placeholders are not all plain names known for ``kind``."""
    allowed = PLACEHOLDERS[kind]
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:
        raise DocumentTemplateError(
            f"the {what} cannot be read: {exc} (write a brace as {{{{ or }}}})") from None
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            raise DocumentTemplateError(
                f"the {what} has the placeholder {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}}; use only "
                + ", ".join(f"{{{name}}}" for name in allowed), placeholder=field)


def fill(kind: str, text: str, values: Mapping[str, str], *, what: str) -> str:
    """``text`` with its placeholders replaced by ``values`` (checked first)."""
    check_text(kind, text, what=what)
    out = []
    for literal, field, _, _ in Formatter().parse(text):
        out.append(literal)
        if field is not None:
            out.append(values.get(field, ""))
    return "".join(out)
