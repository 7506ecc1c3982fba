"""Read the values people type into forms: names, dates, yes/no (e-mails and phones: bot/contact_formats.py).

Deterministic parsers instead of fuzzy ones: a date of birth that is
misread would send a code to the wrong record, so anything unclear is
rejected and asked again.
"""
import re
from datetime import date
from typing import Optional, Tuple

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC_US = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH_FIRST = re.compile(r"^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)\.?,? (\d{4})$")
_YES = re.compile(r"^(y|ya|yes|yeah|yep|yup|sure|ok|okay|correct|right|i do|i agree|agree|accept|i accept|go ahead|please do|do it|send it|submit|absolutely|definitely|try again|retry)\b", re.I)
_NO = re.compile(r"^(n|no|nope|nah|not really|don'?t|do not|i don'?t|i do not|negative|never)\b", re.I)
_MAX_AGE_YEARS = 125


def parse_date_of_birth(text: str, today: Optional[date] = None) -> Optional[date]:
    """A real, past date of birth from 3/8/1979, 1979-03-08, March 8 1979 or 8 March 1979."""
    today = today or date.today()
    cleaned = re.sub(r"\s+", " ", text.strip().lower().rstrip("."))
    cleaned = re.sub(r"^(born|dob|my (date of )?birth ?(date|day)? is|it'?s)[: ]*", "", cleaned).strip()
    parts: Optional[Tuple[int, int, int]] = None
    if match := _NUMERIC_US.match(cleaned):
        parts = (int(match[3]), int(match[1]), int(match[2]))
    elif match := _ISO.match(cleaned):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif (match := _MONTH_FIRST.match(cleaned)) and match[1] in _MONTHS:
        parts = (int(match[3]), _MONTHS[match[1]], int(match[2]))
    elif (match := _DAY_FIRST.match(cleaned)) and match[2] in _MONTHS:
        parts = (int(match[3]), _MONTHS[match[2]], int(match[1]))
    if parts is None:
        return None
    try:
        born = date(*parts)
    except ValueError:
        return None
    if born > today or today.year - born.year > _MAX_AGE_YEARS:
        return None
    return born


# A date inside a sentence ("John Smith, dob 4/12/1985, my code expired"): the same four shapes, unanchored.
_DATE_IN_SENTENCE = re.compile(
    r"\b(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{1,2}-\d{1,2}|[a-z]+\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)? (?:of )?[a-z]+\.?,? \d{4})\b", re.I)
_BIRTH_CUE = re.compile(r"\b(born|dob|d\.o\.b|birth ?(date|day)|date of birth|bday|b-day)\b", re.I)
# A name said in passing: after "my name is", or after "I'm"/"this is" or before "here" when capitalised.
_NAME_WORD = r"[^\W\d_][\w'.\-]*"
_NAME_AFTER_CUE = re.compile(rf"(?<!user )\b(?:my name is|my name's|name is|name:|name)\s+({_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}})", re.I)
_CAPITALISED_NAME = r"[A-Z][\w'.\-]*(?:\s+[A-Z][\w'.\-]*){1,3}"
_NAME_INTRODUCED = re.compile(rf"\b(?:[Ii]'?m|[Ii] am|[Tt]his is|[Ii]t'?s)\s+({_CAPITALISED_NAME})|\b({_CAPITALISED_NAME})\s+here\b")
_NOT_NAME_WORDS = {"born", "dob", "and", "here", "my", "i", "im", "i'm", "from", "with", "date", "birthday", "bday",
                   "email", "e-mail", "phone", "is", "the", "a", "please", "pls", "thanks", "but", "can", "need",
                   "locked", "trying", "not", "so", "just", "also"}


def find_date_of_birth(text: str, needs_cue: bool = False, today: Optional[date] = None) -> Optional[date]:
    """A date of birth written inside a sentence; with `needs_cue`, only next to "born", "dob" or "birthday"."""
    if needs_cue and not _BIRTH_CUE.search(text):
        return None
    for match in _DATE_IN_SENTENCE.finditer(text):
        born = parse_date_of_birth(match.group(1), today)
        if born:
            return born
    return None


def _name_words(words: str) -> Optional[Tuple[str, str]]:
    """The name at the start of `words`, cut before the first word that is not part of a name."""
    kept = []
    for word in words.split():
        if word.lower().strip(".,") in _NOT_NAME_WORDS:
            break
        kept.append(word.strip(","))
        if word.endswith(","):
            break
    return parse_full_name(" ".join(kept))


def find_full_name(text: str) -> Optional[Tuple[str, str]]:
    """A name introduced in a sentence: "my name is maria lopez", "I'm Pat Kim, born ...", "John Smith here"."""
    for match in list(_NAME_AFTER_CUE.finditer(text)) + list(_NAME_INTRODUCED.finditer(text)):
        name = _name_words(next(group for group in match.groups() if group))
        if name:
            return name
    return None


def full_name_in_answer(text: str) -> Optional[Tuple[str, str]]:
    """The name given when it was asked, also with the date of birth or contact after it ("Robin Ortiz 7/4/1988")."""
    rest = _DATE_IN_SENTENCE.sub(" ", text)
    rest = re.sub(r"\S+@\S+|\+?[\d(][\d() .\-]{6,}\d", " ", rest)
    rest = _BIRTH_CUE.sub(" ", rest)
    if rest == text or "?" in text:
        return parse_full_name(text)
    return find_full_name(rest) or parse_full_name(re.sub(r"[\s,;:]+$", "", rest.strip()))


def parse_full_name(text: str) -> Optional[Tuple[str, str]]:
    """(first, last) from "Jane Doe", "jane van der berg", "Doe, Jane"; None if not a name."""
    cleaned = re.sub(r"^(my name is|i am|i'm|it'?s|name:?)\s+", "", text.strip(), flags=re.I)
    if "," in cleaned:
        last, _, first = cleaned.partition(",")
        cleaned = f"{first.strip()} {last.strip()}"
    words = cleaned.split()
    if len(words) < 2 or len(words) > 6 or len(cleaned) > 100:
        return None
    if not all(re.fullmatch(r"[^\W\d_][\w'.\-]*", word) or re.fullmatch(r"[\w'.\-]+", word) for word in words):
        return None
    if not re.search(r"[^\W\d_]", words[0]):
        return None
    return words[0], " ".join(words[1:])


def parse_yes_no(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """True for yes, False for no, None when the answer is neither."""
    stripped = text.strip()
    if _NO.match(stripped) or intent == "deny":
        return False
    if _YES.match(stripped) or intent == "affirm":
        return True
    return None
