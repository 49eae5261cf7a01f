"""amdlib.reports: tables and figures as files, the paper's numbers, and the results page
(amdlib.reports.builder) built from hand-written logs and summaries in a temporary folder."""

import ast
import base64
import json
from pathlib import Path

import pandas as pd
import pytest

from amdlib.reports import builder
from amdlib.reports.summary import Headline, write_summary
from amdlib.reports.tables import save_figure, to_markdown, write_table

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_tables_are_written_as_csv_and_markdown(tmp_path):
    table = pd.DataFrame({"method": ["AMD", "centre|prior"], "J": [0.61234, 0.4]})
    csv_path, md_path = write_table(table, tmp_path / "sub" / "vos")
    assert pd.read_csv(csv_path).equals(table)
    assert md_path.read_text().splitlines() == [
        "| method | J |", "|---|---|", "| AMD | 0.612 |", "| centre\\|prior | 0.400 |"]
    assert not list((tmp_path / "sub").glob(".*tmp"))


def test_figures_are_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots()
    axis.plot([0, 1], [1, 0])
    path = save_figure(figure, tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert to_markdown(pd.DataFrame({"a": [1]})) == "| a |\n|---|\n| 1 |"
    assert to_markdown(pd.DataFrame({"a": [0.5, float("nan")], "b": ["x", None]})) == (
        "| a | b |\n|---|---|\n| 0.500 | x |\n| - | - |")


# ----------------------------------------------------------------------------------------------
# The results page (amdlib.reports.builder), on hand-written logs and summaries


PNG_1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SYNTHETIC = {
    "youtube_vos": {"source": "synthetic", "used": "synthetic YouTube-VOS-layout training videos", "preset": "cpu"},
    "davis2016": {"source": "synthetic", "used": "synthetic DAVIS-2016-layout set", "preset": "cpu"},
    "fbms59": {"source": "synthetic", "used": "synthetic FBMS-layout set (sparse)", "preset": "cpu"},
    "segtrackv2": {"source": "none", "used": "left out (no synthetic SegTrackv2 set)"},
    "duts_te": {"source": "synthetic", "used": "synthetic DUTS-TE-layout set", "preset": "cpu"},
    "voc2012": {"source": "synthetic", "used": "synthetic VOC-2012-layout set", "preset": "cpu"},
}
DAVIS_REAL = "/data/real/davis2016/DAVIS"


def _log(profile: str, data: dict | None = None, checkpoint: str | None = None, status: str = "ok") -> dict:
    return {"profile": profile, "status": status, "finished": "2026-01-01 00:00:00", "python": "3.11",
            "data": json.loads(json.dumps(SYNTHETIC if data is None else data)), "checkpoint": checkpoint,
            "hardware": {"cpu": "Fake CPU", "cpu_cores": 2, "torch": "2.x", "torch_threads": 2, "gpu": None},
            "git": {"commit": "0123456789abcdef", "uncommitted_changes": False},
            "steps": [{"step": "00_data", "status": "ok", "seconds": 12.0},
                      {"step": "01_train", "status": "ok", "seconds": 1150.0}]}


def _headlines(davis_set: str = "synthetic, DAVIS-2016 layout") -> list[Headline]:
    return [
        Headline("davis2016_j", 0.41, "AMD + TTA (100 it), label-free rule", davis_set, ("davis2016",)),
        Headline("fbms59_j", 0.295, "AMD + TTA (100 it)", "synthetic, FBMS layout (sparse)", ("fbms59",)),
        Headline("voc2012_miou", 0.6234, "AMD init, full fine-tune", "VOC 2012 layout (val)", ("voc2012",),
                 details={"random init mIoU": 0.1234, "iterations": 300}),
        Headline("duts_saliency", 0.266, "max F; MAE 0.191; centre prior max F 0.138", "DUTS-TE layout",
                 ("duts_te",)),
        Headline("masks_c", 2.0, "best among c >= 2: c=2 (J 0.142); c=1 (the floor): 0.148", "",
                 ("youtube_vos", "davis2016")),
    ]


def _profile(results: Path, profile: str, log: dict, headlines: list[Headline] | None = None,
             html: bool = True) -> Path:
    folder = results / profile
    (folder / "tables").mkdir(parents=True)
    (folder / "figures").mkdir()
    (folder / "notebooks").mkdir()
    (folder / "reproduce_log.json").write_text(json.dumps(log))
    (folder / "tables" / "03_vos.md").write_text("| set | J |\n|---|---|\n| vos-table-row | 0.410 |\n")
    (folder / "tables" / "03_vos.csv").write_text("set,J\nvos-table-row,0.41\n")
    long_rows = "".join(f"| s{i} | 0.1 |\n" for i in range(50))
    (folder / "tables" / "03_vos_per_sequence.md").write_text("| seq | J |\n|---|---|\n" + long_rows)
    (folder / "figures" / "01_j_vs_time.png").write_bytes(base64.b64decode(PNG_1x1))
    (folder / "notebooks" / "01_train.ipynb").write_text("{}")
    if html:
        (folder / "html").mkdir()
        (folder / "html" / "01_train.html").write_text("<html></html>")
    if headlines is not None:
        write_summary(folder, "03_zero_shot_vos", [h for h in headlines if h.key.endswith("_j")])
        write_summary(folder, "04_semantic_finetune", [h for h in headlines if not h.key.endswith("_j")])
    return folder


def _headline_rows(page: str, profile: str) -> dict[str, str]:
    """The headline table of `profile`, by paper key."""
    section = page.split("## Headline results")[1].split(f"### Profile `{profile}`")[1]
    section = section.split("\n### ")[0].split("\n## ")[0]
    if "This repository's answer per paper task" in section:
        section = section.split("This repository's answer per paper task")[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| task")]
    tasks = {"DAVIS-16": "davis2016_j", "SegTrackv2": "segtrackv2_j", "FBMS-59": "fbms59_j", "VOC": "voc2012_miou",
             "DUTS": "duts_saliency", "number of masks": "masks_c"}
    found = {}
    for row in rows:
        task = row.split(" | ")[0]
        keys = [key for word, key in tasks.items() if word in task]
        assert len(keys) == 1, row
        found[keys[0]] = row
    return found


def test_headline_table_on_synthetic_data(tmp_path):
    results = tmp_path / "results"
    _profile(results, "cpu", _log("cpu"), _headlines())
    page = builder.build_report(results)
    rows = _headline_rows(page, "cpu")
    assert len(rows) == 6
    davis = rows["davis2016_j"]
    assert davis.split(" | ")[1] == "**41.0**: AMD + TTA (100 it), label-free rule"
    assert davis.endswith("| synthetic DAVIS-2016-layout set (NOT comparable) |")
    assert "**29.5**" in rows["fbms59_j"] and "**62.3**" in rows["voc2012_miou"]
    for row in rows.values():  # the paper's numbers are never in a row with ours
        assert not any(paper in row for paper in ("57.8", "47.5", "62.0", "57.0")), row
    papers = page.split("### The paper's numbers")[1].split("\n## ")[0]
    assert ("| zero-shot video object segmentation, DAVIS-16 | J mean (with test-time adaptation) | 57.8 | "
            in papers) and "| 62.0 (62.1 with heavy augmentation) |" in papers
    assert "**0.266**: max F; MAE 0.191" in rows["duts_saliency"]
    masks = rows["masks_c"]
    assert "best among c >= 2: c=2 (J 0.142)" in masks and "**" not in masks  # the text, not the value
    assert rows["segtrackv2_j"].split(" | ")[1:] == ["not run", "- |"]
    for key, row in rows.items():  # every measured row on synthetic data says so
        assert key == "segtrackv2_j" or "NOT comparable" in row, row
    # the values behind the numbers, in the details
    assert "- semantic segmentation, VOC 2012, after fine-tuning: iterations: 300; random init mIoU: 0.123" in page
    assert builder.build_report(results) == page  # deterministic


def test_headline_table_on_real_data(tmp_path):
    results = tmp_path / "results"
    real = json.loads(json.dumps(SYNTHETIC))
    real["davis2016"] = {"source": "real", "title": "DAVIS-2016", "path": DAVIS_REAL}
    checkpoint = "/data/real/amd_checkpoint/amd_pretrained.pth"
    _profile(results, "paper", _log("paper", real, checkpoint), _headlines(davis_set="DAVIS-2016"))
    rows = _headline_rows(builder.build_report(results, "paper"), "paper")
    davis = rows["davis2016_j"]
    assert "**41.0**" in davis and f"real davis2016 (`{DAVIS_REAL}`)" in davis and "amd_pretrained.pth" in davis
    assert "NOT comparable" not in davis
    assert "NOT comparable" in rows["fbms59_j"]  # still synthetic in that run
    # the model counts too: trained here on synthetic videos, it is not the paper's
    assert "NOT comparable" in builder.data_cell(_log("paper", real), ("davis2016",), "DAVIS-2016")
    assert "NOT comparable" in builder.data_cell(_log("paper", real, checkpoint), ("youtube_vos", "davis2016"))
    trained = json.loads(json.dumps(real))
    trained["youtube_vos"] = {"source": "real", "path": "/data/real/youtube_vos"}
    cell = builder.data_cell(_log("paper", trained), ("youtube_vos", "davis2016"), "DAVIS-2016")
    assert cell == f"real davis2016 (`{DAVIS_REAL}`); model trained here on real YouTube-VOS"
    # a set the notebook calls synthetic is never presented as real, whatever the log says
    assert builder.data_cell(_log("paper", real, checkpoint), ("davis2016",), "synthetic, DAVIS-2016 layout") == \
        "synthetic, DAVIS-2016 layout (NOT comparable)"
    # a headline naming no dataset cannot be comparable, nor can one from a log without data
    assert "NOT comparable" in builder.data_cell(_log("paper", real, checkpoint), (), "DAVIS-2016")
    assert "NOT comparable" in builder.data_cell({"checkpoint": checkpoint}, ("davis2016",), "DAVIS-2016")


def test_page_order_and_profiles(tmp_path):
    results = tmp_path / "results"
    _profile(results, "smoke", _log("smoke"), _headlines())
    _profile(results, "paper", _log("paper"), _headlines())
    _profile(results, "cpu", _log("cpu"), _headlines())
    (results / "notes_only").mkdir()  # no log: not a profile of the page
    (results / "NOTES.md").write_text("Hand-written commentary line.\n")
    assert builder.report_profiles(results) == ["cpu", "paper", "smoke"]
    page = builder.build_report(results)
    lines = page.splitlines()
    assert lines[0] == "# Results" and lines[1] == ""
    assert lines[2].startswith("What this is:") and lines[3].startswith("_Generated by `scripts/reproduce.py`")
    assert lines[4] == "" and lines[5] == "## What ran"
    what_ran, headline = page.index("## What ran"), page.index("## Headline results")
    details = page.index("## Details: profile `cpu`")
    assert what_ran < headline < page.index("### Profile `cpu`") < details
    # results/README.md shows the committed profile only: smoke and paper runs have pages of their own
    assert "### Profile `smoke`" not in page and "## Details: profile `paper`" not in page
    assert page.index("| 01_train | ok | 19 min 10 s | `0123456789ab` |") > details  # step times are details
    ran = page[what_ran:headline]
    row = next(line for line in ran.splitlines() if line.startswith("| [`cpu`]"))
    assert "(#details-profile-cpu)" in row and builder.anchor("Details: profile `cpu`") == "details-profile-cpu"
    assert "| ok (2 steps) | 2026-01-01 00:00:00 | 19 min 22 s | Fake CPU, 2 cores, no GPU | `0123456789ab` |" in row
    assert "real: none; synthetic (preset cpu): youtube_vos, davis2016, fbms59, duts_te, voc2012; left out: segtrackv2" in row
    assert sum(line.startswith("| [`") for line in ran.splitlines()) == 1
    assert "notes_only" not in page
    assert "Hand-written commentary line." not in page and "NOTES.md" not in page
    assert "research/" not in page  # the product's page cites docs/, never the studies' folder
    assert "docs/method.md section 9" in page
    # the smoke profile's own page lies in its (git-ignored) folder, with links from there
    assert builder.page_path(results, "smoke") == results / "smoke" / "README.md"
    assert builder.page_path(results, "cpu") == builder.page_path(results) == results / "README.md"
    smoke = builder.write_report(results, "smoke").read_text()
    assert "### Profile `smoke`" in smoke and "### Profile `cpu`" not in smoke
    assert "![01_j_vs_time](figures/01_j_vs_time.png)" in smoke
    assert not (results / "README.md").exists()  # a smoke run leaves the committed page alone


def test_each_step_records_the_commit_that_produced_it(tmp_path):
    results = tmp_path / "results"
    log = _log("cpu")
    log["steps"][0]["git"] = {"commit": "aaaaaaaaaaaaaaaa", "uncommitted_changes": False}
    log["steps"][1]["git"] = {"commit": "bbbbbbbbbbbbbbbb", "uncommitted_changes": True}
    _profile(results, "cpu", log, _headlines())
    page = builder.build_report(results)
    assert "`aaaaaaaaaaaa`, `bbbbbbbbbbbb` with uncommitted changes (per step below)" in page
    assert "| 00_data | ok | 12.0 s | `aaaaaaaaaaaa` |" in page
    assert "| 01_train | ok | 19 min 10 s | `bbbbbbbbbbbb` with uncommitted changes |" in page
    log["steps"][1]["git"] = log["steps"][0]["git"]
    (results / "cpu" / "reproduce_log.json").write_text(json.dumps(log))
    assert "| commit | `aaaaaaaaaaaa` |" in builder.build_report(results)


def test_details_embed_tables_figures_and_notebooks(tmp_path):
    results = tmp_path / "results"
    _profile(results, "cpu", _log("cpu"), _headlines())
    page = builder.build_report(results)
    cpu = page.split("## Details: profile `cpu`")[1]
    assert "#### 03 · VOS\n" in cpu and "| vos-table-row | 0.410 |" in cpu and "[CSV](cpu/tables/03_vos.csv)" in cpu
    assert "#### 03 · VOS per sequence" in cpu and "50 rows, not embedded" in cpu and "| s7 | 0.1 |" not in cpu
    assert "![01_j_vs_time](cpu/figures/01_j_vs_time.png)" in cpu
    assert "| 01_train | [01_train.ipynb](cpu/notebooks/01_train.ipynb) |\n" in cpu
    assert "](cpu/html/" not in page  # HTML renderings are not committed: never linked
    assert "| 01_train | ok | 19 min 10 s |" in cpu and "Fake CPU, 2 cores, torch 2.x with 2 threads" in cpu


def test_every_link_of_the_committed_page_resolves_in_a_clone():
    """results/README.md links only files that a clone has (tracked or made by the page's own run)."""
    import re
    import subprocess

    page = (REPO_ROOT / "results" / "README.md")
    if not page.is_file():
        pytest.skip("no committed results page")
    tracked = set(subprocess.run(["git", "ls-files", "results"], cwd=REPO_ROOT, capture_output=True,
                                 text=True).stdout.split())
    if not tracked:
        pytest.skip("not a git checkout")
    from urllib.parse import unquote

    for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
        if target.startswith("http"):
            continue
        path = (page.parent / unquote(target)).resolve().relative_to(REPO_ROOT).as_posix()
        assert path in tracked or any(t.startswith(path + "/") for t in tracked), target


def test_a_profile_without_summaries_is_not_run(tmp_path):
    results = tmp_path / "results"
    _profile(results, "cpu", _log("cpu"), _headlines())
    _profile(results, "smoke", _log("smoke"))  # no summaries/
    page = builder.build_report(results, "smoke")
    smoke = page.split("### Profile `smoke`")[1].split("### The paper's numbers")[0]
    assert smoke.strip().startswith("not run")
    assert not any(line.startswith("| ") for line in smoke.splitlines())  # no table at all
    assert len(_headline_rows(builder.build_report(results), "cpu")) == 6  # the other profile keeps its table


def test_a_corrupt_summary_is_skipped(tmp_path):
    results = tmp_path / "results"
    folder = _profile(results, "cpu", _log("cpu"))
    summaries = folder / "summaries"
    write_summary(folder, "03_zero_shot_vos", [_headlines()[0]])
    (summaries / "00_broken.json").write_text('{"version": 1, "headlines": [')  # cut off
    (summaries / "01_other_version.json").write_text(json.dumps(
        {"version": 99, "headlines": [{"key": "fbms59_j", "value": 0.9, "text": "future format"}]}))
    (summaries / "02_bad_entry.json").write_text(json.dumps(
        {"version": 1, "headlines": [{"key": "voc2012_miou", "value": 0.5, "text": "x", "unknown_field": 1}]}))
    rows = _headline_rows(builder.build_report(results), "cpu")
    assert "**41.0**" in rows["davis2016_j"]
    for key in ("fbms59_j", "voc2012_miou"):
        assert "not run" in rows[key], rows[key]
    # only corrupt summaries: the profile is "not run", and the page is still written
    for path in sorted(summaries.glob("03_*.json")):
        path.unlink()
    path = builder.write_report(results)
    assert "### Profile `cpu`\n\nnot run" in path.read_text()


def test_headline_value_formats():
    h = lambda key, value, text="what": Headline(key, value, text)  # noqa: E731
    assert builder.headline_value(h("davis2016_j", 0.41)) == "**41.0**: what"
    assert builder.headline_value(h("voc2012_miou", 0.62349)) == "**62.3**: what"
    assert builder.headline_value(h("davis2016_j", 0.41, "")) == "**41.0**"
    assert builder.headline_value(h("duts_saliency", 0.2661)) == "**0.266**: what"
    assert builder.headline_value(h("masks_c", 5.0, "c=5 best")) == "c=5 best"
    assert builder.headline_value(h("davis2016_j", None, "no single number")) == "no single number"
    assert builder.headline_value(h("davis2016_j", float("nan"))) == "what"
    assert builder.headline_value(h("davis2016_j", "0.41x")) == "what"  # not a number: the text


def test_an_older_log_and_an_empty_results_folder(tmp_path):
    assert "No profile has been run yet" in builder.build_report(tmp_path / "nowhere")
    results = tmp_path / "results"
    (results / "cpu").mkdir(parents=True)
    (results / "cpu" / "reproduce_log.json").write_text(json.dumps(
        {"profile": "cpu", "python": "3.11.7", "finished": "x", "steps": [{"step": "00_data", "status": "ok", "seconds": 1}]}))
    page = builder.build_report(results)
    assert "not recorded (older log)" in page and "No tables yet." in page and "No executed notebooks yet." in page
    assert "### Profile `cpu`\n\nnot run" in page


def test_failed_profile_status():
    log = _log("cpu")
    log["steps"].append({"step": "02_fail", "status": "failed", "seconds": 3.0})
    assert builder.status_text(log) == "FAILED at 02_fail"
    assert builder.status_text({"status": "running"}) == "running"


def test_builder_imports_no_script_or_research_code():
    tree = ast.parse(Path(builder.__file__).read_text())
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert modules and not [m for m in modules if m.split(".")[0] in ("scripts", "research", "benchmarks")]


def test_table_title():
    assert builder.table_title("03_vos_per_sequence") == "03 · VOS per sequence"
    assert builder.table_title("04_semantic") == "04 · Semantic"
    assert builder.table_title("summary") == "Summary"


def test_paper_results_match_the_paper():
    from amdlib.reports.paper import PAPER_RESULTS, SOURCE, paper_result

    assert [r.value for r in PAPER_RESULTS[:4]] == [57.8, 57.0, 47.5, 62.0]
    assert paper_result("duts_saliency").value is None
    assert [r.key for r in PAPER_RESULTS] == ["davis2016_j", "segtrackv2_j", "fbms59_j", "voc2012_miou",
                                              "duts_saliency", "masks_c"]
    assert "NeurIPS 2021" in SOURCE and "SPEC" not in SOURCE
    with pytest.raises(KeyError):
        paper_result("nope")
    spec = REPO_ROOT.parent / "shared" / "SPEC.md"  # the project's summary of the paper, where present
    if spec.is_file():
        text = spec.read_text()
        assert "57.8 / 57.0 / 47.5" in text and "62.0 (62.1 with heavy augmentation)" in text
        assert paper_result("duts_saliency").paper in text and paper_result("masks_c").paper in text


def test_headline_lines_set_amd_beside_its_baselines_with_seed_ranges(tmp_path):
    from amdlib.reports.headline import HEADER, headline_lines

    tables = tmp_path / "cpu" / "tables"
    tables.mkdir(parents=True)
    assert headline_lines(tmp_path / "cpu") == []  # nothing measured, no table
    pd.DataFrame([
        {"set": "s", "method": "AMD", "channel rule": "motion_contrast_video", "J (DAVIS mean)": 0.41},
        {"set": "s", "method": "AMD", "channel rule": "fixed", "J (DAVIS mean)": 0.99},
        {"set": "s", "method": "AMD + TTA (100 it)", "channel rule": "motion_contrast_video", "J (DAVIS mean)": 0.57},
        {"set": "s", "method": "motion baseline (DIS + RANSAC)", "channel rule": "-", "J (DAVIS mean)": 0.6},
        {"set": "s", "method": "centre prior (r=0.30)", "channel rule": "-", "J (DAVIS mean)": 0.33},
    ]).to_csv(tables / "03_vos.csv", index=False)
    pd.DataFrame([
        {"backbone": f"{init} init, {kind}", "seeds": 3, "mIoU": m, "mIoU min": m - 0.01, "mIoU max": m + 0.01,
         "against random init": "lower beyond the spread" if init == "AMD" else "-"}
        for init, kind, m in (("AMD", "full fine-tune", 0.25), ("AMD", "frozen backbone", 0.20),
                              ("random", "full fine-tune", 0.27), ("random", "frozen backbone", 0.23))
    ]).to_csv(tables / "04_semantic.csv", index=False)
    lines = headline_lines(tmp_path / "cpu")
    assert tuple(lines[:2]) == HEADER
    assert lines[2] == "| zero-shot VOS (J, label-free channel), s | 0.410; + TTA 0.570 | motion baseline 0.600; " \
                       "centre prior 0.330 |"
    assert lines[3] == ("| semantic fine-tuning (mIoU), synthetic VOC layout, 3 seeds | AMD init: full fine-tune 0.250 "
                        "(0.240-0.260), lower beyond the spread; frozen backbone 0.200 (0.190-0.210), lower beyond the "
                        "spread | random init: full fine-tune 0.270 (0.260-0.280); frozen backbone 0.230 (0.220-0.240) |")
