"""Authors' names as people, from whatever the page offers: structured values and printed bylines.

Pages write several people as one string ("Jane Doe and John Roe", "Anna Martel und Lea Wagner",
"محمد علي و أحمد حسن", "Doe, Jane" in library style), add roles and handles ("Elena Oberholzer (obe)"),
"By", e-mail addresses, or give the publication itself as the author ("Lesotho Times", "STERN.de",
"Deutsche Welle (www.dw.com)"). clean_names turns one source's values into the people it names; a
source that names nobody gives way to the next (metadata.py orders them by trust).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from selectolax.lexbor import LexborNode

__all__ = ["byline_names", "clean_names"]

_BYLINE_PREFIX = re.compile(
    r"^(by|written by|posted by|author:?|words by|von|par|por|di|door|av|af|بقلم|كتب|كتبت|إعداد|اعداد|تحرير|نویسنده)\s*:?\s+",
    re.I,
)
_BYLINE_END = re.compile(r"\s(?:\||•|·|-|–|—|on|updated|published|في)\s|,\s(?=\w+\s\d)")
# Several people in one string: "A and B", "A und B", "A, B & C", "A و B".
_NAME_SPLIT = re.compile(r"\s*(?:[,;&]|\s(?:and|und|og|och|y|et|e|en|i|ve|و)\s)\s*", re.I)
_ROLE = re.compile(r"\s*[(\[][^)\]]{0,40}[)\]]\s*$")  # "Elena Oberholzer (obe)"
_NOT_NAMES = {
    "author",
    "authors",
    "the author",
    "by",
    "admin",
    "share",
    "about the author",
    "written by",
    "editor",
    "staff",
}
_NOT_A_NAME = re.compile(r"[@*]|http|www\.|\.(com|net|org|de|fr|co|uk|ch|at|it|es)\b|^skip |\bsays$", re.I)
_LIBRARY_STYLE = re.compile(r"^([^\s,]+),\s*([^\s,]+(?:\s[^\s,]+)?)$")  # "Brazil, Rachel" (dc.creator)


def clean_names(values: Iterable[str], site_name: str | None, host: str | None) -> list[str]:
    """The people named by one source's values, each once, in order; not an address, a label or a number,
    nor the publication (pass no site_name and host to keep it: a page that credits only itself)."""
    publication = {_key(site_name)} if site_name else set()
    label = (host or "").removeprefix("www.").split(".")[0].casefold()
    names: dict[str, None] = {}
    for value in values:
        value = " ".join((value or "").split())
        if not value or len(value) > 200:
            continue
        library = _LIBRARY_STYLE.match(value)
        parts = [f"{library.group(2)} {library.group(1)}"] if library else _NAME_SPLIT.split(value)
        for part in parts:
            name = _ROLE.sub("", _BYLINE_PREFIX.sub("", part.strip(" ,:|-–—"))).strip(" ,:|-–—")
            if looks_like_a_name(name) and _key(name) not in publication and not _names_the_host(name, label):
                names.setdefault(name, None)
    return list(names)


def byline_names(nodes: Iterable[LexborNode]) -> list[str]:
    """The name in the first byline element that reads like one ("By Jane Doe", "بقلم: فلان"): its link's
    text if it links to an author page, else its text without the "By" and whatever follows a separator."""
    for node in nodes:
        link = node.css_first("a")
        text = (link or node).text(deep=True, separator=" ")
        name = _BYLINE_PREFIX.sub("", " ".join(text.split()))
        name = _BYLINE_END.split(name, 1)[0].strip(" ,:|-–—")
        if looks_like_a_name(name):
            return [name]
    return []


def is_publication(name: str, site_name: str | None, host: str | None) -> bool:
    label = (host or "").removeprefix("www.").split(".")[0].casefold()
    return bool(site_name) and _key(name) == _key(site_name or "") or _names_the_host(name, label)


def looks_like_a_name(text: str) -> bool:
    words = text.split()
    return (
        1 <= len(words) <= 5
        and 2 <= len(text) <= 60
        and not any(ch.isdigit() for ch in text)
        and (text.casefold() not in _NOT_NAMES and not _NOT_A_NAME.search(text))
    )


def _names_the_host(name: str, label: str) -> bool:
    """ "n-tv NACHRICHTEN" on n-tv.de, "NTV" on ntv.com.tr: the publication, not a person."""
    label = label.replace("-", "")
    if len(label) < 2:
        return False
    squeezed, first = _key(name), _key(name.split()[0]) if name.split() else ""
    return label in (squeezed, first) or len(label) >= 5 and squeezed.startswith(label)


def _key(text: str) -> str:
    return re.sub(r"[\W_]", "", text.casefold())
