"""The `itsm` command: parses arguments, calls the desk and the read queries, prints.

Every command opens the store, runs in one transaction and prints after it
committed. Exit codes: 0 done, 1 refused or invalid (one `itsm: …` line on
stderr), 2 usage, 3 conflict with a newer version of the record.

One module per command group; `root` holds the top-level group every command
joins here, `env`, `options`, `output` and `views` what the commands share.
"""

from __future__ import annotations

from collections.abc import Sequence

from itsm_tui.cli import (
    agents,
    backup,
    catalogue,
    changes,
    config,
    import_export,
    intake,
    knowledge,
    kpi,
    measures,
    notify,
    oncall,
    problems,
    serve,
    setup,
    sla,
    surveys,
    tickets,
    wall,
)
from itsm_tui.cli.root import cli

for command in (
    setup.init,
    setup.demo,
    setup.seed,
    config.config,
    tickets.ticket,
    measures.outage,
    measures.complaint,
    surveys.survey,
    catalogue.catalog,
    changes.change,
    problems.problem,
    knowledge.kb,
    kpi.kpi,
    wall.wall,
    import_export.import_,
    import_export.export,
    sla.sla,
    sla.escalate,
    sla.escalator,
    oncall.oncall,
    backup.backup,
    backup.restore,
    agents.agent,
    serve.serve,
    notify.notify,
    intake.intake,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script `itsm`."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="itsm")


__all__ = ["cli", "main"]
