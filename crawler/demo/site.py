"""The demo news site: articles in memory, rendered like real WordPress news themes, served over HTTP.

Routes: / (latest, Arabic home), /section/english/ (English listing), /feed.xml (RSS of the latest 30),
/sitemap.xml (an index of /sitemap-ar.xml and /sitemap-en.xml, news sitemaps), article pages at /YYYY/MM/DD/story-N/, and /robots.txt.
Responses carry an ETag and Last-Modified and answer conditional requests with 304. Also used by
the tests and the benchmark as a fixture site (``python -m crawler.demo.site --articles 3000``).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crawler.demo.content import DemoArticle, make_article, make_paragraph

__all__ = ["NewsSite", "handler_class", "serve"]

_BAGHDAD = timezone(timedelta(hours=3))
_AR_MONTHS = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
]
_SITE_NAME = "وكالة الأنباء التجريبية"


class NewsSite:
    """A thread-safe, changing set of articles. ``start`` fixes the first article's date."""

    def __init__(self, articles: int = 12, start: datetime | None = None, promo: str | None = None) -> None:
        self._lock = threading.Lock()
        self.promo = promo  # a fixed closing paragraph on every Arabic article: what site templates learn
        self._removed: set[int] = set()
        self.empty_template = False  # when set, article pages keep their chrome but lose their text (a broken theme)
        self.volatile = False  # when set, article pages end with a view counter that grows on every fetch
        self._views = 0
        self._start = start or datetime(2024, 1, 25, 8, 0, tzinfo=_BAGHDAD)
        self._articles: dict[int, DemoArticle] = {}
        self._by_path: dict[str, DemoArticle] = {}
        self.status_override: int | None = None  # when set, every request answers this status
        for _ in range(articles):
            self.add_article()

    # --- changes -----------------------------------------------------------------------------------------

    def add_article(self) -> DemoArticle:
        with self._lock:
            article_id = len(self._articles) + 1
            published = (self._start + timedelta(minutes=17 * article_id)).isoformat()
            article = make_article(article_id, published)
            article.related = [i for i in range(article_id - 1, max(0, article_id - 5), -1)]
            self._articles[article_id] = article
            self._by_path[article.path] = article
            return article

    def edit_article(self, article_id: int) -> DemoArticle:
        """Add a paragraph and bump dateModified, as an editor updating a story would."""
        with self._lock:
            article = self._articles[article_id]
            rng = random.Random(article_id * 1000 + article.revision)
            article.revision += 1
            article.paragraphs.append(make_paragraph(rng, article.language))
            modified = datetime.fromisoformat(article.modified) + timedelta(hours=1)
            article.modified = modified.isoformat()
            return article

    def remove_article(self, article_id: int) -> None:
        """Take an article down: its page answers 404 and no listing links to it."""
        with self._lock:
            self._removed.add(article_id)

    def restore_article(self, article_id: int) -> None:
        with self._lock:
            self._removed.discard(article_id)

    def articles(self) -> list[DemoArticle]:
        with self._lock:
            return list(self._articles.values())

    # --- pages -------------------------------------------------------------------------------------------

    def page(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a path."""
        path = path.split("?", 1)[0]
        with self._lock:
            shown = [a for a in self._articles.values() if a.id not in self._removed]
            latest = sorted(shown, key=lambda a: a.published, reverse=True)
            if path == "/":
                return 200, "text/html; charset=utf-8", _listing([a for a in latest if a.language == "ar"][:30], "ar")
            if path == "/section/english/":
                return 200, "text/html; charset=utf-8", _listing([a for a in latest if a.language == "en"][:30], "en")
            if path == "/feed.xml":
                return 200, "application/rss+xml; charset=utf-8", _rss([a for a in latest if a.language == "ar"][:30])
            if path == "/sitemap.xml":
                return 200, "application/xml; charset=utf-8", _sitemap_index(["ar", "en"])
            if path in ("/sitemap-ar.xml", "/sitemap-en.xml"):
                language = path[-6:-4]
                return 200, "application/xml; charset=utf-8", _sitemap([a for a in latest if a.language == language])
            if path == "/robots.txt":
                return 200, "text/plain", "User-agent: *\nAllow: /\nSitemap: http://SITE/sitemap.xml\n"
            article = self._by_path.get(path)
            if article is not None and article.id not in self._removed:
                if self.empty_template:
                    article = replace(article, paragraphs=[])
                if self.volatile:
                    self._views += 7
                    counter = f"نشر منذ {self._views % 23 + 1} ساعات · {1000 + self._views:,} مشاهدة"
                    article = replace(article, paragraphs=[*article.paragraphs, counter])
                return 200, "text/html; charset=utf-8", _article_page(article, self._articles, self.promo)
        return 404, "text/html; charset=utf-8", "<html><body><h1>404</h1></body></html>"


# --- rendering ---------------------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _ar_date(iso: str) -> str:
    value = datetime.fromisoformat(iso)
    return f"{_AR_MONTHS[value.month - 1]} {value.day}, {value.year}"


def _header(language: str) -> str:
    if language == "ar":
        return ('<header id="theme-header"><div class="top-nav"><span class="today-date">السبت, 29 نوفمبر 2025</span>'
                '<div class="breaking"><span class="breaking-title">عاجل</span></div></div>'
                f'<div class="logo"><a href="/">{_SITE_NAME}</a></div><nav id="main-nav"><ul class="menu">'
                '<li><a href="/">الرئيسية</a></li><li><a href="/section/english/">English</a></li>'
                '<li><a href="/about/">من نحن</a></li></ul></nav></header>')  # fmt: skip
    return ('<header class="site-header"><a class="brand" href="/section/english/">Demo News</a><nav class="nav">'
            '<a href="/">العربية</a> <a href="/section/english/">World</a></nav></header>')  # fmt: skip


def _listing(articles: list[DemoArticle], language: str) -> str:
    items = "".join(
        f'<li class="post-item"><h3 class="post-title"><a href="{a.path}">{_e(a.title)}</a></h3>'
        f'<span class="date">{_ar_date(a.published) if language == "ar" else a.published[:10]}</span></li>'
        for a in articles
    )
    direction = 'lang="ar" dir="rtl"' if language == "ar" else 'lang="en"'
    return (f"<!DOCTYPE html><html {direction}><head><meta charset='utf-8'><title>{_SITE_NAME}</title></head><body>"
            f"{_header(language)}<main><ul class='posts-list'>{items}</ul></main>"
            "<footer><p>جميع الحقوق محفوظة</p></footer></body></html>")  # fmt: skip


def _rss(articles: list[DemoArticle]) -> str:
    items = "".join(
        f"<item><title>{_e(a.title)}</title><link>http://SITE{a.path}</link><guid>{a.id}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(a.published))}</pubDate></item>"
        for a in articles
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{_SITE_NAME}</title>'
            f"<link>http://SITE/</link><description>demo</description>{items}</channel></rss>")  # fmt: skip


def _sitemap_index(languages: list[str]) -> str:
    entries = "".join(f"<sitemap><loc>http://SITE/sitemap-{lang}.xml</loc></sitemap>" for lang in languages)
    return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</sitemapindex>")  # fmt: skip


def _sitemap(articles: list[DemoArticle]) -> str:
    """A Google News sitemap: loc, lastmod and news:publication_date per article."""
    urls = "".join(
        f"<url><loc>http://SITE{a.path}</loc><lastmod>{a.modified}</lastmod><news:news><news:publication>"
        f"<news:name>Demo</news:name><news:language>{a.language}</news:language></news:publication>"
        f"<news:publication_date>{a.published}</news:publication_date><news:title>{_e(a.title)}</news:title>"
        "</news:news></url>"
        for a in articles
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')  # fmt: skip


def _article_page(article: DemoArticle, everything: dict[int, DemoArticle], promo: str | None) -> str:
    return _arabic_page(article, everything, promo) if article.language == "ar" else _english_page(article, everything)


def _arabic_page(a: DemoArticle, everything: dict[int, DemoArticle], promo: str | None = None) -> str:
    """The seed page's structure: a TieLabs-like WordPress theme with read-also and similar-posts blocks."""
    related = [everything[i] for i in a.related if i in everything]
    body = "".join(f"<p>{_e(p)}</p>" for p in a.paragraphs[:2])
    if related:  # an inline "read also" box between paragraphs, as WordPress themes insert
        body += (
            f'<div class="read-also"><h4>إقرأ أيضاً:</h4><a href="{related[0].path}">{_e(related[0].title)}</a></div>'
        )
    body += "".join(f"<p>{_e(p)}</p>" for p in a.paragraphs[2:])
    if promo:  # a plain paragraph, indistinguishable from the article's own on one page
        body += f"<p>{_e(promo)}</p>"
    tags = "".join(f'<a href="/tag/{i}/" rel="tag">{_e(t)}</a>' for i, t in enumerate(a.tags))
    similar = "".join(f'<li class="post-item"><h3 class="post-title"><a href="{r.path}">{_e(r.title)}</a></h3>'
                      f'<span class="date">منذ {i + 2} ساعات</span></li>' for i, r in enumerate(related))  # fmt: skip
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="UTF-8">
<title>{_e(a.title)} | {_SITE_NAME}</title><link rel="canonical" href="http://SITE{a.path}">
<meta property="og:title" content="{_e(a.title)}"><meta property="og:site_name" content="{_SITE_NAME}">
<meta property="article:section" content="{_e(a.section)}">
<meta property="article:published_time" content="{a.published}">
<meta property="article:modified_time" content="{a.modified}">
</head><body class="single single-post rtl"><div id="tie-container">{_header("ar")}
<div id="content"><div class="main-content"><article id="the-post" class="post-content">
<header class="entry-header-outer"><nav id="breadcrumb"><a href="/">الرئيسية</a> / <a href="/">{_e(a.section)}</a></nav>
<h1 class="post-title entry-title">{_e(a.title)}</h1><div class="post-meta"><span class="date meta-item">{_ar_date(a.published)}</span>
<span class="meta-item last-updated">آخر تحديث: {_ar_date(a.modified)}</span></div></header>
<div class="share-buttons"><a href="#">فيسبوك</a><a href="#">تويتر</a></div>
<div class="entry-content entry clearfix">{body}</div>
<div class="post-bottom-meta post-bottom-tags"><span class="post-bottom-meta-title">كلمات دلالية:</span>
<span class="tagcloud">{tags}</span></div></article>
<div id="related-posts"><div class="mag-box-title"><h3>مقالات مشابهة</h3></div><ul>{similar}</ul></div>
<div id="comments"><h3>اترك تعليقاً</h3><form><textarea></textarea></form></div></div>
<aside class="sidebar"><div class="widget"><h4 class="widget-title">الأكثر قراءة</h4></div></aside></div>
<footer id="footer"><p>جميع الحقوق محفوظة © 2025 {_SITE_NAME}</p></footer></div></body></html>"""


def _english_page(a: DemoArticle, everything: dict[int, DemoArticle]) -> str:
    """A JSON-LD based theme with the body split over two blocks and a related-stories list."""
    related = [everything[i] for i in a.related if i in everything]
    half = len(a.paragraphs) // 2
    first = "".join(f"<p>{_e(p)}</p>" for p in a.paragraphs[:half])
    second = "".join(f"<p>{_e(p)}</p>" for p in a.paragraphs[half:])
    more = "".join(f'<li><a href="{r.path}">{_e(r.title)}</a></li>' for r in related)
    ld = (f'{{"@context":"https://schema.org","@type":"NewsArticle","headline":{_json(a.title)},'
          f'"datePublished":"{a.published}","dateModified":"{a.modified}","articleSection":{_json(a.section)},'
          f'"author":[{{"@type":"Person","name":"Demo Reporter"}}],"keywords":{_json(",".join(a.tags))},'
          f'"publisher":{{"@type":"Organization","name":"Demo News"}},"inLanguage":"en"}}')  # fmt: skip
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(a.title)} - Demo News</title>
<script type="application/ld+json">{ld}</script><link rel="canonical" href="http://SITE{a.path}"></head>
<body>{_header("en")}<main><article class="story"><h1 class="headline">{_e(a.title)}</h1>
<div class="byline">By Demo Reporter · <time datetime="{a.published}">{a.published[:10]}</time></div>
<section class="story-body">{first}</section><div class="newsletter-signup"><p>Get our newsletter every morning.</p></div>
<section class="story-body">{second}</section>
<div class="related-stories"><h2>Related</h2><ul>{more}</ul></div></article></main>
<footer><p>© 2025 Demo News</p></footer></body></html>"""


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


# --- serving -----------------------------------------------------------------------------------------------


def handler_class(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    """The request handler serving site (crawler.demo.faults subclasses it)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionResetError:
                # a client that stopped reading (a size cap, a killed crawler) resets its keep-alive
                # connection; socketserver would print a traceback for it
                self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if site.status_override is not None:
                self._send(site.status_override, "text/plain", b"unavailable", {})
                return
            status, content_type, text = site.page(self.path)
            host = self.headers.get("Host", "127.0.0.1")
            body = text.replace("http://SITE", f"http://{host}").encode("utf-8")
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                self._send(304, None, b"", {"ETag": etag})
                return
            self._send(status, content_type, body, {"ETag": etag} if status == 200 else {})

        def _send(self, status: int, content_type: str | None, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet server
            return

    return Handler


def serve(
    site: NewsSite, port: int = 0, host: str = "127.0.0.1", handler: type[BaseHTTPRequestHandler] | None = None
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve site on host:port (0 = a free port) from a daemon thread; ``server.shutdown()`` stops it."""
    server = ThreadingHTTPServer((host, port), handler or handler_class(site))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    return server, thread


def change_periodically(site: NewsSite, new_every: float, stop: threading.Event, log: Callable[[str], None]) -> None:
    """Add an article every new_every seconds and edit an older one every third tick, until stop is set."""
    tick = 0
    while not stop.wait(new_every):
        tick += 1
        article = site.add_article()
        log(f"demo site: published article {article.id} ({article.language}) {article.title[:50]}")
        if tick % 3 == 0:
            edited = site.edit_article(random.randint(1, article.id - 1))
            log(f"demo site: edited article {edited.id}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo news site (static) on 127.0.0.1.")
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    site = NewsSite(args.articles, start=datetime(2024, 1, 1, tzinfo=UTC))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_class(site))
    print(f"serving {args.articles} articles on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
