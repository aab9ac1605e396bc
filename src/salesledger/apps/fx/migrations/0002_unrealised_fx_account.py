"""Give every existing company the unrealised exchange differences account (6910) that new
companies get from the default chart; revaluation runs post to it."""

from django.db import migrations

ROLE = "unrealised_fx_differences"


def add_account(apps, schema_editor):
    Company = apps.get_model("core", "Company")
    Account = apps.get_model("ledger", "Account")
    for company in Company.objects.all().iterator():
        accounts = Account.objects.filter(company=company)
        if accounts.filter(role=ROLE).exists():
            continue
        codes = set(accounts.values_list("code", flat=True))
        code = next(c for c in (str(n) for n in range(6910, 7000)) if c not in codes)
        Account.objects.create(company=company, code=code, role=ROLE, kind="expense",
                               name="Unrealised exchange differences")


def remove_account(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    JournalLine = apps.get_model("ledger", "JournalLine")
    used = JournalLine.objects.filter(account__role=ROLE).values("account_id")
    Account.objects.filter(role=ROLE).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fx", "0001_initial"),
        ("ledger", "0002_alter_account_role"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_account, remove_account)]
