"""A JSON benchmark report as reStructuredText: a ``list-table`` with the run's date and machine.

The documentation's ``benchmark-report`` directive (``docs/conf.py``) renders
``benchmarks/reports/*.json`` through :func:`report_rst`, so every figure on the
benchmarks page is written once, in its report.
"""

import re

_BACKTICKED = re.compile(r"`([^`]+)`")
_MARKUP = re.compile(r"([\\*_|<>])")
#: What may start a paragraph without starting a list, a field or another block.
_PLAIN_START = re.compile(r"[A-Za-z0-9`\\]")


def escape(text):
    """``text`` as reStructuredText that shows it as written; a `backticked` span becomes a literal.

    Examples
    --------
    >>> print(escape("training_loop_ of `floor_tiny_fit.py`"))
    training\\_loop\\_ of ``floor_tiny_fit.py``
    >>> print(escape("-"))  # not a bullet list
    \\-
    >>> print(escape("skipped: --only"))  # not an en dash
    skipped: \\-\\-only
    """
    parts = _BACKTICKED.split(str(text))
    out = "".join(f"``{part}``" if i % 2 else _MARKUP.sub(r"\\\1", part).replace("--", r"\-\-")
                  for i, part in enumerate(parts))
    return out if not out or _PLAIN_START.match(out) else "\\" + out


def number(x):
    """A figure as the tables show it: as written when it has at most 4 significant digits, else rounded to 4.

    Examples
    --------
    >>> [number(x) for x in (9.0, 0.9772, 380.88, 1.0667121, 21, None, "yes")]
    ['9.0', '0.9772', '380.9', '1.067', '21', '-', 'yes']
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "-" if x is None else str(x)
    written = repr(x)
    significant = sum(c.isdigit() for c in written.lstrip("-0."))
    return written if significant <= 4 else f"{x:.4g}"


def cell(column, x):
    """A column's figure: a difference (a column named "a - b") signed, to 4 decimals.

    Examples
    --------
    >>> [cell("accuracy - sklearn's", x) for x in (0.001679, -6.19e-06, None)]
    ['+0.0017', '-0.0000', '-']
    >>> cell("best CV accuracy", 0.97663)
    '0.9766'
    """
    if " - " in column and isinstance(x, float):
        return f"{x:+.4f}"
    return number(x)


def column_names(report):
    """The names of the rows' extra columns, in the order they first appear."""
    names = {}
    for row in report["rows"]:
        names.update(dict.fromkeys(row["columns"]))
    return list(names)


def table_rows(report):
    """The header and the rows of the report's table, as plain strings.

    A column that is empty in every row (no ratios, no notes, ...) is left out.
    """
    extra = column_names(report)
    header = ["system", report["value_label"], report["ratio_label"], *extra, "notes"]
    rows = []
    for row in report["rows"]:
        value = "-" if row["value"] is None else f"{number(row['value'])}\N{NO-BREAK SPACE}{row['unit']}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        rows.append([row["system"], value, ratio, *(cell(name, row["columns"].get(name)) for name in extra),
                     row["notes"] or "-"])
    shown = [k for k in range(len(header)) if k == 0 or any(cells[k] != "-" for cells in rows)]
    return [[cells[k] for k in shown] for cells in [header, *rows]]


def run_line(report):
    """The run's date and machine, then its load, device and versions, in one line."""
    parts = [f"{report['date']}" + (f" {report['time']}" if report.get("time") else ""), report["machine"]]
    if report.get("device"):
        parts.append(f"device: {report['device']}")
    if report.get("load_average"):
        parts.append(f"load average {report['load_average']}")
    versions = ", ".join(f"{name} {version}" for name, version in report["versions"].items())
    parts.append(f"versions: {versions or 'not recorded'}")
    parts.append(f"skdl git revision: {report['git_revision'] or 'not recorded'}")
    return "; ".join(parts)


def report_rst(report):
    """reStructuredText lines for one report: its table, titled with its date and machine, then its notes.

    Parameters
    ----------
    report : dict
        A report as :func:`_common.load_report` returns it.

    Returns
    -------
    list of str
    """
    rows = table_rows(report)
    title = f"{report['title']}: {report['date']}, {report['machine'].split(',')[0]}"
    lines = [f".. list-table:: {escape(title)}", "   :header-rows: 1", "   :class: benchmark-report", ""]
    for index, cells in enumerate(rows):
        first, *rest = map(escape, cells)
        bold = index > 0 and cells[0] == report["headline"]
        lines.append(f"   * - **{first}**" if bold else f"   * - {first}")
        lines.extend(f"     - {cell}" for cell in rest)
    lines += ["", ".. rst-class:: benchmark-run", "", escape(run_line(report)) + ".", ""]
    remarks = [report["setup"], report["goal_text"], *report["notes"]]
    lines += [f"- {escape(remark)}" for remark in remarks if remark]
    return lines + [""]
