"""AutoThrottle that counts a 304 as a healthy answer.

Scrapy's AutoThrottle never lowers a host's delay on a non-200 answer (error pages are small and
fast, and would otherwise speed the crawl up against a failing site). For a monitor, 304 Not
Modified is the normal, healthy answer to a re-check: treating it as an error kept the start
delay for the whole cycle, making an unchanged re-crawl slower than the first crawl.

Scrapy's policy is re-stated here with the healthy statuses as a set, so that a 304 is judged as
it is instead of through a copy of the response made with status 200 (one copy per re-check).
`tests/test_steady_state.py` holds it to Scrapy's own for every other status.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response

HEALTHY = frozenset({200, 304})


class ConditionalAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        """Scrapy's policy (its `_adjust_delay`, step for step), with 304 healthy as 200 is."""
        # A server taking `latency` to answer is asked every latency/N to keep N answers going.
        target_delay = latency / self.target_concurrency
        new_delay = max(target_delay, (slot.delay + target_delay) / 2.0)
        new_delay = min(max(self.mindelay, new_delay), self.maxdelay)
        # An unhealthy answer never lowers the delay (see the module's docstring).
        if response.status not in HEALTHY and new_delay <= slot.delay:
            return
        slot.delay = new_delay
