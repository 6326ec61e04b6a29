"""Template lines: named pattern rules, and templates learned from the corpus.

A rule is a `regex` pattern that must match a whole unit (after its bullet
and indentation are cut off). Built-in rules cover the news patterns that
repetition alone cannot find because their tails vary (`Read more: <any
headline>`, `Updated: <any date>`) or because they occur once a page.
Learned templates catch a site's own such lines: a prefix of a few words
and a separator (`Watch:`, `Source |`) followed by a varying tail, seen in
at least `min_docs` documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import regex

from dedupe.config import Config, ConfigError
from dedupe.normalize import normalize_batch

MAX_RULE_CHARS = 250

_LANGUAGES = (
    "english|arabic|العربية|français|francais|español|espanol|deutsch|italiano|português|portugues|"
    "русский|中文|简体中文|繁體中文|日本語|한국어|türkçe|polski|nederlands|हिन्दी|فارسی|اردو|עברית|"
    "ελληνικά|українська|svenska|dansk|norsk|suomi|română|magyar|čeština|bahasa indonesia|tiếng việt|ไทย"
)
_STAMP_WORDS = (
    "updated|last updated|published|first published|posted|modified|last modified|"
    "обновлено|опубликовано|actualizado|publicado|mis à jour|publié|aktualisiert|veröffentlicht|"
    "aggiornato|pubblicato|更新|公開|更新日|公開日"
)
# Words after "By" that say when, not who, unless a capitalised word follows ("By May Kirkwood"); case-sensitive
# like the byline rule.
_WHEN = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    "August|September|October|November|December|Christmas|Easter|Then|Now|Next|Last|This|Early|Late|Mid|"
    "Tomorrow|Tonight|Noon|Midnight|Midday|Spring|Summer|Autumn|Winter"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_AGENCIES = "ap|afp|reuters|getty images|getty|epa|pa media|shutterstock|alamy|bloomberg|ap photo"
_NAME = r"[\p{L}.'-]+(?:\s+[\p{L}.'-]+){0,3}"  # up to four words: a photographer, an agency, "Kremlin Pool Photo"
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_TIME = r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?\s?m\.?)?(?:\s*(?-i:\p{Lu}{2,5}))?"  # a zone in capitals, under (?i) too
# A numeric date repeats its separator (16.07.2018, 07/16/2018, 2018-07-16): `27.35/40` is a price, `5-7/8` a rate.
_DATE = (
    rf"(?:\d{{1,4}}(?:\.\d{{1,2}}\.|/\d{{1,2}}/|-\d{{1,2}}-)\d{{1,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}年\d{{1,2}}月\d{{1,2}}日)"
)

BUILTIN_RULES: dict[str, str] = {
    "read_more": (
        r"(?i)(?:read more|read also|also read|see also|related|related (?:articles?|stories|content|news)"
        r"|more from [\p{L} ]{1,30}|most read|most popular|recommended|you may also like|further reading"
        r"|continue reading|read next|now playing|watch|video|listen|читайте также|читайте|смотрите также"
        r"|続きを読む|関連記事|lire aussi|leer más|lesen sie auch|leggi anche)\s*[:>»|–—-]\s*\S.{0,200}"
    ),
    "section_header": (
        r"(?i)(?:read more|related(?: articles| stories| content| news| topics)?|most (?:read|popular|viewed|shared)"
        r"|recommended(?: for you)?|you may also like|trending(?: now)?|top stories|more stories"
        r"|more on this story|advertisement|sponsored(?: content)?|skip to (?:main )?content"
        r"|(?:advertisement\s*[-–—:|]?\s*)?(?:continue reading|(?:story|article) continues) below)"
    ),
    "stamp": (
        rf"(?i)(?:.{{0,60}}\|\s*)?(?:{_STAMP_WORDS})"
        rf"(?:\s*(?:[:：]|\bon\b|\bat\b)\s*.{{0,60}}\d.{{0,40}}"
        rf"|\s+(?:{_TIME}\s*,?\s*)?(?:{_WEEKDAY}\s+)?{_DATE}.{{0,40}}"
        rf"|\s+(?:\d{{1,3}}|an?)\s+(?:sec|second|min|minute|hr|hour|day|week|month)s?\s+ago|\s+just now)"
    ),
    # A date with a time after it (`, 7:08 AM`, `at 7:08 AM`, `— 3:25pm`) or before it (`2:21 PM 07/16/2018`).
    "date_line": (
        rf"(?i)(?:{_TIME}\s*,?\s+)?(?:\p{{L}}+,?\s+)?{_DATE}(?:(?:\s*(?:[,|@–—-]|\bat\b)\s*|\s+){_TIME})?"
        rf"(?:\s*[（(][^（()）]{{1,30}}[)）])?"
    ),
    "picture_credit": (
        r"(?i)\(?(?:picture|photo|photograph|image|pic|credit|photo credit|image credit|image source"
        r"|foto|фото|写真)s?\s*[:：]\s*.{1,80}"
        r"|(?:picture|photo|image) (?:credit should read|copyright)\s+.{1,80}"
    ),
    # `AP Photo / Jane Doe`, and the other way round, `Jane Doe / Getty Images`.
    # `Mikhail Metzel | TASS | Getty Images`, `... | TASS via Getty Images`; `(Alexei Nikolsky/Sputnik/Kremlin Pool
    # Photo via AP)`.
    "agency_credit": (
        rf"(?i)\(?(?:(?:{_AGENCIES}|pa)(?:\s*/\s*[\p{{L}} .'-]{{1,40}})?"
        rf"|[\p{{L}} .'-]{{1,40}}\s*/\s*(?:{_AGENCIES}|file)"
        rf"|(?!by\s)(?:{_NAME}\s*[/|]\s*){{1,3}}(?:{_NAME}\s+via\s+)?(?:{_AGENCIES}|file)"
        rf"|(?!by\s){_NAME}(?:/{_NAME}){{1,3}}\s+via\s+(?:{_AGENCIES}))\)?"
    ),
    "share_follow": (
        r"(?i)(?:share(?: this(?: article| story| page| post)?)?(?: (?:on|via) \p{L}+)?|tweet|email|print"
        r"|copy link|follow us(?: on \p{L}+)?|follow [\p{L} ]{1,30} on \p{L}+|like us on facebook|whatsapp"
        r"|facebook|twitter|linkedin|reddit|pinterest|telegram)"
        r"(?:\s*[:|/,]?\s*(?:(?:share )?(?:on |via )?(?:facebook|twitter|x|linkedin|whatsapp|email|reddit"
        r"|pinterest|telegram|messenger)))*"
    ),
    "language_menu": rf"(?i)(?:{_LANGUAGES})",
    "newsletter": (
        r"(?i).{0,60}\b(?:sign up|subscribe|register)\b.{0,60}\b(?:newsletters?|bulletin|alerts|briefing)\b.{0,60}"
    ),
    # Not prose such as `copyrights and trademarks.`, nor a footnote's `(C) - ...`: `(c)` stands alone or
    # before a name or year.
    "copyright": (
        r"(?i)(?:(?:©|copyright(?!(?-i:s\s+\p{Ll})))\s*.{0,150}"
        r"|\(c\)(?:[\s:]*[\p{L}\d©].{0,150})?|.{0,120}all rights reserved\.?)"
    ),
    "separator": r"[\p{P}\p{S}\s]+",  # a line of punctuation only: a rule, a bullet, a dash left alone
    # "By Monday, ..." and "By Christmas | ..." say when, not who.
    # A name, then a second name, an agency or the time of writing (`By Ann Lee July 16 at 7:44 AM`).
    "byline": r"(?:By|BY|by)\s+(?!(?:" + _WHEN + r")\b(?!\s+\p{Lu}))\p{Lu}[\p{L}.'’-]+(?:\s+\p{Lu}[\p{L}.'’-]+){0,3}"
              r"(?:\s*(?:,|and|&|\|)\s*.{0,60}|\s+\d{1,2}\b.{0,60})?",
}


# A line longer than HINT_FREE_CHARS that starts with a letter or digit can only match a built-in rule if it
# starts with one of HINT_STARTS or contains one of HINT_WORDS (plain string operations on the casefolded
# line): this rejects most prose before the full rules run.
HINT_FREE_CHARS = 100
HINT_STARTS = (
    "read", "also", "see", "related", "more", "most", "recommended", "you may", "further", "continue", "now",
    "watch", "video", "listen", "pic", "photo", "image", "credit", "foto", "by ", "©", "(c)", "copyright",
    "читайте", "смотрите", "фото", "続き", "関連", "写真", "lire", "leer", "lesen", "leggi",
)
HINT_WORDS = (
    "updated", "published", "posted", "modified", "обновлено", "опубликовано", "actualizado", "publicado",
    "mis à jour", "publié", "aktualisiert", "veröffentlicht", "aggiornato", "pubblicato", "更新", "公開",
    "sign up", "subscribe", "register", "rights reserved", "|",
)


def _hinted(text: str) -> bool:
    low = text.casefold()
    if not low[:1].isalnum():  # quotes, bullets, separators and the like: let the full rules decide
        return True
    return low.startswith(HINT_STARTS) or any(map(low.__contains__, HINT_WORDS))


_GLOBAL_FLAGS = regex.compile(r"\(\?([aiLmsuxV01]+)\)")


def _scoped(pattern: str) -> str:
    """Turn a leading global flag group `(?i)...` into a scoped one `(?i:...)` so rules can be joined."""
    match = _GLOBAL_FLAGS.match(pattern)
    return f"(?{match.group(1)}:{pattern[match.end():]})" if match else f"(?:{pattern})"


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules, applied in name order; the first rule that matches names the unit.

    All rules are also joined into one alternation, so a unit costs one
    `fullmatch` instead of one per rule.
    """

    names: tuple[str, ...]
    combined: regex.Pattern
    builtin_only: bool  # every active rule is built in, so the HINT prefilter is exact

    @classmethod
    def from_config(cls, config: Config) -> RuleSet:
        """The compiled rules of a config: compiled once per process for each distinct rule setting."""
        return _build(config.builtin_rules, tuple(config.disabled_rules), tuple(sorted(config.extra_rules.items())))

    def match(self, unit_text: str, prefilter: bool = True) -> str | None:
        """Name of the first rule that matches the whole unit, or None."""
        if len(unit_text) > MAX_RULE_CHARS:
            return None
        if prefilter and self.builtin_only and len(unit_text) > HINT_FREE_CHARS and not _hinted(unit_text):
            return None
        found = self.combined.fullmatch(unit_text)
        if found is None:
            return None
        for i, name in enumerate(self.names):
            if found.group(f"rule{i}") is not None:
                return name
        return None

    def match_many(self, unit_texts: list[str]) -> list[str | None]:
        """`match` of every text, each distinct text matched once: a site's menu, share and copyright
        lines recur on every page of a batch (a third of the short lines of generated news)."""
        found = {text: self.match(text) for text in dict.fromkeys(unit_texts)}
        return [found[text] for text in unit_texts]


@lru_cache(maxsize=8)
def _build(builtin: bool, disabled: tuple[str, ...], extra: tuple[tuple[str, str], ...]) -> RuleSet:
    chosen = dict(BUILTIN_RULES) if builtin else {}
    extra_rules = dict(extra)
    unknown = [name for name in disabled if name not in chosen and name not in extra_rules]
    if unknown:
        raise ConfigError(f"cannot disable unknown rule(s): {', '.join(unknown)}; known: {', '.join(chosen)}")
    clash = sorted(extra_rules.keys() & chosen.keys())
    if clash:  # else the added rule would silently take the built-in one's place
        raise ConfigError(f"added rule(s) {', '.join(clash)} have a built-in rule's name: give them other names "
                          "(and disable the built-in ones that should not apply), or turn every built-in rule off "
                          "([rules] builtin = false, --no-builtin-rules)")
    chosen.update(extra_rules)
    names, parts = [], []
    for name, pattern in sorted(chosen.items()):
        if name in disabled:
            continue
        try:
            regex.compile(pattern)
        except regex.error as err:
            raise ConfigError(f"rule {name!r} is not a valid regular expression: {err}") from err
        parts.append(f"(?P<rule{len(names)}>{_scoped(pattern)})")
        names.append(name)
    try:
        combined = regex.compile("|".join(parts) or "(?!)")
    except regex.error as err:
        raise ConfigError(f"rules cannot be combined (a flag inside a rule?): {err}") from err
    return RuleSet(tuple(names), combined, not extra_rules)


TEMPLATE_MARKS = ":|›»>"  # the separators after a template's prefix
_PREFIX = regex.compile(rf"([^\p{{P}}\p{{S}}\d]{{1,40}}?)\s*[{regex.escape(TEMPLATE_MARKS)}]\s*(\S.*)", regex.DOTALL)


def template_keys(unit_texts: list[str], config: Config) -> list[tuple[str, str] | None]:
    """(prefix, tail) of each line shaped like `Prefix: varying tail`, or None.

    Prefixes and tails are normalised in one batch.
    """
    parts = [_PREFIX.fullmatch(t) if len(t.split()) <= config.template_max_words else None for t in unit_texts]
    found = [i for i, match in enumerate(parts) if match]
    prefixes = normalize_batch([parts[i].group(1) for i in found])
    tails = normalize_batch([parts[i].group(2) for i in found])
    out: list[tuple[str, str] | None] = [None] * len(unit_texts)
    for i, prefix, tail in zip(found, prefixes, tails):
        if prefix and prefix.count(" ") < config.template_prefix_max_words:
            out[i] = (prefix, tail)
    return out


# Per template prefix: (documents, up to two of its distinct tails, lines ending like sentences, lines).
PrefixStats = dict[str, tuple[int, frozenset[str], int, int]]


def prefix_stats(observations: Iterable[tuple[str, str, int, bool]]) -> PrefixStats:
    """What `learned_prefixes` needs to know of each prefix, from (prefix, tail, doc index, ends like a
    sentence) observations: enough to merge the stats of disjoint sets of documents (`merge_prefix_stats`)."""
    docs: dict[str, set[int]] = defaultdict(set)
    tails: dict[str, set[str]] = defaultdict(set)
    sentences: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for prefix, tail, doc, sentence in observations:
        docs[prefix].add(doc)
        if len(tails[prefix]) < 2:
            tails[prefix].add(tail)
        sentences[prefix][0] += sentence
        sentences[prefix][1] += 1
    return {prefix: (len(seen), frozenset(tails[prefix]), *sentences[prefix]) for prefix, seen in docs.items()}


def merge_prefix_stats(parts: Iterable[PrefixStats]) -> PrefixStats:
    """The stats of the union of disjoint sets of documents (ranges of a corpus)."""
    out: PrefixStats = {}
    for part in parts:
        for prefix, (docs, tails, sentences, lines) in part.items():
            if prefix in out:
                d, t, s, n = out[prefix]
                docs, tails, sentences, lines = d + docs, frozenset(sorted(t | tails)[:2]), s + sentences, n + lines
            out[prefix] = (docs, tails, sentences, lines)
    return out


def learned_prefixes(stats: PrefixStats, min_docs: int) -> set[str]:
    """Prefixes that head a varying tail in at least `min_docs` documents.

    A prefix whose lines mostly end like sentences (`He said: "..."`) is a
    quotation habit, not a template, and is not learned.
    """
    return {prefix for prefix, (docs, tails, sentences, lines) in stats.items()
            if docs >= min_docs and len(tails) >= 2 and 2 * sentences < lines}
