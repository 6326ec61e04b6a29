"""One typed configuration object for every stage, loadable from TOML.

Everything that changes what `dedupe` finds or removes lives here, so the
CLI, the Python API and (later) Spark read the same knobs, and the report
can record exactly which parameters produced it.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CATEGORIES = ("repeat", "boilerplate", "template", "syndicated", "duplicate_document")
ACTIONS = ("keep-first", "remove-all", "flag-only")
UNIT_KINDS = ("line", "paragraph", "sentence")
HASH_SCHEMES = ("fast", "datasketch")
LSH_INDEXES = ("auto", "bands", "datasketch")

DEFAULT_ACTIONS = {
    "repeat": "keep-first",
    "boilerplate": "remove-all",
    "template": "remove-all",
    "syndicated": "keep-first",
    "duplicate_document": "keep-first",
}


# One line per field for `--help` (the CLI has a flag per scalar field); README "Configuration file" says more.
FIELD_HELP = {
    "unit": "Unit judged: a non-empty line, a blank-line separated paragraph, or a sentence.",
    "unwrap": "Join the lines of hard-wrapped (fixed-width) documents into one unit per paragraph.",
    "max_unit_chars": "Longer units are not matched (counted in the report).",
    "max_document_chars": "Longer documents are skipped (counted).",
    "fold_digits": "Fold digits to 0 before matching.",
    "word_ngram": "Shingle size in words.",
    "char_ngram": "Shingle size in characters, for short units and scripts without spaces.",
    "short_unit_words": "Units under this many words are shingled by characters.",
    "num_perm": "MinHash permutations (16-1024).",
    "seed": "Seed of the MinHash permutations.",
    "hash_scheme": "fast (compiled shingle hashes) or datasketch (bit-identical to datasketch.MinHash).",
    "threshold": "Jaccard threshold for units shorter than syndicated-min-words.",
    "lsh_index": "datasketch (MinHashLSH), bands (numpy sort per band, same pairs), or auto (bands above 20,000 "
                 "distinct signatures).",
    "bucket_cap": "With the bands index, a bucket of more keys links only to its smallest (0: no cap).",
    "long_threshold": "Jaccard threshold for content-length units (edited wire copy).",
    "min_docs": "Documents a unit must recur in to be boilerplate, or a learned template.",
    "syndicated_min_words": "Words that make a unit content-length (syndication, not boilerplate).",
    "prose_min_words": "Words from which a sentence-like unit that recurs across sources is content-length.",
    "quote_share": "Share inside quotation marks from which two matching paragraphs quote one speaker rather than "
                   "reprint each other (0: off).",
    "own_sentence_share": "A copy with a sentence (prose-min-words or more) under this share of whose words are in the "
                          "earlier copy adds reporting of its own and is not syndicated (0: off).",
    "boilerplate_site_share": "Share of a source's documents a content-length unit must be on to be boilerplate.",
    "long_boilerplate_min_docs": "Documents of one source a content-length unit must be on to be boilerplate.",
    "duplicate_doc_coverage": "Share of a document's content another document must cover to make it a duplicate.",
    "context_max_words": "Unflagged units under this many words between chrome lines are boilerplate (0: off).",
    "context_max_run": "Longest run of such units (0: off).",
    "builtin_rules": "Use the built-in template rules (Read more:, Updated:, bylines ...).",
    "learn_templates": "Learn a site's own `Prefix: varying tail` lines as templates.",
    "template_prefix_max_words": "Most words in a learned template's prefix.",
    "template_max_words": "Most words in a line that can be a learned template.",
    "text_field": "Field (JSONL) or column (Parquet) holding the text.",
    "id_field": "Field holding the document id (default: file:line).",
    "source_field": "Field holding the site or outlet (boilerplate is judged per source).",
    "date_field": "Field holding the date (the earliest copy is the canonical one).",
    "title_field": "Field holding the title (the document's own headline is never removed).",
    "keep_original_field": "With clean: also keep the original text, in this new field.",
    "strict": "Stop at the first bad input (exit 3) instead of skipping and counting it.",
}
FIELD_CHOICES = {"unit": UNIT_KINDS, "hash_scheme": HASH_SCHEMES, "lsh_index": LSH_INDEXES}


class ConfigError(ValueError):
    """A configuration value or file that cannot be used, with a message for people."""


@dataclass
class Config:
    """Parameters of a run. Defaults are the tuned news defaults (see README)."""

    # units
    unit: str = "line"
    unwrap: bool = True
    max_unit_chars: int = 20_000
    max_document_chars: int = 10_000_000
    # normalisation and shingles
    fold_digits: bool = False
    word_ngram: int = 2
    char_ngram: int = 5
    short_unit_words: int = 5
    # MinHash and LSH
    num_perm: int = 128
    seed: int = 1
    hash_scheme: str = "fast"
    threshold: float = 0.7
    lsh_index: str = "auto"
    bucket_cap: int = 0
    long_threshold: float = 0.5
    # categories
    min_docs: int = 2
    syndicated_min_words: int = 20
    prose_min_words: int = 8
    quote_share: float = 0.5
    own_sentence_share: float = 0.5
    boilerplate_site_share: float = 0.1
    long_boilerplate_min_docs: int = 5
    duplicate_doc_coverage: float = 0.8
    context_max_words: int = 5
    context_max_run: int = 10
    actions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    # rules
    builtin_rules: bool = True
    disabled_rules: list[str] = field(default_factory=list)
    extra_rules: dict[str, str] = field(default_factory=dict)
    learn_templates: bool = True
    template_prefix_max_words: int = 3
    template_max_words: int = 20
    # input fields of structured documents
    text_field: str = "text"
    id_field: str = "id"
    source_field: str = "source"
    date_field: str = "date"
    title_field: str = "title"
    keep_original_field: str | None = None
    # bad input
    strict: bool = False

    def __post_init__(self) -> None:
        self.actions = {**DEFAULT_ACTIONS, **_coerce("actions", "dict[str, str]", self.actions)}
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first value that cannot work."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(f.name, f.type, getattr(self, f.name)))
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed must be between 0 and 2**32 - 1, got {self.seed}")
        for name, pattern in self.extra_rules.items():
            if not isinstance(pattern, str):
                raise ConfigError(f"rule {name!r} must be a regular expression string, got {pattern!r}")
        if not all(isinstance(name, str) for name in self.disabled_rules):
            raise ConfigError(f"{_TOML_NAMES['disabled_rules']} must be rule names, got {self.disabled_rules!r}")
        from dedupe.rules import RuleSet  # compiling the rules is their validation

        RuleSet.from_config(self)
        if self.keep_original_field is not None:
            for name in ("text_field", "id_field", "source_field", "date_field", "title_field"):
                if self.keep_original_field == getattr(self, name):
                    raise ConfigError(f"keep_original_field must differ from {name} ({self.keep_original_field!r}): "
                                      "the original text would overwrite that field")
        if self.unit not in UNIT_KINDS:
            raise ConfigError(f"unit must be one of {', '.join(UNIT_KINDS)}, got {self.unit!r}")
        if self.hash_scheme not in HASH_SCHEMES:
            raise ConfigError(f"hash_scheme must be one of {', '.join(HASH_SCHEMES)}, got {self.hash_scheme!r}")
        if self.lsh_index not in LSH_INDEXES:
            raise ConfigError(f"lsh_index must be one of {', '.join(LSH_INDEXES)}, got {self.lsh_index!r}")
        if self.bucket_cap < 0:
            raise ConfigError("bucket_cap must be 0 (no cap) or positive")
        for name in ("threshold", "long_threshold", "boilerplate_site_share", "duplicate_doc_coverage"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {value!r}")
        if self.num_perm < 16 or self.num_perm > 1024:
            raise ConfigError(f"num_perm must be between 16 and 1024, got {self.num_perm}")
        from dedupe.index import lsh_params  # here, not at the top: the index loads the compiled engine

        bands, rows = lsh_params(self.lsh_threshold, self.num_perm)
        if bands < 2:  # datasketch's MinHashLSH refuses this too
            raise ConfigError(f"with num_perm {self.num_perm}, a threshold of {self.lsh_threshold} gives one LSH band "
                              f"of {rows} rows, too few to find near-duplicates: raise num_perm or lower threshold "
                              "and long_threshold")
        if self.max_document_chars >= 2**32:  # a unit's key is (document << 32) | start (`decide.unit_keys`)
            raise ConfigError(f"max_document_chars must be below 2**32, got {self.max_document_chars}")
        positive = ("word_ngram", "char_ngram", "min_docs", "short_unit_words", "syndicated_min_words",
                    "prose_min_words", "long_boilerplate_min_docs", "template_prefix_max_words", "template_max_words",
                    "max_unit_chars", "max_document_chars")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("quote_share", "own_sentence_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1] (0: off), got {getattr(self, name)!r}")
        for name in ("context_max_words", "context_max_run"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 (off) or positive, got {getattr(self, name)}")
        if self.min_docs < 2:
            raise ConfigError("min_docs must be at least 2: one document cannot make boilerplate")
        for category, action in self.actions.items():
            if category not in CATEGORIES:
                raise ConfigError(f"unknown category {category!r} in actions; known: {', '.join(CATEGORIES)}")
            if action not in ACTIONS:
                raise ConfigError(f"action for {category} must be one of {', '.join(ACTIONS)}, got {action!r}")
        if self.actions["repeat"] == "remove-all":
            raise ConfigError("repeat cannot be remove-all: a document always keeps the first occurrence")

    @property
    def lsh_threshold(self) -> float:
        """The LSH index is built at the lowest verification threshold in use."""
        return min(self.threshold, self.long_threshold)

    def parameters(self) -> dict[str, Any]:
        """The parameters that decide the output, as recorded in the report."""
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> Config:
        """Load a TOML file (top-level keys, plus [actions] and [rules] tables).

        `[rules]` takes `disable = ["name", ...]`, `builtin = true|false` and a
        table `[rules.add]` of `name = "regex"`. Keyword overrides win over the file.
        """
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as err:
            raise ConfigError(f"cannot read config file {path}: {err.strerror}") from err
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
        return cls.from_dict(data, **overrides)

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> Config:
        """Build from a nested dict as read from TOML; unknown keys are an error."""
        data = dict(data)
        rules = data.pop("rules", {}) or {}
        if not isinstance(rules, dict):
            raise ConfigError("[rules] must be a table")
        flat: dict[str, Any] = {}
        for key, value in rules.items():
            if key not in _RULES_KEYS:
                raise ConfigError(f"unknown key rules.{key}; known: {', '.join(_RULES_KEYS)}")
            flat[_RULES_KEYS[key]] = value
        flat.update({key.replace("-", "_"): value for key, value in data.items()})
        flat.update({key: value for key, value in overrides.items() if value is not None})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(flat) - known)
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        return cls(**flat)


# The [rules] table's keys, and the fields they set; errors name a field by its key in the file.
_RULES_KEYS = {"disable": "disabled_rules", "add": "extra_rules", "builtin": "builtin_rules",
               "learn": "learn_templates"}
_TOML_NAMES = {field: f"rules.{key} ({field})" for key, field in _RULES_KEYS.items()}


def _coerce(name: str, annotation: Any, value: Any) -> Any:
    """Check a TOML value against the field's declared type, with a readable error."""
    kind = str(annotation)
    expected: tuple[type, ...]
    if kind.startswith("dict"):
        expected = (dict,)
    elif kind.startswith("list"):
        expected = (list,)
    elif kind == "bool":
        expected = (bool,)
    elif kind == "int":
        expected = (int,)
    elif kind == "float":
        expected = (int, float)
    elif kind == "str":
        expected = (str,)
    else:
        expected = (str, type(None))
    if not isinstance(value, expected) or (kind in ("int", "float") and isinstance(value, bool)):
        wanted = {"bool": "true or false", "int": "an integer", "float": "a number", "list[str]": "a list of strings",
                  "dict[str, str]": "a table of strings"}.get(kind, "a string")
        raise ConfigError(f"{_TOML_NAMES.get(name, name)} must be {wanted}, got {value!r}")
    return float(value) if kind == "float" else value
