"""A small client for Scrapyd's HTTP API: schedule a crawl, poll its job, cancel it.

Scrapyd runs the deployed project (`scrapyd-deploy`, see scrapy.cfg); it does not schedule, so the
daemon decides when a source is due and hands the crawl to the least busy node.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policywatch.config import ScrapydSettings

SPIDER = "declared"


class NodeError(RuntimeError):
    """A Scrapyd node did not do what was asked; one line naming the node."""


@dataclass(frozen=True)
class Node:
    """A Scrapyd node and the project deployed to it."""

    url: str  # ends with "/"
    project: str = "policywatch"
    username: str | None = None
    password: str = ""
    timeout: float = 15.0

    def _call(self, endpoint: str, params: list[tuple[str, str]], post: bool) -> dict:
        query = urllib.parse.urlencode(params)
        address = urllib.parse.urljoin(self.url, endpoint)
        request = urllib.request.Request(address if post else f"{address}?{query}",
                                         data=query.encode() if post else None)
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise NodeError(f"scrapyd {self.url}: {endpoint}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NodeError(f"scrapyd {self.url}: unreachable ({reason})") from None
        except ValueError:
            raise NodeError(f"scrapyd {self.url}: {endpoint}: the answer is not JSON") from None
        if answer.get("status") != "ok":
            raise NodeError(f"scrapyd {self.url}: {endpoint}: {answer.get('message', answer)}".strip())
        return answer

    def load(self) -> int:
        """Jobs pending and running on the node."""
        answer = self._call("daemonstatus.json", [], post=False)
        return int(answer.get("pending", 0)) + int(answer.get("running", 0))

    def schedule(self, settings: dict, arguments: dict) -> str:
        """Start the declared spider with these Scrapy settings and spider arguments; its job id."""
        params = [("project", self.project), ("spider", SPIDER)]
        params += [("setting", f"{key}={value}") for key, value in settings.items()]
        params += [(key, str(value)) for key, value in arguments.items()]
        return str(self._call("schedule.json", params, post=True)["jobid"])

    def state(self, job: str) -> str:
        """pending | running | finished | unknown."""
        answer = self._call("status.json", [("job", job), ("project", self.project)], post=False)
        return str(answer.get("currstate", "unknown"))

    def cancel(self, job: str) -> None:
        """One SIGTERM: Scrapy closes the spider cleanly and the run is finished with what it did."""
        self._call("cancel.json", [("project", self.project), ("job", job), ("signal", "TERM")],
                   post=True)

    def log_url(self, job: str) -> str:
        """Where the node shows the job's log."""
        return urllib.parse.urljoin(self.url, f"logs/{self.project}/{SPIDER}/{job}.log")


def node_at(settings: ScrapydSettings, url: str) -> Node:
    """The node at `url`, with the project and credentials of a configuration's [scrapyd]
    section."""
    return Node(url, settings.project, settings.username, settings.password)


def configured_nodes(settings: ScrapydSettings) -> list[Node]:
    """The nodes a configuration's [scrapyd] section names, in its order."""
    return [node_at(settings, url) for url in settings.nodes]


def least_busy(nodes: list[Node]) -> tuple[Node, list[str]]:
    """The node with the fewest pending and running jobs, and a line for each node that did not
    answer; NodeError when none answers."""
    loads, errors = [], []
    for order, node in enumerate(nodes):  # the order breaks ties
        try:
            loads.append((node.load(), order, node))
        except NodeError as exc:
            errors.append(str(exc))
    if not loads:
        raise NodeError("no scrapyd node answers: " + "; ".join(errors))
    return min(loads)[2], errors
