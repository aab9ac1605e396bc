"""The web workspace: the pages a receivables team works in, in the browser.

An interface like the command line: each view parses the request, checks that the user is a
member of the company in the address (a stranger gets 404), calls one selector or service
of the apps and renders the result (docs/design/web.md). No business rule lives here.
"""
