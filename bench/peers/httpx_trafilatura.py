"""The hand-written peer of bench/compare.py: httpx (async, CONCURRENCY at a time, 32 unless given) and
trafilatura, into SQLite. What many users write before they reach for a framework.

    python bench/peers/httpx_trafilatura.py SITEMAP_URL DATABASE [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys

import httpx
import trafilatura


async def main(sitemap: str, database: str, concurrency: int) -> None:
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, body TEXT)")
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        urls = re.findall(r"<loc>([^<]+)</loc>", (await client.get(sitemap)).text)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for url in urls:
            queue.put_nowait(url)

        async def worker() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                response = await client.get(url)
                body = trafilatura.extract(response.text, include_comments=False) or ""
                metadata = trafilatura.extract_metadata(response.text)
                title = metadata.title if metadata else None
                with conn:
                    conn.execute("INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", (url, title, body))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    conn.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 32))
