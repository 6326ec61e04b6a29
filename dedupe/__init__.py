"""dedupe: near-duplicate and boilerplate detection for scraped news text.

Python API (see README.md):

    from dedupe import Config, run
    result = run(documents, Config())
    for cleaned in result.documents: ...
    result.report.write_json("report.json")
"""

__version__ = "0.1.0"

from dedupe.config import Config, ConfigError  # noqa: E402
from dedupe.document import CleanedDocument, Document, Skip  # noqa: E402
from dedupe.pipeline import InputError, Result, clean_documents, run  # noqa: E402
from dedupe.report import Finding, Report  # noqa: E402

__all__ = [
    "CleanedDocument", "Config", "ConfigError", "Document", "Finding", "InputError", "Report", "Result",
    "Skip", "__version__", "clean_documents", "run",
]
