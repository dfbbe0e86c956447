"""A hostile site: links off the allowed domains and to other schemes, and page text written to break
SQL, the search index or a shell. Nothing is fetched that the config does not allow, and page content
is only ever data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import query, write_config
from pytest_httpserver import HTTPServer
from test_pipeline import crawl

HOSTILE_TITLE = "'); DROP TABLE articles; -- $(touch PWNED) `touch PWNED` \" OR 1=1 NEAR( * ^"
PARAGRAPH = ("رحبت وزارة الخارجية بنتائج الاجتماع الدوري مع الشركاء الدوليين، بحسب مصادر مطلعة، "
             "وقالت إن الخطوات المقبلة ستعلن خلال الأسبوع المقبل بعد التشاور مع الجهات المعنية.")  # fmt: skip


def hostile_article(base: str) -> str:
    return f"""<!doctype html><html lang="ar"><head><title>{HOSTILE_TITLE}</title>
<meta property="og:title" content="{HOSTILE_TITLE.replace('"', "&quot;")}">
<script>fetch("{base}/exfiltrate")</script></head><body><article><h1>{HOSTILE_TITLE}</h1>
<p>{PARAGRAPH}</p><p>{PARAGRAPH} "); DELETE FROM events; --</p>
<img src="{base}/pixel.gif" onerror="fetch('{base}/onerror')"></article></body></html>"""


def test_only_allowed_links_are_fetched_and_page_text_stays_data(httpserver: HTTPServer, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{httpserver.port}"
    other_port = base.replace("127.0.0.1", "localhost")  # the same server under a host name not allowed
    links = [f"{base}/news/1", "http://evil.example/news/2", f"{other_port}/news/3", "file:///etc/passwd",
             "javascript:alert(1)", "ftp://127.0.0.1/news/4", f"{base}/elsewhere/5"]  # fmt: skip
    items = "".join(f"<item><title>x</title><link>{link}</link></item>" for link in links)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/news/1").respond_with_data(hostile_article(base), content_type="text/html")
    out = tmp_path / "sink.json"
    script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read())"
    source = (f'[[sources]]\nid = "hostile"\nname = "Hostile"\nfeeds = ["{base}/feed.xml"]\ninterval = "1h"\n'
              "allowed_domains = [\"127.0.0.1\"]\narticle_url_pattern = '/news/'\n\n"
              f'[[sinks]]\ntype = "command"\ncommand = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]\n'
              'events = ["article_new"]\n')  # fmt: skip
    config = write_config(tmp_path, source, obey_robots=False)

    [summary] = crawl(config)
    assert summary.new == 1
    assert sorted(request.path for request, _ in httpserver.log) == ["/feed.xml", "/news/1"]  # no script, no pixel
    db = tmp_path / "crawler.db"
    assert query(db, "SELECT count(*) FROM fetches WHERE url NOT LIKE ?", (f"{base}/%",)) == [(0,)]
    ((title, body),) = query(db, "SELECT title, body FROM articles")
    assert title == HOSTILE_TITLE and '"); DELETE FROM events; --' in body  # stored as written
    assert query(db, "SELECT count(*) FROM events WHERE type = 'article_new'") == [(1,)]
    assert json.loads(out.read_text())["data"]["title"] == HOSTILE_TITLE  # on stdin, never on a command line
    assert not list(Path.cwd().glob("PWNED")) and not list(tmp_path.glob("PWNED"))
