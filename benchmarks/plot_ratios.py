"""Draw skdl's latest ratio to each workload's reference, from the JSON reports.

One horizontal bar per workload: the ``ratio`` of the headline row (skdl's) of
the workload's latest report (by date, then time, then file name), its date and
machine beside it, the goal marked where the report gives one. Reports without a
headline ratio (P5's goal is an absolute growth) and ``--quick`` runs are left
out. The documentation build runs this script, so the page's figure always
matches ``benchmarks/reports/``.

    python benchmarks/plot_ratios.py [--reports benchmarks/reports] [--out ratios.png]
"""

import argparse
import os

import _common as C

REPORTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reports")


def headline_row(report):
    """The row of skdl's headline system, or None when the report has no headline."""
    return next((row for row in report["rows"] if row["system"] == report["headline"]), None)


def plottable(report):
    """True when the report's headline row has a ratio and the run was not a smoke run."""
    row = headline_row(report)
    return not report.get("smoke_run") and row is not None and row["ratio"] is not None


def latest_per_workload(reports):
    """The latest plottable report of each workload, in workload order.

    Parameters
    ----------
    reports : list of dict
        Reports in file-name order, as :func:`_common.load_reports` returns them;
        of two reports with the same date and time the later file wins.

    Returns
    -------
    list of dict
    """
    latest = {}
    for report in filter(plottable, reports):
        current = latest.get(report["workload"])
        if current is None or _when(report) >= _when(current):
            latest[report["workload"]] = report
    return [latest[workload] for workload in sorted(latest)]


def _when(report):
    return report["date"], report.get("time") or ""


def short_machine(report):
    """The machine's CPU model (the text before its first comma)."""
    return report["machine"].split(",")[0]


def draw(reports):
    """A matplotlib figure of the headline ratios of ``reports`` (one bar each)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(9, 1.2 + 0.75 * len(reports)), layout="constrained")
    axes = figure.add_subplot()
    positions = range(len(reports))[::-1]  # the first workload on top
    ratios = [headline_row(report)["ratio"] for report in reports]
    axes.barh(positions, ratios, height=0.6, color="#4c72b0")
    for y, report, ratio in zip(positions, reports, ratios):
        axes.annotate(f"{ratio:.2f}x   {report['date']}, {short_machine(report)}", (ratio, y),
                      xytext=(6, 0), textcoords="offset points", va="center", fontsize=9)
        if report["goal"] is not None:
            axes.plot([report["goal"]] * 2, [y - 0.4, y + 0.4], color="#c44e52", linewidth=2.5)
    axes.axvline(1.0, color="0.4", linestyle="--", linewidth=1)
    axes.set_yticks(list(positions),
                    [f"{report['workload']}: {report['ratio_label']}" for report in reports])
    axes.set_xlim(0, max(ratios + [r["goal"] or 0 for r in reports] + [1.0]) * 1.45)
    axes.set_xlabel("skdl's time over the reference's, measured in the same run (lower is better)")
    axes.set_title("skdl against each workload's reference: the latest run of each", fontsize=11)
    axes.legend(handles=[Line2D([], [], color="#c44e52", linewidth=2.5, label="goal"),
                         Line2D([], [], color="0.4", linestyle="--", linewidth=1, label="same as the reference")],
                loc="lower right", fontsize=9)
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", default=REPORTS, help="folder of JSON reports (default: benchmarks/reports)")
    parser.add_argument("--out", default="ratios.png", help="the image to write (PNG, SVG, PDF: by its suffix)")
    args = parser.parse_args(argv)
    reports = latest_per_workload(C.load_reports(args.reports))
    if not reports:
        parser.error(f"no report in {args.reports} has a headline ratio to plot")
    draw(reports).savefig(args.out, dpi=150)
    C.log(f"wrote {args.out}: " + ", ".join(f"{r['workload']} {headline_row(r)['ratio']:.2f}x ({r['date']})"
                                            for r in reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
