"""`itsm kpi`: every KPI of a period against its target, as a table, JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
from datetime import date

import click

from itsm_tui.cli.env import Env, Refused, desk_session, opened, pass_env
from itsm_tui.cli.output import out, out_json
from itsm_tui.data.kpi import (
    KpiReport,
    cut_named,
    kpi_report,
    period_between,
    period_ending,
)
from itsm_tui.data.kpi.figures import shown
from itsm_tui.data.kpi.rollup import refresh_rollups
from itsm_tui.desk.zones import desk_zone
from itsm_tui.i18n import _

COLUMNS = ("key", "label", "value", "target", "status", "unit", "samples", "previous")


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(
                _("{value!r} is not a date such as 2026-11-24").format(value=value), param, ctx
            )


@click.command()
@click.option("--from", "first", type=IsoDate(), help=_("First day (the desk's time zone)."))
@click.option("--to", "last", type=IsoDate(), help=_("Last day, included."))
@click.option(
    "--period",
    "named",
    metavar="PERIOD",
    help=_("today, 7d, 30d (any number of days), quarter or year, ending today [30d]."),
)
@click.option("--team", help=_("Only this team's tickets."))
@click.option("--service", help=_("Only this service's tickets and outages."))
@click.option("--json", "fmt", flag_value="json", help=_("Print JSON."))
@click.option("--csv", "fmt", flag_value="csv", help=_("Print CSV."))
@click.option("--markdown", "fmt", flag_value="markdown", help=_("Print a Markdown table."))
@pass_env
def kpi(
    env: Env,
    first: date | None,
    last: date | None,
    named: str | None,
    team: str | None,
    service: str | None,
    fmt: str | None,
) -> None:
    """The desk's KPIs for a period: value, target, status and the previous period."""
    if named is not None and (first is not None or last is not None):
        raise Refused(_("give --period or --from/--to, not both"))
    if (first is None) != (last is None):
        raise Refused(_("--from and --to go together"))
    now = env.now()
    # The days changed since the rollups were built, built again first; a store that was
    # never refreshed builds them all here once (docs/kpi.md, "Rollups").
    with opened(env) as store:
        refresh_rollups(store, now)
    with desk_session(env, write=False) as (session, _actor):
        zone = desk_zone(session)
        try:
            if first is not None and last is not None:
                period = period_between(first, last, zone)
            else:
                period = period_ending(now, zone, named or "30d")
        except ValueError as exc:
            raise Refused(str(exc)) from None
        cut = cut_named(session, team=team, service=service)
        report = kpi_report(session, period, cut, now)
    if fmt == "json":
        out_json(report.as_dict())
    elif fmt == "csv":
        out(as_csv(report), nl=False)
    elif fmt == "markdown":
        out(as_markdown(report))
    else:
        out(as_table(report))


def _rows(report: KpiReport, *, for_people: bool) -> list[list[str]]:
    rows = []
    for k in report.kpis:
        if for_people:
            value, target, previous = (
                shown(k.value, k.unit),
                "" if k.target is None else shown(k.target, k.unit),
                "" if k.previous is None else shown(k.previous, k.unit),
            )
        else:
            value, target, previous = (_raw(k.value), _raw(k.target), _raw(k.previous))
        samples = "" if k.samples is None else str(k.samples)
        rows.append([k.key, k.label, value, target, k.status, k.unit, samples, previous])
    return rows


def _raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _heading(report: KpiReport) -> str:
    return _("{cut}, {period} (previous: {previous})").format(
        cut=report.cut.label(),
        period=report.period.label(),
        previous=report.previous_period.label(),
    )


def as_csv(report: KpiReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(report, for_people=False))
    return buffer.getvalue()


def as_markdown(report: KpiReport) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [
        f"**{cell(_heading(report))}**",
        "",
        "| KPI | value | target | status | previous | samples |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for _key, label, value, target, status, _unit, samples, previous in _rows(
        report, for_people=True
    ):
        lines.append(
            "| "
            + " | ".join(cell(c) for c in (label, value, target, status, previous, samples))
            + " |"
        )
    return "\n".join(lines)


def as_table(report: KpiReport) -> str:
    header = [_("KPI"), _("value"), _("target"), _("status"), _("previous"), _("samples")]
    body = [
        [label, value, target, status, previous, samples]
        for _k, label, value, target, status, _u, samples, previous in _rows(
            report, for_people=True
        )
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [_heading(report), ""]
    for row in [header, *body]:
        cells = [
            row[i].ljust(widths[i]) if i in (0, 3) else row[i].rjust(widths[i])
            for i in range(len(row))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
