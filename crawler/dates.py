"""Date strings → timezone-aware datetimes.

Machine-readable dates (ISO 8601 from JSON-LD, meta tags, <time datetime>) take a fast stdlib path.
Human-written dates go through a small pre-normaliser (labels such as "آخر تحديث:", double month names
"مارس/ آذار", the era suffix "2020م", tatweel and bidi marks), then, in order:
- "… هـ الموافق 25 يناير 2024 م": the Gregorian part after الموافق;
- Hijri dates (a Hijri month name): hijridate's Umm al-Qura conversion, never dateparser's guess;
- Jalali dates (a Persian month name and a 13xx/14xx year): jdatetime's arithmetic calendar;
- relative dates ("منذ 3 ساعات", "أمس", "2 hours ago"), only when the caller asks for them, from ``now``;
- a plain English date by a fast path; anything else with a four-digit year by dateparser with fixed
  locales tried in turn. Autodetection is never used (slow, and it reads "15 آب 2025" as Urdu and returns
  today), and a string without a year is never completed with today's day and month.
Dates without an offset take the page's or source's time zone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from crawler.textnorm import ascii_digits

__all__ = ["ARABIC_MONTHS", "as_utc", "parse_date", "parse_iso"]

# Locale cascade: Iraqi/Levantine (includes the Egyptian/Gulf names), Maghrebi, Moroccan, English.
_LOCALES = (("ar-IQ",), ("ar-DZ",), ("ar-MA",), ("en",))
_BIDI_TATWEEL = re.compile("[\u0640\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HARAKAT = re.compile("[\u064b-\u065f\u0670]")
_MONTHS = (
    "يناير|فبراير|مارس|أبريل|ابريل|إبريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|اغسطس|سبتمبر|أكتوبر|اكتوبر|نوفمبر|ديسمبر|"
    "كانون الثاني|كانون الأول|كانون الاول|شباط|آذار|اذار|نيسان|أيار|ايار|حزيران|تموز|آب|اب|أيلول|ايلول|"
    "تشرين الأول|تشرين الاول|تشرين الثاني|جانفي|فيفري|أفريل|ماي|جوان|جويلية|أوت"
)
ARABIC_MONTHS = _MONTHS  # a regex alternation, for finding dates in running text
_DUAL_MONTH = re.compile(rf"({_MONTHS})\s*[/\\-]\s*({_MONTHS})")
_ERA_AFTER_YEAR = re.compile(r"(\d{4})\s*(?:م|ميلادي|ميلادية)(?=\s|$|[،,.\-])")
_WEEKDAY_OR_DIGIT = re.compile(
    rf"(\d|الأحد|الاحد|الإثنين|الاثنين|الأثنين|الثلاثاء|الأربعاء|الاربعاء|الخميس|الجمعة|السبت|{_MONTHS}|[A-Za-z])"
)
_EARLIEST = datetime(1990, 1, 1)
_ENGLISH_MONTH_NAMES = {
    name.lower()
    for full in ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December")
    for name in (full, full[:3], "sept" if full == "September" else full[:3])
}  # fmt: skip
_ENGLISH_MONTHS = {name[:3]: index for index, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_ENGLISH_DATE = re.compile(
    r"(?:(?P<m1>[A-Za-z]{3,9})\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m2>[A-Za-z]{3,9})\.?,?\s+(?P<y2>\d{4}))\s*$"
)
_YEAR = re.compile(r"(?<!\d)(?:19|20|13|14)\d{2}(?!\d)")  # Gregorian, Hijri and Jalali years
_LETTER_FOLD = str.maketrans({"ی": "ي", "ک": "ك", "أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "\u200c": " "})
# Hijri months (Umm al-Qura), in folded letters; ذي is the genitive of ذو.
_HIJRI_MONTH_NUMBERS = {
    name: number
    for number, names in enumerate((
        ("محرم",), ("صفر",), ("ربيع الاول", "ربيع الأول"), ("ربيع الثاني", "ربيع الاخر", "ربيع الآخر"),
        ("جمادى الاولى", "جمادي الاولي", "جمادى الاول"), ("جمادى الاخرة", "جمادى الثانية", "جمادي الاخرة"),
        ("رجب",), ("شعبان",), ("رمضان",), ("شوال",), ("ذو القعدة", "ذي القعدة"), ("ذو الحجة", "ذي الحجة"),
    ), start=1)
    for name in (n.translate(_LETTER_FOLD) for n in names)
}  # fmt: skip
_HIJRI_DATE = re.compile(
    rf"(?P<day>\d{{1,2}})\s+(?P<month>{'|'.join(sorted(_HIJRI_MONTH_NUMBERS, key=len, reverse=True))})\s+(?P<year>1[34]\d{{2}})"
)
_JALALI_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("فروردين", "ارديبهشت", "خرداد", "تير", "مرداد", "شهريور", "مهر", "ابان", "اذر", "دي", "بهمن", "اسفند"), start=1
    )
}
_JALALI_DATE = re.compile(
    rf"(?P<day>\d{{1,2}})\s+(?P<month>{'|'.join(_JALALI_MONTH_NUMBERS)})\s+(?P<year>1[34]\d{{2}})"
    r"(?:\s*[-،,]?\s*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)
_UNIT_SECONDS = {
    **dict.fromkeys(("ثانية", "ثوان", "ثواني", "second"), 1),
    **dict.fromkeys(("دقيقة", "دقائق", "minute"), 60),
    **dict.fromkeys(("ساعة", "ساعات", "hour"), 3600),
    **dict.fromkeys(("يوم", "ايام", "day"), 86400),
    **dict.fromkeys(("اسبوع", "اسابيع", "week"), 604800),
    **dict.fromkeys(("شهر", "اشهر", "month"), 30 * 86400),
    **dict.fromkeys(("سنة", "سنوات", "عام", "اعوام", "year"), 365 * 86400),
}
_DUAL_UNITS = {"ثانيتين": "ثانية", "دقيقتين": "دقيقة", "ساعتين": "ساعة", "يومين": "يوم", "اسبوعين": "اسبوع",
               "شهرين": "شهر", "سنتين": "سنة", "عامين": "عام"}  # fmt: skip
_ARABIC_AGO = re.compile(
    rf"(?:منذ|قبل|مضت)\s+(?P<count>\d+)?\s*(?P<unit>{'|'.join(sorted([*_UNIT_SECONDS, *_DUAL_UNITS], key=len, reverse=True))})"
)
_ENGLISH_AGO = re.compile(r"(?P<count>\d+|an?|one)?\s*(?P<unit>second|minute|hour|day|week|month|year)s?\s+ago")
_PERSIAN_PM = re.compile(r"ب\.\s?ظ|بعد از ظهر|عصر")
_RELATIVE_DAYS = {"امس": 1, "البارحة": 1, "اول امس": 2, "yesterday": 1}


def parse_iso(text: str, tz: str = "UTC") -> datetime | None:
    """Parse an ISO 8601 timestamp; a missing offset takes tz. None if it is not ISO."""
    text = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def as_utc(iso: str | None) -> str | None:
    """An ISO 8601 instant with any offset as UTC ("2024-01-25T14:32:00+03:00" → "2024-01-25T11:32:00+00:00");
    naive or unparseable strings come back as they are."""
    if not iso:
        return iso
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return value.astimezone(ZoneInfo("UTC")).isoformat() if value.tzinfo else iso


def parse_date(text: str, tz: str = "UTC", now: datetime | None = None, *, relative: bool = False) -> datetime | None:
    """Parse a date as printed on a news page, or None when it is not a full, plausible date.
    ``relative`` accepts "منذ 3 ساعات"-style strings, counted back from ``now`` (default: the current time)."""
    if not text or len(text) > 200:
        return None
    iso = parse_iso(text, tz)
    if iso is not None:
        return iso if _plausible(iso, now) else None
    if relative and (ago := _relative_date(_strip_marks(text), now or datetime.now(ZoneInfo(tz)))) is not None:
        return ago
    cleaned = _prenormalize(text)
    if "الموافق" in cleaned:  # "13 رجب 1445 هـ الموافق 25 يناير 2024 م": the Gregorian date follows
        cleaned = _ERA_AFTER_YEAR.sub(r"\1", cleaned.split("الموافق")[-1]).strip()
    if not cleaned or not _YEAR.search(cleaned):
        return None  # no four-digit year: a partial date ("5 May") is never completed with today's
    calendar_date = _hijri_date(cleaned, tz) or _jalali_date(cleaned, tz)
    if calendar_date is not None:
        return calendar_date if _plausible(calendar_date, now) else None
    value = _english_date(cleaned, tz)
    if value is not None:
        return value if _plausible(value, now) else None
    for locales in _LOCALES:
        value = _parser(locales).get_date_data(cleaned).date_obj
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=ZoneInfo(tz))
            return value if _plausible(value, now) else None
    return None


def _hijri_date(text: str, tz: str) -> datetime | None:
    """A Hijri date ("14 رجب 1445 هـ", Umm al-Qura calendar); None when no Hijri month is named."""
    match = _HIJRI_DATE.search(_fold_letters(text))
    if match is None:
        return None
    from hijridate import Hijri  # imported on first use: most pages never need it

    month = _HIJRI_MONTH_NUMBERS[_fold_letters(match["month"])]
    try:
        gregorian = Hijri(int(match["year"]), month, int(match["day"])).to_gregorian()
    except (ValueError, OverflowError):
        return None
    return datetime(gregorian.year, gregorian.month, gregorian.day, tzinfo=ZoneInfo(tz))


def _jalali_date(text: str, tz: str) -> datetime | None:
    """A Jalali (Persian) date ("۲۹ بهمن ۱۳۹۸ - ۰۶:۵۵"); None without a Persian month and a 13xx/14xx year."""
    match = _JALALI_DATE.search(_fold_letters(text))
    if match is None:
        return None
    import jdatetime  # imported on first use

    try:
        gregorian = jdatetime.date(
            int(match["year"]), _JALALI_MONTH_NUMBERS[match["month"]], int(match["day"])
        ).togregorian()
        year, month, day = gregorian.year, gregorian.month, gregorian.day
        hour, minute = (int(match["hour"]), int(match["minute"])) if match["hour"] else (0, 0)
        if hour < 12 and _PERSIAN_PM.search(text):
            hour += 12  # ب.ظ: "after noon"
        return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))
    except (ValueError, OverflowError):
        return None


def _relative_date(text: str, now: datetime) -> datetime | None:
    """ "منذ 3 ساعات", "قبل يومين", "أمس", "5 minutes ago", "yesterday" → now minus that much."""
    text = _fold_letters(text).strip()
    if text in _RELATIVE_DAYS:
        return now - timedelta(days=_RELATIVE_DAYS[text])
    match = _ARABIC_AGO.fullmatch(text) or _ENGLISH_AGO.fullmatch(text.lower())
    if match is None:
        return None
    unit = match["unit"]
    dual = unit in _DUAL_UNITS
    count = 2 if dual else int(match["count"]) if (match["count"] or "").isdigit() else 1
    seconds = _UNIT_SECONDS[_DUAL_UNITS.get(unit, unit)]
    return now - timedelta(seconds=count * seconds)


def _fold_letters(text: str) -> str:
    """Persian ی/ک as Arabic ي/ك and alef forms as ا, for matching month and unit names."""
    return text.translate(_LETTER_FOLD)


def _english_date(text: str, tz: str) -> datetime | None:
    """Fast path for the commonest English forms, date only ("December 19, 2025", "19 Dec 2025"):
    dateparser takes half a millisecond per call, this a microsecond."""
    match = _ENGLISH_DATE.match(text)
    if match is None:
        return None
    month = _ENGLISH_MONTHS.get((match["m1"] or match["m2"]).lower()[:3])
    day, year = int(match["d1"] or match["d2"]), int(match["y1"] or match["y2"])
    if month is None or (match["m1"] or match["m2"]).lower() not in _ENGLISH_MONTH_NAMES:
        return None
    try:
        return datetime(year, month, day, tzinfo=ZoneInfo(tz))
    except ValueError:
        return None


def _strip_marks(text: str) -> str:
    return " ".join(ascii_digits(_HARAKAT.sub("", _BIDI_TATWEEL.sub("", text))).split())


def _prenormalize(text: str) -> str:
    """Strip what dateparser trips on: marks, labels before the date, double months, the era suffix."""
    text = ascii_digits(_HARAKAT.sub("", _BIDI_TATWEEL.sub("", text)))
    text = text.replace("\u00a0", " ").replace("|", " ").replace("،", " ")
    first = _WEEKDAY_OR_DIGIT.search(text)
    if first is None:
        return ""
    text = text[first.start() :]  # drops "آخر تحديث:", "نشر في:", "القاهرة:" and the like
    text = _DUAL_MONTH.sub(r"\1", text)
    text = _ERA_AFTER_YEAR.sub(r"\1", text)
    return " ".join(text.split())


@lru_cache(maxsize=8)
def _parser(locales: tuple[str, ...]) -> Any:
    from dateparser.date import DateDataParser  # 100 ms import; only pages without ISO dates need it

    return DateDataParser(
        locales=list(locales),
        try_previous_locales=False,
        settings={"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DATES_FROM": "past"},
    )


def _plausible(value: datetime, now: datetime | None) -> bool:
    """Reject dates before 1990 or more than a day in the future."""
    naive = value.replace(tzinfo=None)
    if naive < _EARLIEST:
        return False
    reference = now or datetime.now(value.tzinfo)
    return value <= reference.astimezone(value.tzinfo) + timedelta(days=1) if value.tzinfo else True
