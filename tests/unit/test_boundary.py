"""The dependency direction: the core and the backends never import Textual."""

import subprocess
import sys

CORE = [
    "console.models",
    "console.lifecycle",
    "console.sla",
    "console.escalation",
    "console.config",
    "console.text",
    "console.clock",
    "console.cli",
    "backends",
    "backends.base",
]


def test_core_and_backends_do_not_import_textual() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "import backends\n"
        "for info in pkgutil.iter_modules(backends.__path__):\n"
        "    importlib.import_module('backends.' + info.name)\n"
        "for optional in ('console.ingest', 'console.reports', 'console.escalator'):\n"
        "    try:\n"
        "        importlib.import_module(optional)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if exc.name != optional:\n"
        "            raise\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"core imported Textual: {result.stdout}"


def test_the_check_can_fail() -> None:
    """The probe above really notices Textual when something imports it."""
    code = "import sys, textual.app\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True"
