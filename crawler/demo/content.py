"""Deterministic article text for the demo site: Arabic and English news paragraphs from word pools."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["DemoArticle", "make_article"]

_AR_SUBJECTS = [
    "وزارة الخارجية",
    "الحكومة العراقية",
    "البنك المركزي",
    "مجلس النواب",
    "وزارة النفط",
    "المفوضية العليا",
    "رئيس الوزراء",
    "وزارة الصحة",
    "الأمم المتحدة",
    "وزارة التربية",
    "محافظ البصرة",
    "وزارة الكهرباء",
]
_AR_VERBS = ["أعلنت", "أكدت", "ناقشت", "بحثت", "كشفت", "أوضحت", "نفت", "رحبت"]
_AR_OBJECTS = [
    "خطة جديدة لتحسين الخدمات في المحافظات",
    "نتائج الاجتماع الدوري مع الشركاء الدوليين",
    "إجراءات لدعم الاقتصاد المحلي وتوفير فرص العمل",
    "موعد بدء المرحلة الثانية من المشروع",
    "تفاصيل الاتفاق الموقع مع الجانب الأميركي",
    "ارتفاع إنتاج النفط خلال الشهر الماضي",
    "تخصيص مبالغ إضافية لمشاريع البنى التحتية",
    "تشكيل لجنة لمتابعة تنفيذ القرارات",
]
_AR_TAILS = [
    "وفقاً لبيان رسمي صدر اليوم",
    "بحسب مصادر مطلعة",
    "في مؤتمر صحفي عقد في بغداد",
    "خلال جلسة استمرت عدة ساعات",
    "وسط ترحيب من الأوساط الاقتصادية",
    "على أن تستكمل الإجراءات قريباً",
]
_AR_SECTIONS = ["سياسة", "اقتصاد", "محلي", "تقارير"]
_AR_TAGS = ["العراق", "بغداد", "الاقتصاد العراقی", "النفط", "الحکومة", "الانتخابات", "البصرة"]
_EN_SUBJECTS = [
    "The city council",
    "The central bank",
    "Regional officials",
    "The health ministry",
    "Researchers",
    "The transport authority",
    "A parliamentary committee",
    "The energy regulator",
]
_EN_VERBS = ["announced", "approved", "reviewed", "rejected", "outlined", "postponed", "defended", "published"]
_EN_OBJECTS = [
    "a plan to expand public transport",
    "new rules for river water allocation",
    "the annual budget",
    "a report on hospital waiting times",
    "measures to support small businesses",
    "a timetable for the power grid upgrade",
    "the results of a national survey",
]
_EN_TAILS = [
    "on Tuesday, according to a statement",
    "after weeks of debate",
    "despite objections from opponents",
    "in a move welcomed by local groups",
    "ahead of the next session",
    "citing rising costs",
]
_EN_SECTIONS = ["World", "Business", "Science", "Politics"]
_EN_TAGS = ["economy", "energy", "health", "transport", "budget", "climate"]


@dataclass(slots=True)
class DemoArticle:
    id: int
    language: str
    slug: str
    title: str
    section: str
    tags: list[str]
    paragraphs: list[str]
    published: str  # ISO 8601 with offset
    modified: str
    revision: int = 1
    related: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/{self.published[:4]}/{self.published[5:7]}/{self.published[8:10]}/{self.slug}/"


def _sentence(rng: random.Random, language: str) -> str:
    if language == "ar":
        return f"{rng.choice(_AR_VERBS)} {rng.choice(_AR_SUBJECTS)} {rng.choice(_AR_OBJECTS)}، {rng.choice(_AR_TAILS)}."
    return f"{rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_VERBS)} {rng.choice(_EN_OBJECTS)}, {rng.choice(_EN_TAILS)}."


def make_paragraph(rng: random.Random, language: str) -> str:
    return " ".join(_sentence(rng, language) for _ in range(rng.randint(2, 4)))


def make_article(article_id: int, published: str, language: str | None = None) -> DemoArticle:
    """Article number article_id, the same every time for the same arguments."""
    rng = random.Random(article_id)
    language = language or ("ar" if article_id % 3 else "en")
    if language == "ar":
        title = f"{rng.choice(_AR_SUBJECTS)} {rng.choice(_AR_VERBS)} {rng.choice(_AR_OBJECTS)}"
        section, tags = rng.choice(_AR_SECTIONS), rng.sample(_AR_TAGS, 2)
    else:
        title = f"{rng.choice(_EN_SUBJECTS)} {rng.choice(_EN_VERBS)} {rng.choice(_EN_OBJECTS)}"
        section, tags = rng.choice(_EN_SECTIONS), rng.sample(_EN_TAGS, 2)
    paragraphs = [make_paragraph(rng, language) for _ in range(rng.randint(4, 8))]
    return DemoArticle(
        article_id, language, f"story-{article_id}", title, section, tags, paragraphs, published, published
    )
