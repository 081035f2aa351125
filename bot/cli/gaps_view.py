"""`citebot gaps` as text: a terminal table and Markdown for pasting into an issue."""

from __future__ import annotations

import textwrap
import time

from bot.questions.gaps import GapsReport, Topic

_WIDTH = 100


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def _docs(topic: Topic) -> str:
    return ", ".join(f"{d.source}" + (f" § {d.section}" if d.section else "") for d in topic.documents) or "-"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def header(report: GapsReport) -> str:
    share = f" ({100 * report.unanswered / report.questions:.0f}%)" if report.questions else ""
    return (
        f"{report.questions} question(s) from {_day(report.since)} to {_day(report.until)}: "
        f"{report.unanswered} not answered{share} ({report.abstained} abstained, {report.downvoted} 👎)"
    )


def table(report: GapsReport) -> str:
    """The report for a terminal: one block per topic, widest columns wrapped."""
    lines = [header(report), ""]
    if not report.gaps:
        lines.append("No unanswered questions in this period.")
    else:
        lines.append("What the documents don't answer (most asked first):")
        lines.append(f"{'#':>3}  {'count':>5}  topic")
        for i, t in enumerate(report.gaps, 1):
            lines.append(f"{i:>3}  {t.count:>5}  {_short(t.name, _WIDTH - 12)}")
            for example in t.examples:
                lines.append(f"{'':>12}e.g. {_short(example, _WIDTH - 17)}")
            wrapped = textwrap.wrap("closest: " + _docs(t), _WIDTH - 12)
            lines.extend(f"{'':>12}{w}" for w in wrapped)
    if report.asked:
        lines += ["", "Most asked answered topics:"]
        lines += [f"{t.count:>5}  {_short(t.name, _WIDTH - 7)}" for t in report.asked]
    if report.cited:
        lines += ["", "Documents cited most:"]
        lines += [f"{n:>5}  {source}" for source, n in report.cited]
    return "\n".join(lines)


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(report: GapsReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    out = [f"## What the docs don't answer ({_day(report.since)} – {_day(report.until)})", "", header(report), ""]
    if report.gaps:
        out += ["| # | questions | topic | e.g. | closest documents |", "|---|---|---|---|---|"]
        for i, t in enumerate(report.gaps, 1):
            examples = "<br>".join(_md(e) for e in t.examples)
            docs = "<br>".join(
                f"`{_md(d.source)}`" + (f" § {_md(d.section)}" if d.section else "") for d in t.documents
            )
            out.append(f"| {i} | {t.count} | {_md(t.name)} | {examples} | {docs} |")
    else:
        out.append("No unanswered questions in this period.")
    if report.asked:
        out += ["", "### Most asked answered topics", ""]
        out += [f"- {t.count} × {_md(t.name)}" for t in report.asked]
    if report.cited:
        out += ["", "### Documents cited most", ""]
        out += [f"- `{_md(s)}`: {n}" for s, n in report.cited]
    return "\n".join(out)
