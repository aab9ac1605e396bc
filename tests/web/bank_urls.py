"""The bank pages', numbering and tax settings' and long work's addresses: in test_pages.py's
list of every address, test_writes.py's of the writing ones, and test_bank_pages.py's own
tests."""

# Every address of these pages (GET), and every form's address (POST), for the shared
# tenancy and role tests (test_pages.py, test_writes.py).
BANK_URLS = [
    "/c/acme/bank/", "/c/acme/bank/import/", "/c/acme/bank/lines/",
    "/c/acme/bank/lines/?status=suggested", "/c/acme/bank/review/", "/c/acme/bank/match/",
    "/c/acme/bank/rules/", "/c/acme/settings/numbering/", "/c/acme/settings/tax/",
    "/c/acme/jobs/allocate/", "/c/acme/jobs/pdfs/",
    # the bank's settings and the direct-debit file (test_bank_settings_pages.py)
    "/c/acme/bank/mappings/", "/c/acme/bank/direct-debit/", "/c/acme/bank/settings/",
]
BANK_POSTS = [
    "/c/acme/bank/import/", "/c/acme/bank/match/", "/c/acme/bank/rules/",
    "/c/acme/bank/lines/1/confirm/", "/c/acme/bank/lines/1/reject/",
    "/c/acme/bank/lines/1/unmatch/", "/c/acme/bank/lines/1/remittance/",
    "/c/acme/settings/numbering/", "/c/acme/settings/tax/", "/c/acme/jobs/allocate/",
    "/c/acme/jobs/pdfs/",
    "/c/acme/bank/mappings/", "/c/acme/bank/direct-debit/", "/c/acme/bank/settings/",
]
