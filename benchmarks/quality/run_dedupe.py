"""Run `dedupe clean` the way a user does (the CLI, in a subprocess) and read back its findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def clean_findings(source: Path, workdir: Path, extra: list[str], config: str | None,
                   overrides: list[str]) -> list[dict]:
    """Findings of `dedupe clean SOURCE` with `extra` flags, a TOML `config` and `key=value` overrides."""
    findings = workdir / "findings.jsonl"
    command = [sys.executable, "-m", "dedupe", "clean", str(source), "-o", str(workdir / "out.jsonl"),
               *extra, "--findings", str(findings), "--quiet"]
    if config:
        command += ["--config", config]
    for item in overrides:
        key, _, value = item.partition("=")
        flag = "--" + key.replace("_", "-")
        if value.lower() in ("true", "false"):
            command.append(flag if value.lower() == "true" else "--no-" + flag[2:])
        else:
            command += [flag, value]
    subprocess.run(command, check=True)
    return [json.loads(row) for row in findings.read_text(encoding="utf-8").splitlines()]
