"""Render a digest's HTML part in headless Chromium and time building digests.

    python3 bench/render_digest.py [--screenshot digest.png]

1. Builds the sample history of tests/web/history.py, writes the digest's HTML part (chart
   inlined) and, when Debian's `chromium` is installed, a PNG screenshot of it to look at.
2. Times building a digest (compose + render + chart + MIME) over 1,000 change events.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.render import preview_html  # noqa: E402
from alerts.settings import SmtpSettings  # noqa: E402
from policywatch.digests import ALL, build_digest  # noqa: E402
from storage.database import Store  # noqa: E402
from storage.models import ChangeEvent, Instrument, Source, Version  # noqa: E402
from tests.web.history import record_sample_history  # noqa: E402

SMTP = SmtpSettings(sender="digests@policywatch.example",
                    list_unsubscribe="mailto:unsubscribe@policywatch.example")


def screenshot(html: Path, png: Path) -> bool:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not installed (apt-get install chromium): no screenshot")
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                        "--hide-scrollbars", "--window-size=760,2600", f"--screenshot={png}",
                        html.as_uri()], check=True, capture_output=True, timeout=120)
    return True


def thousand_events(store: Store) -> None:
    """1,000 amended events over 200 instruments in one week, written directly (the recorder's
    cost is not what is measured here)."""
    start = datetime(2026, 11, 20)
    with store.transaction() as session:
        session.add(Source(id="bulk", name="Bulk", jurisdiction="EU", level="supranational",
                           baseline_complete=True, consecutive_failures=0))
        session.flush()
        for n in range(200):
            instrument = Instrument(uid=f"bulk/doc-{n}", source_id="bulk", url=f"https://bulk.example/{n}",
                                    title=f"Guidelines {n} on transfers", jurisdiction="EU",
                                    level="supranational", first_seen_at=start, version_count=5)
            session.add(instrument)
            session.flush()
            for v in range(1, 6):
                session.add(Version(instrument_id=instrument.id, number=v, text=f"Article 1\nText {v}",
                                    text_hash=f"{n}-{v}", recorded_at=start, paradigm="prudent"))
                session.add(ChangeEvent(
                    instrument_id=instrument.id, jurisdiction="EU", kind="amended" if v > 1 else "new",
                    version_number=v,
                    detected_at=start + timedelta(minutes=n * 5 + v), url=instrument.url,
                    paradigm="prudent", previous_paradigm="prudent" if v > 1 else None,
                    provisions={"added": [], "removed": [], "modified": [
                        {"ref": "Article 1", "before": f"…within {v * 10} days…",
                         "after": f"…within {v * 10 + 10} days…"}]}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshot", default="digest.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/sample.sqlite"
        record_sample_history(url)
        store = Store(url)
        built, message, chart = build_digest(store, ALL, datetime(2026, 11, 1), datetime(2026, 12, 1), SMTP)
        html = Path(folder) / "digest.html"
        html.write_text(preview_html(built, chart, SMTP.list_unsubscribe), encoding="utf-8")
        if screenshot(html, Path(args.screenshot)):
            print(f"screenshot: {args.screenshot}")
        store.close()

        url = f"sqlite:///{folder}/thousand.sqlite"
        store = Store(url)
        thousand_events(store)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            built, message, _ = build_digest(store, ALL, datetime(2026, 11, 20), datetime(2026, 11, 27), SMTP)
            message.as_bytes()
            timings.append(time.perf_counter() - started)
        print(f"digest over {built.count} events: {min(timings):.2f} s (best of 3), "
              f"{len(message.as_bytes()):,} bytes")


if __name__ == "__main__":
    main()
