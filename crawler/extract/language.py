"""The article's language: what the page declares, unless its text plainly says otherwise.

Themes declare one language for a whole site (an Arabic article under lang="en-US"; an English story on
an Arabic site). A declaration whose script matches the text's (Arabic letters for ar/fa/ur..., Latin
letters for en/fr/...) is trusted: counting letters is cheap. Otherwise - no declaration, or the scripts
disagree - the text is classified by py3langid (a maintained langid.py with its model in the package),
which wins when confident. The source's configured language breaks ties between Arabic and Persian.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

__all__ = ["detect_language", "choose_language"]

_LETTER = re.compile(r"[^\W\d_]")
_SAMPLE_CHARS = 1000
_SCRIPT_SAMPLE_CHARS = 600  # the script check runs on every page: a short sample is enough
_MIN_LETTERS = 40  # below this the classifier guesses
_OVERRULE = 0.95  # confidence needed to contradict what the page declares
_ARABIC_SCRIPT = {"ar", "fa", "ur", "ps", "ku", "ckb"}
_LATIN_SCRIPT = {
    "en", "fr", "de", "es", "it", "pt", "nl", "tr", "id", "ms", "sv", "da", "no", "nb", "fi", "pl", "cs", "ro", "hu",
    "hr", "sl", "sk", "ca", "eu", "gl", "et", "lv", "lt", "sq", "sw", "tl", "vi", "az", "uz", "so", "ha",
}  # fmt: skip
_ARABIC_WORD = re.compile("[\u0600-\u06ff]+")
_LATIN_WORD = re.compile("[A-Za-z\u00c0-\u024f]+")
_MIN_WORDS = 10


def _script(sample: str) -> str | None:
    """ "arabic" or "latin" when words in one of them clearly dominate the sample, else None."""
    arabic, latin = _ARABIC_WORD.subn("", sample)[1], _LATIN_WORD.subn("", sample)[1]  # counts, in C
    if arabic > 3 * latin and arabic >= _MIN_WORDS:
        return "arabic"
    if latin > 3 * arabic and latin >= _MIN_WORDS:
        return "latin"
    return None


def _script_of(language: str) -> str | None:
    return "arabic" if language in _ARABIC_SCRIPT else "latin" if language in _LATIN_SCRIPT else None


@cache
def _identifier() -> Any:
    """The classifier, loaded once per process (about half a second)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, probability) of the text's language, or None for too little text."""
    sample = text[:_SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return None
    code, probability = _identifier().classify(sample)
    return str(code), float(probability)


def choose_language(declared: str | None, text: str, hint: str | None) -> tuple[str | None, bool]:
    """(language, whether it was detected from the text rather than declared or configured)."""
    script = _script(text[:_SCRIPT_SAMPLE_CHARS])
    if declared and (script is None or _script_of(declared) in (script, None)):
        return declared, False  # the declaration fits the text (or its script says nothing either way)
    detected = detect_language(text)
    if detected is None:
        return declared or hint, False
    code, probability = detected
    if hint in _ARABIC_SCRIPT and code in _ARABIC_SCRIPT and probability < 0.9:
        code = hint  # Arabic and Persian share letters; a weak call defers to the source's language
    contradicted = declared is not None and script is not None and _script_of(declared) not in (script, None)
    if declared is None or contradicted or (code != declared and probability >= _OVERRULE):
        return code, code != declared
    return declared, False
