"""AutoThrottle that counts a 304 as a healthy answer.

Scrapy's AutoThrottle never lowers a host's delay on a non-200 answer (error pages are small and
fast, and would otherwise speed the crawl up against a failing site). For a monitor, 304 Not
Modified is the normal, healthy answer to a re-check: treating it as an error kept the start
delay for the whole cycle, making an unchanged re-crawl slower than the first crawl.
"""

from __future__ import annotations

from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class ConditionalAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
