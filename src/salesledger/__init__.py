"""salesledger: an open-source accounts-receivable system built on Django.

The framework-free core lives in :mod:`salesledger.money` and :mod:`salesledger.domain`;
the Django apps live under :mod:`salesledger.apps`; site configuration is in
:mod:`salesledger.config`.
"""

__version__ = "0.1.0"
