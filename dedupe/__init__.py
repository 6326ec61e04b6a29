"""dedupe: near-duplicate and boilerplate detection for scraped news text.

Python API (see README.md):

    from dedupe import Config, run
    result = run(documents, Config())
    for cleaned in result.documents: ...
    result.report.write_json("report.json")

The names below are imported on first use, so that `import dedupe.document` (which every Spark Python
worker does to unpickle a Document) does not load the engine, numba and datasketch (about 0.6 s a process).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "dedupe.config", "ConfigError": "dedupe.config", "CleanedDocument": "dedupe.document",
    "Document": "dedupe.document", "Skip": "dedupe.document", "InputError": "dedupe.pipeline",
    "Result": "dedupe.pipeline", "clean_documents": "dedupe.pipeline", "run": "dedupe.pipeline",
    "Finding": "dedupe.report", "Report": "dedupe.report",
}
__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dedupe' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
