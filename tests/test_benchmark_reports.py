"""The benchmarks' JSON reports: written and read back, rendered as tables, drawn as the docs' figure."""

import ast
import datetime
import doctest
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "benchmarks" / "reports"
sys.path.insert(0, str(ROOT / "benchmarks"))

import _common as bench  # noqa: E402
import plot_ratios  # noqa: E402
import report_table  # noqa: E402

COMMITTED = sorted(REPORTS.glob("*.json"))


def write_two_row_report(path, **fields):
    rows = [bench.report_row("sklearn MLPClassifier", 10.3, "s", 1.0, "hidden_layer_sizes=(64, 64)",
                             **{"best CV accuracy": 0.975, "fits": 21}),
            bench.report_row("skdl MLPClassifierTF", 8.3, "s", 0.8, "",
                             **{"best CV accuracy": 0.9772, "fits": 21})]
    options = dict(value_label="search time", ratio_label="ratio to sklearn",
                   reference="sklearn MLPClassifier", headline="skdl MLPClassifierTF", goal=0.5)
    return bench.write_json_report(path, "P1", "P1 small-data tuning", rows, **{**options, **fields}), rows


def test_a_written_report_reads_back_with_its_rows_date_and_machine(tmp_path):
    written, rows = write_two_row_report(tmp_path / "p1.json")
    loaded = bench.load_report(tmp_path / "p1.json")
    assert loaded == written and loaded["rows"] == rows
    assert loaded["date"] == datetime.date.today().isoformat()
    assert "logical cores" in loaded["machine"] and loaded["versions"]["python"]
    assert loaded["git_revision"] and loaded["smoke_run"] is False


def test_a_report_whose_ratio_is_not_a_number_is_refused(tmp_path):
    write_two_row_report(tmp_path / "p1.json")
    report = json.loads((tmp_path / "p1.json").read_text())
    report["rows"][1]["ratio"] = "hidden_layer_sizes=(64, 64)"  # a transcription slip: notes in the ratio
    (tmp_path / "p1.json").write_text(json.dumps(report))
    with pytest.raises(ValueError, match="numeric value and ratio"):
        bench.load_report(tmp_path / "p1.json")


def test_a_headline_that_names_no_row_is_refused(tmp_path):
    write_two_row_report(tmp_path / "p1.json", headline="skdl (typo)")
    with pytest.raises(ValueError, match="headline"):
        bench.load_report(tmp_path / "p1.json")


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_each_committed_report_renders_as_a_table_with_one_row_per_system(path):
    docutils_core = pytest.importorskip("docutils.core")
    report = bench.load_report(path)
    lines = report_table.report_rst(report)
    table = "\n".join(lines[:lines.index(".. rst-class:: benchmark-run")])
    tree = docutils_core.publish_doctree(table, settings_overrides={"report_level": 2, "halt_level": 2})
    body_rows = [row for row in tree.findall(lambda node: node.tagname == "row")][1:]
    assert len(body_rows) == len(report["rows"])
    assert not list(tree.findall(lambda node: node.tagname == "bullet_list"))  # a "-" cell is text
    title = next(tree.findall(lambda node: node.tagname == "title")).astext()
    assert report["date"] in title and report["machine"].split(",")[0] in title


def test_the_table_helpers_examples():
    assert doctest.testmod(report_table).failed == 0


def test_the_figure_is_drawn_from_the_latest_report_of_each_workload(tmp_path):
    pytest.importorskip("matplotlib")
    latest = {r["workload"]: r for r in plot_ratios.latest_per_workload(bench.load_reports(REPORTS))}
    p1_dates = [r["date"] for r in bench.load_reports(REPORTS) if r["workload"] == "P1"]
    assert latest["P1"]["date"] == max(p1_dates) > min(p1_dates)
    assert latest["P6"]["date"] == max(r["date"] for r in bench.load_reports(REPORTS)
                                       if r["workload"] == "P6")
    same_day = [r for r in bench.load_reports(REPORTS)
                if r["workload"] == "P6" and r["date"] == "2026-11-30"]
    assert len(same_day) == 2  # same date: the later file
    assert plot_ratios.latest_per_workload(same_day)[0]["title"].endswith("run 2 of 2")
    assert "P5" not in latest  # its goal is an absolute growth: no ratio to plot
    out = tmp_path / "ratios.png"
    assert plot_ratios.main(["--reports", str(REPORTS), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_smoke_runs_are_not_plotted(tmp_path):
    write_two_row_report(tmp_path / "a.json", goal=None)
    write_two_row_report(tmp_path / "b.json", smoke_run=True)
    latest = plot_ratios.latest_per_workload(bench.load_reports(tmp_path))
    assert [report["goal"] for report in latest] == [None]  # a.json, not the later smoke run


def conf_value(name):
    """A literal assigned in docs/conf.py, read without running it (it sets TensorFlow's environment)."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    return next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name)


def test_the_docs_footer_shows_the_build_year():
    pytest.importorskip("sphinx")
    from sphinx.config import Config, evaluate_copyright_placeholders

    config = Config({"copyright": conf_value("copyright")})
    evaluate_copyright_placeholders(None, config)
    assert config.copyright == f"{datetime.date.today().year}, the skdl developers"
