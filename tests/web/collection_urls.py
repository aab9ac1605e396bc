"""The collections and dunning addresses that need no casework: in test_pages.py's list of
every address, test_writes.py's of the writing ones, and test_collections.py's own tests."""

COLLECTION_URLS = [
    "/c/acme/collections/", "/c/acme/customers/C001/timeline/", "/c/acme/disputes/",
    "/c/acme/disputes/new/", "/c/acme/promises/", "/c/acme/promises/new/", "/c/acme/plans/",
    "/c/acme/plans/new/", "/c/acme/dunning/", "/c/acme/dunning/history/",
    "/c/acme/dunning/policies/", "/c/acme/dunning/new-policy/", "/c/acme/dunning/interest/",
]
COLLECTION_FORMS = ["/c/acme/disputes/new/", "/c/acme/promises/new/", "/c/acme/plans/new/",
                    "/c/acme/dunning/new-policy/"]
COLLECTION_POSTS = ["/c/acme/collections/", "/c/acme/customers/C001/timeline/",
                    *COLLECTION_FORMS, "/c/acme/dunning/send/", "/c/acme/dunning/interest/"]
