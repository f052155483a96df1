"""Python's cyclic garbage collector paused while a stage builds millions of long-lived objects (kept rows, facts)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block, as it was before it afterwards.

    Reading 10,000 sources' kept rows makes about four million lists and strings that live for the whole run; as
    they pile up, the collector walks the whole heap again and again: the reading took 2.2 s, 0.7 s without it.
    The rows hold no reference cycles, so nothing is lost by not collecting while they are made; reference
    counting still frees everything else, and a cycle made meanwhile waits for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
