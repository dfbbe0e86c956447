"""Site templates: text blocks that recur across a source's articles are the site's, not an article's.

Learning reads the bodies already stored for a source (what the generic extractor kept), splits them
into blocks (paragraphs, list blocks) and counts each block's match key once per article. A block seen
in enough of the source's articles (a fixed "follow us on Telegram" line, a copyright notice, a recurring
promo) joins the template; later extractions for that source drop it. Pure functions: the store keeps
the learned template (table ``template_blocks``) and the pipeline decides when to learn.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from crawler.textnorm import match_key

__all__ = ["TemplateBlock", "block_key", "learn_template", "remove_template_blocks", "split_blocks"]

MIN_ARTICLES = 5  # below this, "recurring" means nothing
MIN_SHARE = 0.4  # a block in at least this share of the sampled articles is template
MAX_BLOCK_CHARS = 600  # long recurring texts are rare and may be a syndicated article: never learned


@dataclass(frozen=True, slots=True)
class TemplateBlock:
    key: str
    text: str  # one example of the block, for people reading the template
    articles: int  # in how many of the sampled articles it appeared
    sampled: int  # how many articles were sampled


def split_blocks(body: str) -> list[str]:
    return [block for block in body.split("\n\n") if block.strip()]


def block_key(text: str) -> str:
    """The same key for spelling variants of one block (match_key form), short enough to index."""
    return hashlib.sha1(match_key(text).encode()).hexdigest()[:16]


def learn_template(bodies: Iterable[str]) -> list[TemplateBlock]:
    """The recurring blocks of one source's article bodies, most frequent first."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    sampled = 0
    for body in bodies:
        sampled += 1
        keys = set()
        for block in split_blocks(body):
            if len(block) <= MAX_BLOCK_CHARS:
                key = block_key(block)
                keys.add(key)
                examples.setdefault(key, block)
        counts.update(keys)
    if sampled < MIN_ARTICLES:
        return []
    threshold = max(3, MIN_SHARE * sampled)
    return [TemplateBlock(key, examples[key], seen, sampled) for key, seen in counts.most_common() if seen >= threshold]


def remove_template_blocks(body: str, keys: frozenset[str]) -> str:
    """The body without its template blocks (unchanged when there is no template)."""
    if not keys or not body:
        return body
    return "\n\n".join(block for block in split_blocks(body) if block_key(block) not in keys)
