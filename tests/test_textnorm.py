"""The two levels of text normalisation: display form (stored, shown) and match key (hashes, dedup, search)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.textnorm import ascii_digits, display_text, match_key

SEED = json.loads((Path(__file__).parent / "golden" / "seed" / "article.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("raw", "language", "shown"),
    [
        ("ﺍﻟﻌﺮﺍﻕ", "ar", "العراق"),  # presentation forms → letters (NFKC)
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
