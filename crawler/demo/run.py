"""``crawler demo``: serve the demo site on 127.0.0.1, write a config for it, run the daemon against it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from crawler.config import load_config
from crawler.demo.site import NewsSite, change_periodically, serve
from crawler.logformat import configure_logging
from crawler.schedule import Daemon

__all__ = ["demo_config", "demo_site", "run_demo"]
logger = logging.getLogger("crawler.demo")


def demo_config(port: int, database: Path | str) -> str:
    """The demo's config file: two sources on the local site, polled every few seconds."""
    base = f"http://127.0.0.1:{port}"
    return f"""# Written by `crawler demo`; edit and send SIGHUP to the daemon to reload.
[crawler]
database = "{database}"
user_agent = "crawler-demo/0.1"
concurrency = 8
per_host_concurrency = 4
per_host_delay = "0s"
timeout = "10s"
retries = 2
retry_backoff = "200ms"
log_format = "text"
allow_private_addresses = true   # the demo site is on 127.0.0.1

[[sources]]
id = "demo-ar"
name = "Demo news (Arabic): feed and home page"
feeds = ["{base}/feed.xml"]
listing_pages = ["{base}/"]
allowed_domains = ["127.0.0.1"]
article_url_pattern = '/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
interval = "5s"
recheck_interval = "20s"
language = "ar"
timezone = "Asia/Baghdad"

[[sources]]
id = "demo-en"
name = "Demo news (English): section page and sitemap"
listing_pages = ["{base}/section/english/"]
sitemaps = ["{base}/sitemap-en.xml"]
allowed_domains = ["127.0.0.1"]
article_url_pattern = '/\\d{{4}}/\\d{{2}}/\\d{{2}}/'
interval = "7s"
recheck_interval = "20s"
language = "en"
timezone = "UTC"
"""


@contextlib.contextmanager
def demo_site(port: int, new_every: float) -> Iterator[int]:
    """The demo news site served on 127.0.0.1 (``port`` 0: any free one), publishing a new article every
    ``new_every`` seconds, for the block; yields the port it serves on."""
    site = NewsSite(articles=12, promo="تابعوا آخر الأخبار على قناة الوكالة في تلغرام وواتساب.")
    try:
        server, _ = serve(site, port)
    except OSError as exc:
        raise SystemExit(f"crawler demo: cannot serve on 127.0.0.1:{port} ({exc.strerror}); try --port 0") from None
    stop = threading.Event()
    changer = threading.Thread(target=change_periodically, args=(site, new_every, stop, logger.info), daemon=True)
    changer.start()
    try:
        yield server.server_address[1]
    finally:
        stop.set()
        server.shutdown()


def run_demo(port: int, database: Path, new_every: float) -> None:
    configure_logging("text")
    with demo_site(port, new_every) as port:
        config_path = database.parent / "demo.toml"
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(demo_config(port, database), encoding="utf-8")
        logger.info(
            "demo site on http://127.0.0.1:%d/ ; config %s ; database %s ; Ctrl-C to stop", port, config_path, database
        )
        asyncio.run(Daemon(config_path, config=load_config(config_path)).run())
