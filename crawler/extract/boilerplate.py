"""Boilerplate rules: what on a news page is never part of an article's body.

Rules are data (tag names, class/id tokens, block headings), each with a one-line reason, so the
extraction issue can grow them without touching the scoring code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.textnorm import match_key

__all__ = [
    "COMMENTS",
    "names_a_small_widget",
    "boilerplate_strength",
    "is_boilerplate_block",
    "is_label",
    "is_label_heading",
    "is_label_paragraph",
    "strip_page_chrome",
]

# Never content: scripts and styles, forms and widgets, site chrome around the article.
_CHROME_TAGS = (
    "script, style, noscript, template, iframe, svg, canvas, button, input, select, textarea, "
    "nav, footer, aside, dialog, figure, figcaption, picture, video, audio, object, embed"
)
# AMP pages (<html amp> or <html ⚡>): ads, menus, share bars, consent dialogs and embeds are custom
# elements. A separate query, run on AMP pages only: every alternative in a selector costs on every page.
_AMP_CHROME = (
    "amp-ad, amp-embed, amp-sticky-ad, amp-sidebar, amp-social-share, amp-consent, amp-user-notification, "
    "amp-analytics, amp-iframe, amp-video, amp-youtube, amp-twitter, amp-instagram, amp-facebook"
)

_CHROME_TAG_NAMES = frozenset(tag.strip() for tag in _CHROME_TAGS.split(","))
_CHROME_LANDMARKS = {"aside", "nav", "footer", "dialog"}
_STRIP_SELECTOR = f"{_CHROME_TAGS}, form, [hidden], [aria-hidden=true]"

COMMENTS = 3  # the boilerplate strength of comment blocks

# Class/id tokens of blocks that are not the article. Strong: sharing, related stories, tag lists, comments,
# sidebars, author boxes, breadcrumbs, post meta lines, navigation between posts, the article's own header.
_STRONG_WORDS = (
    r"share|sharing|social|sociallinks|related|read-?also|readmore|more-?stories|also-?read|"
    r"tags|tagcloud|tag-?list|post-?tags|keywords|breadcrumbs?|comments?|comment-?respond|respond|"
    r"sidebar|authors?|author-?box|author-?bio|about-?author|bio|post-?meta|entry-?meta|"
    r"meta-?views|byline|pagination|pager|prev-?next|post-?navigation|outbrain|taboola|"
    r"recommend|recommended|you-?may-?like|next-?post|disqus|"
    r"fine-?print|disclaimer|copyrights?|legal-?notice|site-?info|colophon|footer|credits?|"  # the site's small print
    r"recent|trackbacks?|pingbacks?|textwidget|"  # blog platforms' lists of recent posts and pings, text widgets
    r"sr-only|visually-?hidden|screen-?reader-?(text|only)?|assistive-?text|"  # text for screen readers only
    r"profile-?(datablock|textblock|block|box|card|widget)|"  # a blog's "about me" box
    # the article's own header (title, byline, date, reading time) is metadata, read separately
    r"(entry|post|article|page|story)-?(header|head|info|details|byline|date|dateline)"
)
# Weak: newsletters, cookie banners, ads, promotions, "most read" lists, calls to action, buttons. A theme
# sometimes names its content wrapper after one of these (a newsletter archive's "newsletter-content").
_WEAK_WORDS = (
    r"newsletter|subscribe|subscription|cookie|consent|banner|advert|advertisement|ads|ad-?slot|sponsors?|sponsored|promo|"
    r"popular|most-?read|trending|print|toolbar|pay-?wall$|reg-?wall$|gallery|slideshow|"
    r"cta|call-?to-?action|opt-?in|signup|sign-?up|mailing-?list|mailchimp|mc4wp|convertkit|lead-?gen|"
    r"buttons?|btn|"
    # overlays: modals, lightboxes, consent managers (OneTrust, Didomi, Cookiebot, Usercentrics); not "cmp", which
    # is also Adobe Experience Manager's component prefix ("cmp-text")
    r"modal|popup|pop-?up|overlay|lightbox|fancybox|gdpr|onetrust|optanon|didomi|cookiebot|usercentrics"
)
# Comments: strong, and never the article however much of the page's prose they hold (a short post under
# hundreds of comments).
_COMMENT_WORDS = (
    r"comments?|comment-?(list|area|body|content|text|respond|thread|wrap|wrapper|section|block|box|container)|"
    r"commentlist|disqus(_thread)?"
)
_BOILERPLATE_WORDS = f"{_STRONG_WORDS}|{_WEAK_WORDS}"
_SMALL_WIDGET_TOKEN = re.compile(
    r"(^|[-_])(share|sharing|social|sociallinks|tags|tagcloud|tag-?list|post-?tags|keywords|breadcrumbs?|byline|"
    r"pagination|pager|prev-?next|post-?meta|entry-?meta|meta-?views|print|toolbar|buttons?|btn)([-_]|$)",
    re.IGNORECASE,
)
_COMMENT_TOKEN = re.compile(rf"(^|[-_])({_COMMENT_WORDS})$", re.IGNORECASE)  # "comments-enabled" is a state
_COMMENT_ID = re.compile(r"(div-)?comments?-\d+$", re.IGNORECASE)  # one comment: WordPress's "comment-552079"
_WEAK_TOKEN = re.compile(rf"(^|[-_])({_WEAK_WORDS})([-_]|$)", re.IGNORECASE)
_BOILERPLATE_TOKEN = re.compile(rf"(^|[-_])({_BOILERPLATE_WORDS})([-_]|$)", re.IGNORECASE)
# Sidebar widgets are "widget", "widget_text", "widget-area"; "elementor-widget-*" and HubSpot's "widget-span" are layout.
_WIDGET_TOKEN = re.compile(r"^widget([-_](?!span|type|container|wrap)|$)|^sidebar-widget", re.IGNORECASE)
# Tokens that describe, not name, a block: WordPress taxonomy classes ("tag-social", "category-comments")
# and layout states ("has-sidebar", "is-sticky-share", "container-with-sidebar" are cut out); BEM modifiers
# ("article--sidebar-right") are cut off.
_DESCRIPTIVE_TOKEN = re.compile(
    r"^((entry|post|article|node)-)?(tag|category|categories|topic|format|status|type|postid|page-id|has|with|no|"
    r"without|is|show|hide)-|^(entry|post|article|node)-author-"  # Movable Type / TypePad: "entry-author-jane_doe"
    r"|^js-",  # a script's hook ("js-social-images" on the content module), not the block's name
    re.IGNORECASE,
)
_LONGEST_NAME = 60
_HASH_PART = re.compile(r"(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{4,8}")  # a CSS-modules hash: "1FZLe", "3tRWy"
# "sidebar-grid" is a layout, not a sidebar; "comments-enabled", "share-count" describe a state or a part
_LAYOUT_NAME = re.compile(r"[-_](grid|layout|enabled|disabled|open|closed|count|counter|number|icon)$", re.IGNORECASE)
_CAMEL_HUMP = re.compile(r"([a-z])([A-Z])")  # "commentBody", "relatedPosts" read as "comment-Body"
_LAYOUT_STATE = re.compile(r"(^|[-_])(has|with|no|without)[-_][a-z]+", re.IGNORECASE)

# Headings and lines that announce a block of other stories, an ad, metadata or a tool, in the languages news
# sites are written in (as match keys).
_BLOCK_HEADINGS = frozenset(  # 260 labels: looked up, never walked
    match_key(label)
    for label in (
        "إقرأ أيضاً", "اقرأ أيضا", "اقرأ ايضا", "إقرأ أيضا", "مقالات مشابهة", "مقالات ذات صلة", "ذات صلة", "أخبار ذات صلة",
        "الأكثر قراءة", "الأكثر مشاهدة", "كلمات دلالية", "الكلمات الدلالية", "الوسوم", "وسوم", "اترك تعليقاً",
        "اترك تعليقا", "التعليقات", "شارك", "شارك الخبر", "تابعونا", "المزيد", "عاجل", "أخبار متعلقة",
        "read more", "read also", "also read", "related", "related articles", "related stories", "related posts",
        "more stories", "most read", "most popular", "you may also like", "recommended", "tags", "share this",
        "share", "comments", "leave a reply", "leave a comment", "follow us", "more from", "popular posts",
        "popular", "trending", "trending now", "more videos", "related videos", "you might also like", "latest posts",
        "recent posts", "latest news", "latest articles", "more news", "more articles", "read next", "up next",
        "subscribe", "newsletter", "sign up for our newsletter", "about the author", "share this article",
        "share this post", "share this story", "related content", "related reading", "further reading",
        "recommended for you", "don't miss", "editor's picks", "advertisement", "sponsored",
        "مواضيع ذات صلة", "أخبار مشابهة", "مقالات أخرى", "اقرأ المزيد", "شاهد أيضا", "شاهد أيضاً", "آخر الأخبار",
        "الأكثر تداولا", "اشترك في النشرة", "النشرة البريدية", "مواضيع مشابهة", "مطالب مرتبط", "اخبار مرتبط",
        # The same announcements and ad labels in the other languages news sites are most written in.
        "story continues below advertisement", "article continues below advertisement", "continue reading below",
        "advertisement - scroll to continue", "ad", "ads", "sponsored content", "more on this story",
        "anzeige", "werbung", "lesen sie auch", "lesen sie mehr", "mehr zum thema", "auch interessant",
        "das könnte sie auch interessieren", "weitere artikel", "mehr news", "empfohlener redaktioneller inhalt",
        "publicité", "lire aussi", "à lire aussi", "a lire aussi", "sur le même sujet", "lire la suite", "voir aussi",
        "publicidad", "lee también", "lea también", "te puede interesar", "noticias relacionadas", "más información",
        "pubblicità", "leggi anche", "potrebbe interessarti anche", "articoli correlati",
        "czytaj więcej", "czytaj też", "czytaj także", "zobacz też", "zobacz także", "reklama",
        "lees ook", "advertentie", "lees meer", "leia também", "leia mais", "publicidade", "veja também",
        "läs också", "läs mer", "annons", "les også", "annonse", "læs også", "reklame", "lue myös", "mainos",
        "читайте также", "реклама", "також читайте", "διαβάστε επίσης", "διαφήμιση", "ilgili haberler", "reklam",
        "häufig gelesen", "meistgelesen", "meist gelesen", "weitere informationen", "dieses thema im programm",
        "schlagwörter zu diesem artikel", "schlagwörter", "zum anhören",
        "les plus lus", "les plus populaires", "à voir aussi", "lo más leído", "più letti", "najczęściej czytane",
        "читать также", "по теме", "новости по теме", "другие новости", "последние новости", "самое читаемое",
        "комментарии", "поделиться", "теги", "σχετικά άρθρα", "δημοφιλή", "τελευταία νέα", "σχόλια", "ετικέτες",
        "κοινοποίηση", "komentarze", "udostępnij", "tagi", "polecane", "najnowsze", "相关新闻", "相关阅读",
        "相关文章", "推荐阅读", "延伸阅读", "热门文章", "广告", "分享到", "相關新聞", "延伸閱讀", "廣告",
        "関連記事", "関連ニュース", "おすすめ記事", "広告", "관련기사", "관련 기사", "많이 본 뉴스", "광고",
        # A page's furniture printed as words between paragraphs: tables of contents, media and quote labels,
        # the likes and comments widgets' lines.
        "table of contents", "continue reading the main story", "skip to next paragraph", "article continues below",
        "story continues below", "like this", "be the first to like this", "photo", "photos", "gallery", "video",
        "“start quote", "end quote", "hide caption", "toggle caption", "jump to comments (…)", "view all comments",
        "the comments to this entry are closed", "sign in or create an account", "advertise | adchoices",
        # tools and share buttons written out
        "font", "font size", "text size", "print", "print it", "printable version", "printer friendly", "email",
        "e-mail", "email it", "email to a friend", "e-mail this to a friend", "view larger image", "click to enlarge",
        "loading slideshow", "save", "reprints", "post a comment", "show caption", "story highlights",
        "you may also be interested in", "related post", "related posts worth a look", "topics", "digg", "digg it",
        "reddit", "reddit it", "facebook", "del.icio.us", "fark", "newsvine", "stumble it", "stumbleupon", "tweet",
        "linkedin", "whatsapp", "pinterest", "we apologize, but this video has failed to load",
    )
)  # fmt: skip
# A notice to the reader about their browser rather than article text: "best viewed in an up-to-date
# browser", "please enable JavaScript", "to see this content please enable targeting cookies".
_READER_NOTICE = re.compile(
    r"best viewed (?:in|with|using)|(?:enable|turn on|activate|allow) (?:\w+ ){0,2}(?:javascript|js|cookies)\b"
    r"|javascript (?:is )?(?:disabled|turned off|required|not enabled)|(?:upgrade|update) your (?:web )?browser"
    r"|(?:using|have) an? (?:outdated|old|unsupported|older) (?:web )?browser"
    r"|your browser (?:is (?:out of date|outdated|not supported)|does not support|doesn't support)",
    re.IGNORECASE,
)
_LONGEST_NOTICE = 400
# Announcements that go on with a topic or a site's name: "Mehr zum Thema Hitze", "More from CNN".
_PREFIX_LABELS = ("mehr zum thema ", "more from ", "more on ", "more about ", "related on ", "mehr aus ", "plus sur ")
_LONGEST_PREFIXED_LABEL = 60
_LABEL_PUNCTUATION = " :：-–—.!|»«"
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_LONGEST_LABEL = 2 * max(map(len, _BLOCK_HEADINGS)) + 10  # room for harakat, spaces and punctuation
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "div", "p", "header"}


def strip_page_chrome(tree: LexborHTMLParser) -> None:
    """Remove elements that are never article text, whatever the site, in one selector pass.

    Matches come in document order, so they are removed last-first: a descendant always goes before its
    ancestor, and no removed (freed) element is ever touched again."""
    root = tree.body or tree.root  # the head's scripts and styles never reach the body's text
    if root is None:
        return
    for node in reversed(root.css(_STRIP_SELECTOR)):
        tag = node.tag
        if tag == "form":
            # Comment, search and newsletter forms go; ASP.NET wraps whole pages in one <form>, which stays.
            if len(node.text(deep=True, separator=" ").strip()) < 500:
                node.decompose()
        elif tag == "figure" and node.css_first("table, pre") is not None:
            continue  # a table or a code listing set as a figure (WordPress's "wp-block-table") is content
        elif tag in _CHROME_TAG_NAMES:
            # Broken markup (an unclosed <aside>) can swallow the article: keep chrome that wraps it.
            if tag not in _CHROME_LANDMARKS or node.css_first("article, main, h1") is None:
                node.decompose()
        elif len(node.css("p")) < 3:
            node.decompose()  # hidden; but React streams server-rendered content into <div hidden id="S:0">
    page = tree.css_first("html")
    if page is not None and ("amp" in page.attrs or "⚡" in page.attrs):
        for node in reversed(root.css(_AMP_CHROME)):
            node.decompose()


def boilerplate_strength(node: LexborNode) -> int:
    """0: the class/id names no boilerplate; 1: a weak name (newsletter, promo, banner...); 2: a strong one
    (related, sidebar, share...); 3: comments. Classes on <body> describe the page ("single", "has-sidebar")."""
    attributes = node.attrs
    classes, ident = attributes.get("class"), attributes.get("id")
    if not (classes or ident) or node.tag in ("body", "html"):
        return 0
    return _names_strength(f"{classes or ''} {ident or ''}")


def names_a_small_widget(node: LexborNode) -> bool:
    """True when every boilerplate name of node is that of a widget that never holds paragraphs (share
    buttons, tag lists, breadcrumbs, the meta line, pagination, toolbars): such a name on a block of prose
    is a theme's wrapper ("share_wrapper" around a whole story), not the widget."""
    attributes = node.attrs
    return _names_small_widget(f"{attributes.get('class') or ''} {attributes.get('id') or ''}")


@lru_cache(maxsize=16384)
def _names_small_widget(names: str) -> bool:
    flagged = [token for token in names.split() if _token_strength(token)]
    return bool(flagged) and all(_SMALL_WIDGET_TOKEN.search(_bem_name(token)) for token in flagged)


@lru_cache(maxsize=16384)
def _names_strength(names: str) -> int:
    strongest = 0
    for token in names.split():
        strongest = max(strongest, _token_strength(token))
        if strongest == COMMENTS:
            break
    return strongest


@lru_cache(maxsize=65536)  # a few MB at most; tokens repeat across a source's pages and a theme's sites
def _token_strength(token: str) -> int:
    """The class/id test for one token, memoised: tokens repeat across a site's (and a theme's) pages."""
    if len(token) > _LONGEST_NAME or "/" in token:
        return 0  # a URL or a slug used as an id ("…/read-comments-on-mobile-web"): it names a page, not a block
    token = _LAYOUT_STATE.sub("", _CAMEL_HUMP.sub(r"\1-\2", _bem_name(token.split("--", 1)[0])))
    if _DESCRIPTIVE_TOKEN.search(token) or _LAYOUT_NAME.search(token):
        return 0
    if _COMMENT_TOKEN.search(token) or _COMMENT_ID.match(token):
        return COMMENTS
    if not (_BOILERPLATE_TOKEN.search(token) or _WIDGET_TOKEN.search(token)):
        return 0
    stripped = _WEAK_TOKEN.sub("-", token)
    return 2 if _BOILERPLATE_TOKEN.search(stripped) or _WIDGET_TOKEN.search(stripped) else 1


def _bem_name(token: str) -> str:
    """What a BEM or CSS-modules class says of its own element: "sidebar-grid__content" names the content
    of a sidebar grid, "sidebar-grid__sidebar" its sidebar; "article-body__content__17Yit" ends in a hash."""
    if "__" not in token:
        return token
    parts = [part for part in token.split("__") if part and not _HASH_PART.fullmatch(part)]
    return parts[-1] if parts else token


def is_label(text: str) -> bool:
    """True when text is one of the block headings, give or take punctuation."""
    return len(text) <= _LONGEST_LABEL and _is_label_text(text)


@lru_cache(maxsize=8192)
def _is_label_text(text: str) -> bool:
    if not _ARABIC_SCRIPT.search(text):  # Latin labels need no Arabic folding: a cheap key will do
        key = " ".join(text.split()).strip(_LABEL_PUNCTUATION).casefold()
        return key in _BLOCK_HEADINGS or (len(key) <= _LONGEST_PREFIXED_LABEL and key.startswith(_PREFIX_LABELS))
    return match_key(text).strip(_LABEL_PUNCTUATION) in _BLOCK_HEADINGS


def is_boilerplate_block(node: LexborNode) -> bool:
    """A block of the body that is boilerplate by its tag or by the heading it opens with (callers test
    boilerplate_strength themselves, once per element)."""
    if node.tag == "header":
        return True  # a <header> inside the article holds its title and byline, read as metadata
    first = node.child
    while first is not None and (first.is_text_node and not (first.text_content or "").strip()):
        first = first.next
    if first is None or first.is_text_node or first.tag not in _HEADING_TAGS:
        return False
    heading = first.text(deep=True, separator=" ")
    return len(heading) < 60 and is_label(heading) and node.tag not in ("p", "h1", "h2", "h3", "h4", "h5", "h6")


def is_label_heading(node: LexborNode) -> bool:
    """A heading element whose text announces other stories ("Related posts" before a list of links)."""
    return node.tag in ("h2", "h3", "h4", "h5", "h6") and is_label(node.text(deep=True, separator=" "))


def is_reader_notice(text: str) -> bool:
    """A short block that speaks to the reader about their browser (JavaScript, cookies, an old browser)."""
    if len(text) > _LONGEST_NOTICE:
        return False
    lowered = text.lower()  # the words first, spelled out (a generator costs twice as much): every run is asked
    named = "browser" in lowered or "javascript" in lowered or "cookie" in lowered or " js" in lowered
    return (named or "best viewed" in lowered) and _READER_NOTICE.search(text) is not None


def is_label_paragraph(text: str, link_text_length: int) -> bool:
    """A short paragraph that is a label ("شارك") or a 'read also: <link>' teaser."""
    if len(text) < 40 and is_label(text):
        return True
    head = text.split(":", 1)[0] if ":" in text[:30] else ""
    return bool(head) and is_label(head) and link_text_length > 0.5 * len(text)
