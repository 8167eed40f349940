"""The dependency direction: the core and the backends never import Textual."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

CORE = [
    "console.domain.models",
    "console.domain.lifecycle",
    "console.domain.sla",
    "console.domain.escalation",
    "console.domain.config",
    "console.domain.text",
    "console.domain.clock",
    "console.domain.keys",
    "console.cli.main",
    "backends",
    "backends.base",
]
# Written by other parts of the project; checked as soon as they exist.
OPTIONAL = [
    "console.domain.query",
    "console.domain.intake",
    "console.domain.kpis",
    "console.domain.review",
    "console.services.escalator",
    "console.demo.seed",
]

PROBE = """
import importlib, json, pkgutil, sys

def textual_loaded():
    return sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))

report = {"culprit": None, "loaded": [], "checked": [], "missing": []}

def check(name, optional=False):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if optional and exc.name == name:
            report["missing"].append(name)
            return
        raise
    report["checked"].append(name)
    if report["culprit"] is None and textual_loaded():
        report["culprit"] = name
        report["loaded"] = textual_loaded()

for name in CORE:
    check(name)
import backends
for info in pkgutil.iter_modules(backends.__path__):
    check("backends." + info.name)
for name in OPTIONAL:
    check(name, optional=True)
print(json.dumps(report))
"""


def run_probe(core: list[str] = CORE, optional: list[str] = OPTIONAL) -> dict[str, Any]:
    code = f"CORE = {core!r}\nOPTIONAL = {optional!r}\n" + PROBE
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"importing the core failed:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_core_and_backends_do_not_import_textual() -> None:
    report = run_probe()
    assert report["culprit"] is None, (
        f"{report['culprit']} imported Textual ({', '.join(report['loaded'])}); "
        "the core and backends/ must stay importable without it"
    )
    checked = set(report["checked"])
    assert set(CORE) <= checked
    assert set(OPTIONAL) <= checked | set(report["missing"])


def test_the_check_can_fail(tmp_path: Path) -> None:
    """The probe really notices Textual, names the first module that pulled it in, and
    tells a module that is not written yet from one that is broken."""
    report = run_probe(["console.domain.models", "textual.app", "console.domain.sla"], ["console.nothing_yet"])
    assert report["culprit"] == "textual.app"
    assert "textual" in report["loaded"]
    assert report["missing"] == ["console.nothing_yet"]
    # A module that exists but fails to import is an error, not "not written yet".
    (tmp_path / "half_written.py").write_text("import no_such_dependency_xyz\n")
    code = "CORE = []\nOPTIONAL = ['half_written']\n" + PROBE
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    assert "no_such_dependency_xyz" in result.stderr
