"""Python's cyclic garbage collector held off for a batch that builds many objects.

CPython looks for reference cycles every few hundred allocations and, from time to time,
through every object alive: a batch that reads a million open items into tuples and
dataclasses pays for walking them again and again, for nothing (they hold no cycles and
are freed by their reference counts). ``collector_paused`` holds the collector off for the
batch; it runs again at the next allocations after it. What the batch computes is the same
with it or without it. The collector is process-wide: another thread of the process does not collect
cycles meanwhile either, which only delays their freeing to the end of the batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off inside; nested, the outermost one resumes it,
    and none resumes a collector that was off before."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
