"""The two levels of text normalisation: display form (stored, shown) and match key (hashes, dedup, search)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.dedupe import comparable_words, comparable_words_of_key
from crawler.neardup import signature
from crawler.search import index_text, index_text_of_key
from crawler.textnorm import ascii_digits, display_text, match_key, match_keys_by_piece

SEED = json.loads((Path(__file__).parent / "golden" / "seed" / "article.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("raw", "language", "shown"),
    [
        ("ﺍﻟﻌﺮﺍﻕ", "ar", "العراق"),  # presentation forms → letters (NFKC, on those only)
        ("１３日、約３６キロ…", "ja", "１３日、約３６キロ…"),  # full-width digits and the ellipsis shown as written
        ("50\u00a0m² in 2024\u3000today", None, "50 m² in 2024 today"),  # odd spaces tidied, m² kept
        ("الخـــارجيـــة", "ar", "الخارجية"),  # tatweel
        ("\u200fبغداد\u200e \u202bالموصل\u202c", "ar", "بغداد الموصل"),  # bidi marks
        ("كتب\u200bالمراسل", "ar", "كتبالمراسل"),  # zero-width space removed
        ("الولایات المتحدة", "ar", "الولايات المتحدة"),  # Persian ی → ي on Arabic pages
        ("الولایات المتحدة", "fa", "الولایات المتحدة"),  # ... but not on Persian pages
        ("می\u200cخواهم", "fa", "می\u200cخواهم"),  # ZWNJ is Persian spelling: kept
        ("أَكَّدَت الخَارِجِيَّةُ", "ar", "أَكَّدَت الخَارِجِيَّةُ"),  # harakat are shown as written
        ("  two   spaces\n\n\n\nand lines  ", None, "two spaces\n\nand lines"),
    ],
)
def test_display_form(raw: str, language: str | None, shown: str) -> None:
    assert display_text(raw, language) == shown


def test_the_seed_tags_come_out_normalised() -> None:
    tags = [display_text(tag, "ar") for tag in SEED["tags_raw"]]
    assert tags == SEED["tags_normalized"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("أَكَّدَت الخَارِجِيَّةُ", "اكدت الخارجيه"),  # harakat, hamza forms, ta marbuta
        ("إعلان", "اعلان"),
        ("آذار", "اذار"),
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("القوات الأمیرکیة", "القوات الاميركيه"),  # Persian letters
        ("٢٠٢٤ و۲۰۲۴", "2024 و2024"),  # Arabic-Indic and Persian digits
        ("Baghdad  News", "baghdad news"),  # case and spacing
    ],
)
def test_match_key_makes_spelling_variants_equal(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


def test_match_key_keeps_different_words_apart() -> None:
    assert match_key("العراق") != match_key("الأعراق")
    assert match_key("سلام") != match_key("سلم")


def test_ascii_digits() -> None:
    assert ascii_digits("١٤ رجب ١٤٤٥ / ۲۹ بهمن ۱۳۹۸") == "14 رجب 1445 / 29 بهمن 1398"


def test_a_long_body_is_keyed_piece_by_piece_with_the_same_result_as_whole() -> None:
    # 600,000 characters: three pieces, cut at line breaks, with untidy whitespace, harakat and digits
    paragraph = "أعلنت   الوزارةُ اليوم عن خطة ٢٠٢٤ للسدود،\tمنذ 3 ساعات قرأها ١٠ آلاف. The Council met.\n\n"
    body = "\n\n".join(SEED["body_paragraphs"]) + "\n\n" + paragraph * (600_000 // len(paragraph))
    pieces = list(match_keys_by_piece(body))
    assert len(pieces) >= 3
    key = match_key(body)
    assert " ".join(pieces) == key
    assert comparable_words(body) == comparable_words_of_key(key)
    assert index_text(body) == index_text_of_key(key)


def test_only_the_start_of_a_very_long_body_is_signed() -> None:
    words = [f"word{number}" for number in range(40_000)]
    long_body, start, other_start = " ".join(words), " ".join(words[:20_000]), " ".join(words[20_000:])
    assert signature(long_body) == signature(start) != signature(other_start)


def test_full_width_and_compatibility_forms_match_their_plain_spelling() -> None:
    """Shown as written, compared as NFKC: a site that switches to full-width digits has not edited."""
    assert match_key("１３日…") == match_key("13日...") and index_text("１３日") == index_text("13日")
