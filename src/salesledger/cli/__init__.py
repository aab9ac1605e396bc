"""The ``salesledger`` command line."""
