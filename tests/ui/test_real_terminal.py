"""The real `itsm` in a real terminal: keys from tmux in bursts are stored whole, and a
hang-up with a form open ends the process with the draft on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.ui.terminal import EXIT_S, PtyConsole, TmuxConsole, new_desk, notes, wait_for

NOTES = [f"Race {i}: checked cabling and re-patched it, port 7/0/{i}" for i in range(1, 6)]


@pytest.mark.timeout(300)
def test_notes_sent_by_tmux_in_bursts_are_stored_whole(tmp_path: Path) -> None:
    number = new_desk(tmp_path)
    console = TmuxConsole(tmp_path)
    try:
        assert console.wait_for_text("IT Service Desk"), console.screen()
        console.keys("6")  # All open: the one ticket
        assert console.wait_for_text(number), console.screen()
        console.keys("Enter")
        assert console.wait_for_text("Timeline"), console.screen()
        # Each note in one go: the key that opens the form, the text, the save key; and
        # the next note straight behind it, before the first is even written.
        for note in NOTES:
            console.keys("w")
            console.literal(note)
            console.keys("C-s")
        assert wait_for(lambda: len(notes(tmp_path)) == len(NOTES), 120), console.screen()
        assert notes(tmp_path) == NOTES
    finally:
        console.kill()


def drafts(folder: Path) -> dict[str, dict[str, str]]:
    found = {}
    for path in (folder / "xdg-data").rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["form"]] = record["fields"]
    return found


@pytest.mark.timeout(300)
@pytest.mark.parametrize("modal_on_top", [False, True], ids=["form", "quit-question"])
def test_a_hang_up_with_a_form_open_keeps_the_draft_and_exits(
    tmp_path: Path, modal_on_top: bool
) -> None:
    new_desk(tmp_path)
    console = PtyConsole(tmp_path)
    try:
        assert console.read_until("IT Service Desk"), console.output[-500:]
        console.type("n")
        assert console.read_until("New incident"), console.output[-500:]
        title = "Core switch reboots at night"
        console.type(title)
        assert console.read_until(title), console.output[-500:]
        if modal_on_top:
            console.type("\x11")  # ctrl+q: the question about the unsaved text is up
            assert console.read_until("Quit with text"), console.output[-500:]
        console.hang_up()
        status = console.wait_exit()
        assert status is not None, f"still running {EXIT_S} s after the hang-up"
        # 128+SIGHUP, as a shell reports a command the hang-up ended: an SSH supervisor
        # tells a dropped connection from a quit by it.
        assert os.WIFEXITED(status), f"ended by signal {os.WTERMSIG(status)}"
        assert os.WEXITSTATUS(status) == 129
    finally:
        console.kill()
    assert drafts(tmp_path) == {"NewTicketForm.incident": {"new-title": title}}
