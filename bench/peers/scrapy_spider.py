"""The Scrapy peer of bench/compare.py: a minimal SitemapSpider (the h1 and the paragraphs' text) with a
pipeline that writes to SQLite in batches of 100. What a Scrapy user writes for this job, no more.

    python bench/peers/scrapy_spider.py SITEMAP_URL DATABASE [CONCURRENCY]   (32 unless given)
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.spiders import SitemapSpider


class ArticlesSpider(SitemapSpider):
    name = "articles"

    def parse(self, response: Response) -> Any:
        yield {
            "url": response.url,
            "title": response.css("h1::text").get(),
            "body": "\n\n".join(t.strip() for t in response.css("article p::text, .entry-content p::text").getall()),
        }


class SqlitePipeline:
    def open_spider(self, spider: Any) -> None:
        self.conn = sqlite3.connect(sys.argv[2])
        self.conn.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, body TEXT)")
        self.batch: list[tuple[str, str, str]] = []

    def process_item(self, item: dict[str, Any], spider: Any) -> dict[str, Any]:
        self.batch.append((item["url"], item["title"], item["body"]))
        if len(self.batch) >= 100:
            self.flush()
        return item

    def flush(self) -> None:
        with self.conn:
            self.conn.executemany("INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", self.batch)
        self.batch = []

    def close_spider(self, spider: Any) -> None:
        self.flush()
        self.conn.close()


if __name__ == "__main__":
    ArticlesSpider.sitemap_urls = [sys.argv[1]]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    process = CrawlerProcess(settings={
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
        "ITEM_PIPELINES": {"__main__.SqlitePipeline": 300}, "TELNETCONSOLE_ENABLED": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    })  # fmt: skip
    process.crawl(ArticlesSpider)
    process.start()
