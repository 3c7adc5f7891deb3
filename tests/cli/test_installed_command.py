"""The installed `itsm` executable, run as a real process: init, create, show --json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from itsm_tui.cli.env import login_name
from tests.cli.conftest import NOW_ISO

ME = login_name()


def test_installed_itsm_initialises_creates_and_shows(tmp_path: Path) -> None:
    itsm = shutil.which("itsm")
    assert itsm is not None, "the console script is missing: pip install -e '.[test,postgres]'"
    env = {
        **os.environ,
        "ITSM_DB": f"sqlite:///{tmp_path / 'desk.db'}",
        # Yourself: acting as anyone else is an administrator's impersonation.
        "ITSM_AGENT": ME,
        "ITSM_NOW": NOW_ISO,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [itsm, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    init = run("init")
    assert init.returncode == 0, init.stderr
    assert f"Created agent {ME} as the desk's administrator." in init.stdout

    title = "Printer \x1b[31mon fire\x1b[0m [bold]now[/bold]"
    created = run(
        "ticket", "create", "--type", "incident", "--title", title, "--impact", "2",
        "--urgency", "1", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["number"] == "INC0000001"

    shown = run("ticket", "show", "INC0000001", "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert (detail["title"], detail["priority"], detail["opened_at"]) == (title, "P2", NOW_ISO)
    assert [e["actor"] for e in detail["audit"]] == [ME]

    refused = run("ticket", "transition", "INC0000001", "closed")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("itsm: ")
    usage = run("ticket", "create")
    assert usage.returncode == 2
