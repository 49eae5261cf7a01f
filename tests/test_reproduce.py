"""scripts/reproduce.py, the main job: progress, failure handling, parameters, real-data mapping,
HTML renderings, the log, and that it writes the results page (whose builder,
amdlib.reports.builder, tests/test_report.py tests on hand-written inputs).

The pipeline tests run a few trivial notebooks (made here with nbformat) through papermill with
the venv's python3 kernel, once per module.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _load_reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_script", REPO_ROOT / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


reproduce = _load_reproduce()

# A 1x1 PNG, so the fake notebook writes a figure without matplotlib.
PNG_1x1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


SUMMARY_JSON = json.dumps({"version": 1, "notebook": "00_first", "headlines": [
    {"key": "davis2016_j", "value": 0.41, "text": "fake AMD + TTA", "set_name": "DAVIS-2016",
     "datasets": ["davis2016"], "details": {}}]})
"""What the fake notebook 00_first writes to summaries/ (the format of amdlib.reports.summary)."""


def _notebook(path: Path, parameters: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), params,
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, str(path))
    return path


def _fake_notebooks(folder: Path) -> Path:
    folder.mkdir(parents=True)
    _notebook(
        folder / "00_first.ipynb",
        'profile = "cpu"\nresults_dir = None\ndavis_root = None\ncheckpoint = None\nreal_roots = {}',
        "import base64, pathlib\n"
        "out = pathlib.Path(results_dir)\n"
        "(out / 'tables').mkdir(parents=True, exist_ok=True)\n"
        "(out / 'figures').mkdir(parents=True, exist_ok=True)\n"
        "(out / 'tables' / '00_first.csv').write_text('set,value\\nfirst,1.5\\n')\n"
        "(out / 'tables' / '00_first.md').write_text('| set | value |\\n|---|---|\\n| first | 1.500 |\\n')\n"
        f"(out / 'figures' / '00_first.png').write_bytes(base64.b64decode('{PNG_1x1}'))\n"
        "(out / 'summaries').mkdir(parents=True, exist_ok=True)\n"
        f"(out / 'summaries' / '00_first.json').write_text({SUMMARY_JSON!r})\n"
        "print('first done', profile)",
    )
    _notebook(folder / "01_second.ipynb", 'profile = "cpu"\nresults_dir = None\nvoc_root = None',
              "print('second', voc_root)")
    _notebook(folder / "02_fail.ipynb", 'profile = "cpu"\nresults_dir = None',
              "x = 1", "raise ValueError('boom')", "print('never reached')")
    return folder


def _fake_data_root(root: Path) -> Path:
    for sub in ("davis2016/DAVIS/JPEGImages/480p", "davis2016/DAVIS/Annotations/480p",
                "voc2012/VOCdevkit/VOC2012", "fbms59/Testset"):
        (root / sub).mkdir(parents=True)
    return root


def _layout(tmp: Path, notebooks: Path) -> "reproduce.Layout":
    return reproduce.Layout(repo_root=tmp, notebooks_dir=notebooks, results_root=tmp / "results",
                            bench_script=tmp / "no_bench.py", kernel_name="python3")


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """One run of three notebooks (the third fails) with a fake DATA_ROOT and checkpoint."""
    tmp = tmp_path_factory.mktemp("repro")
    notebooks = _fake_notebooks(tmp / "notebooks")
    data_root = _fake_data_root(tmp / "data")
    checkpoint = tmp / "model.pt"
    checkpoint.write_bytes(b"not really a checkpoint")
    layout = _layout(tmp, notebooks)
    import contextlib  # a module-scoped fixture cannot use capsys: redirect by hand
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = reproduce.main(["--profile", "smoke", "--data-root", str(data_root), "--checkpoint", str(checkpoint)],
                            layout=layout)
    return {"rc": rc, "out": out.getvalue(), "err": err.getvalue(), "tmp": tmp, "data_root": data_root.resolve(),
            "checkpoint": checkpoint.resolve(), "results": tmp / "results" / "smoke", "layout": layout}


def _injected(executed: Path) -> dict:
    return nbformat.read(str(executed), as_version=4).metadata["papermill"]["parameters"]


# ----------------------------------------------------------------------------------------------
# The pipeline


def test_progress_lines_and_failure_names_notebook_and_cell(failed_run):
    assert failed_run["rc"] == 1
    out, err = failed_run["out"], failed_run["err"]
    assert "[1/4] 00_first ...\n" in out and "[1/4] 00_first ok (" in out  # a notebook's own lines go between
    assert "[2/4] 01_second ok (" in out
    assert "[3/4] 02_fail FAILED" in out
    assert "[4/4] report ... ok -> results/smoke/README.md" in out
    assert "stopped at step 02_fail" in err
    assert "notebook 02_fail.ipynb failed" in err
    assert "failing cell: index" in err and "raise ValueError('boom')" in err
    assert "ValueError: boom" in err
    assert "outputs of the 2 earlier step(s) are kept" in err


def test_failure_keeps_earlier_outputs_and_renders_html(failed_run):
    results = failed_run["results"]
    assert (results / "tables" / "00_first.csv").is_file()
    assert (results / "tables" / "00_first.md").is_file()
    assert (results / "figures" / "00_first.png").is_file()
    for stem in ("00_first", "01_second", "02_fail"):
        assert (results / "notebooks" / f"{stem}.ipynb").is_file()
        html = results / "html" / f"{stem}.html"
        assert html.is_file() and "<html" in html.read_text()[:2000].lower()
    assert "boom" in (results / "html" / "02_fail.html").read_text()  # the partial run, with its error
    assert "its HTML rendering" in failed_run["err"]
    assert not list((results / "html").glob(".*tmp*"))  # atomic writes leave no temporaries


def test_parameters_passed_only_where_declared(failed_run):
    results, data_root = failed_run["results"], failed_run["data_root"]
    first = _injected(results / "notebooks" / "00_first.ipynb")
    assert first["profile"] == "smoke" and first["results_dir"] == str(results.resolve())
    assert first["davis_root"] == str(data_root / "davis2016" / "DAVIS")
    assert first["checkpoint"] == str(failed_run["checkpoint"])
    assert first["real_roots"] == {"davis2016": str(data_root / "davis2016" / "DAVIS"),
                                   "voc2012": str(data_root / "voc2012")}
    assert "voc_root" not in first
    second = _injected(results / "notebooks" / "01_second.ipynb")
    assert second["voc_root"] == str(data_root / "voc2012")
    assert not {"davis_root", "checkpoint", "real_roots", "fbms_root", "train_root"} & set(second)
    third = _injected(results / "notebooks" / "02_fail.ipynb")
    assert set(third) == {"profile", "results_dir"}


def test_data_line_says_what_is_real_and_what_stays_synthetic(failed_run):
    line = next(l for l in failed_run["out"].splitlines() if "data:" in l)
    assert "real: davis2016" in line and "voc2012" in line.split("synthetic:")[0]
    synthetic = line.split("synthetic:")[1]
    assert "youtube_vos" in synthetic and "duts_te" in synthetic
    assert "fbms59 [" in synthetic and "lacks JPEGImages" in synthetic  # found, but not usable as is
    assert "left out: segtrackv2" in line


def test_log_records_run(failed_run):
    log = json.loads((failed_run["results"] / "reproduce_log.json").read_text())
    assert log["profile"] == "smoke" and log["status"] == "failed"
    assert [s["step"] for s in log["steps"]] == ["00_first", "01_second", "02_fail"]
    assert [s["status"] for s in log["steps"]] == ["ok", "ok", "failed"]
    assert log["steps"][0]["parameters"]["davis_root"].endswith("DAVIS")
    assert log["data"]["davis2016"]["source"] == "real"
    assert log["data"]["youtube_vos"] == {"source": "synthetic", "title": reproduce.REAL_DATASETS[0].title,
                                          "used": "synthetic YouTube-VOS-layout training videos",
                                          "preset": "smoke"}
    assert log["data"]["segtrackv2"]["source"] == "none"
    assert log["checkpoint"] == str(failed_run["checkpoint"])
    hardware = log["hardware"]
    assert hardware["cpu"] and hardware["cpu_cores"] >= 1 and hardware["torch"] and "gpu" in hardware
    assert isinstance(log["total_seconds"], float) and "02_fail" in log["failure"]
    assert "git" in log


def test_report_written_after_failure(failed_run):
    """A smoke run writes its own page in results/smoke/ (git ignores the folder) and leaves the
    committed results/README.md alone, failed or not."""
    assert not (failed_run["tmp"] / "results" / "README.md").exists()
    readme = (failed_run["tmp"] / "results" / "smoke" / "README.md").read_text()
    assert "## Details: profile `smoke`" in readme and "FAILED at 02_fail" in readme
    assert "| first | 1.500 |" in readme  # the table, embedded
    assert "![00_first](figures/00_first.png)" in readme
    assert "(notebooks/00_first.ipynb)" in readme and ".html)" not in readme  # HTML is never committed: not linked
    assert "davis2016: **real** `" in readme  # the data line of the run
    # the headline the first notebook wrote, on the real DAVIS folder the run passed it
    davis = next(line for line in readme.splitlines() if line.startswith("| zero-shot video object segmentation, DAVIS-16"))
    assert "**41.0**: fake AMD + TTA" in davis
    assert str(failed_run["data_root"] / "davis2016" / "DAVIS") in davis and "NOT comparable" not in davis
    assert readme.index("## What ran") < readme.index("## Headline results") < readme.index("## Details")


def test_html_rendering_is_deterministic(failed_run, tmp_path):
    executed = failed_run["results"] / "notebooks" / "00_first.ipynb"
    a = reproduce.render_html(executed, tmp_path / "a.html").read_text()
    b = reproduce.render_html(executed, tmp_path / "b.html").read_text()
    assert a == b and "first done" in a


def test_only_one_step_merges_into_the_log(failed_run):
    import contextlib
    import io

    layout = failed_run["layout"]
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()):
        rc = reproduce.main(["--profile", "smoke", "--only", "01"], layout=layout)
    assert rc == 0
    assert "[1/2] 01_second ok" in out.getvalue() and "[2/2] report ... ok" in out.getvalue()
    log = json.loads((failed_run["results"] / "reproduce_log.json").read_text())
    assert [s["step"] for s in log["steps"]] == ["00_first", "01_second", "02_fail"]
    assert log["only"] == "01" and log["data"]["davis2016"]["source"] == "synthetic"
    second = _injected(failed_run["results"] / "notebooks" / "01_second.ipynb")
    assert "voc_root" not in second  # no DATA_ROOT this time


def test_missing_data_root_or_checkpoint_stops_before_any_notebook(tmp_path, capsys):
    notebooks = _fake_notebooks(tmp_path / "notebooks")
    layout = _layout(tmp_path, notebooks)
    rc = reproduce.main(["--profile", "smoke", "--data-root", str(tmp_path / "nowhere")], layout=layout)
    assert rc == 2
    assert "DATA_ROOT" in capsys.readouterr().err
    rc = reproduce.main(["--profile", "smoke", "--checkpoint", str(tmp_path / "missing.pt")], layout=layout)
    assert rc == 2
    assert "CHECKPOINT" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_unknown_step(tmp_path, capsys):
    layout = _layout(tmp_path, _fake_notebooks(tmp_path / "notebooks"))
    assert reproduce.main(["--profile", "smoke", "--only", "99"], layout=layout) == 2
    assert "available: 00_first, 01_second, 02_fail, report" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# Real data and parameters (no notebooks run)


def test_data_root_mapping(tmp_path):
    root = tmp_path / "real"
    for sub in ("youtube_vos", "davis2016/DAVIS/JPEGImages/480p", "davis2016/DAVIS/Annotations/480p",
                "fbms59/JPEGImages", "fbms59/Annotations", "segtrackv2/SegTrackv2/JPEGImages",
                "segtrackv2/SegTrackv2/GroundTruth", "duts_te/DUTS-TE/DUTS-TE-Image",
                "duts_te/DUTS-TE/DUTS-TE-Mask"):
        (root / sub).mkdir(parents=True)
    (root / "youtube_vos" / "ytb_2019.txt").write_text("train_all_frames/JPEGImages/v 00000 00001\n")
    choices = {c.dataset.name: c for c in reproduce.resolve_data(root)}
    root = root.resolve()
    assert choices["youtube_vos"].path == root / "youtube_vos"
    assert choices["davis2016"].path == root / "davis2016" / "DAVIS"
    assert choices["fbms59"].path == root / "fbms59"
    assert choices["duts_te"].path == root / "duts_te" / "DUTS-TE"
    assert choices["segtrackv2"].path is None and "Annotations" in choices["segtrackv2"].note
    assert choices["voc2012"].path is None and choices["voc2012"].note == ""

    declared = {"profile", "results_dir", "train_root", "train_split", "davis_root", "fbms_root", "segtrack_root",
                "duts_root", "voc_root", "checkpoint", "real_roots"}
    params = reproduce.notebook_parameters(declared, "paper", Path("/r"), list(choices.values()), Path("/m.pth"))
    assert params == {
        "profile": "paper", "results_dir": "/r", "checkpoint": "/m.pth",
        "train_root": str(root / "youtube_vos"), "train_split": str(root / "youtube_vos" / "ytb_2019.txt"),
        "davis_root": str(root / "davis2016" / "DAVIS"), "fbms_root": str(root / "fbms59"),
        "duts_root": str(root / "duts_te" / "DUTS-TE"),
        "real_roots": {"davis2016": str(root / "davis2016" / "DAVIS"), "fbms_sparse": str(root / "fbms59"),
                       "duts_te": str(root / "duts_te" / "DUTS-TE")},
    }
    # declared-only: a notebook taking none of them gets profile and results_dir alone
    assert reproduce.notebook_parameters({"profile"}, "cpu", Path("/r"), list(choices.values()), Path("/m")) == \
        {"profile": "cpu", "results_dir": "/r"}
    summary = reproduce.data_summary(list(choices.values()))
    assert summary.startswith("data: real: youtube_vos") and "synthetic: voc2012" in summary


def test_no_data_root_means_synthetic():
    choices = reproduce.resolve_data(None)
    assert all(not c.is_real for c in choices)
    assert "real: none" in reproduce.data_summary(choices)


def test_real_datasets_follow_download_resources():
    from amdlib.io.resources import RESOURCES

    for dataset in reproduce.REAL_DATASETS:
        assert dataset.resource in RESOURCES
        loader = RESOURCES[dataset.resource].loader
        expected = f"<root>/{RESOURCES[dataset.resource].subfolder}" + (f"/{dataset.inner}" if dataset.inner else "")
        assert expected in loader or dataset.name == "fbms59", (dataset.name, loader)


def test_notebooks_declare_the_parameters_we_pass():
    """Every real-data parameter is declared by some notebook of the repository (names match)."""
    import papermill as pm

    declared = set()
    for notebook in reproduce.find_notebooks():
        declared |= set(pm.inspect_notebook(str(notebook)))
    if not declared:
        pytest.skip("no notebooks")
    wanted = {p for d in reproduce.REAL_DATASETS for p, _ in d.parameters} | {"checkpoint", "real_roots"}
    assert wanted <= declared, wanted - declared


def test_only_report_rebuilds_the_page_alone(tmp_path, capsys):
    results = tmp_path / "results"
    (results / "cpu").mkdir(parents=True)
    (results / "cpu" / "reproduce_log.json").write_text(json.dumps(
        {"profile": "cpu", "finished": "x", "steps": [{"step": "00_data", "status": "ok", "seconds": 1}]}))
    layout = reproduce.Layout(repo_root=tmp_path, notebooks_dir=tmp_path / "none", results_root=results,
                              bench_script=tmp_path / "none.py")
    assert reproduce.main(["--only", "report"], layout=layout) == 0
    assert "report -> results/README.md" in capsys.readouterr().out
    readme = (results / "README.md").read_text()
    assert "## Details: profile `cpu`" in readme and "not recorded (older log)" in readme
    assert json.loads((results / "cpu" / "reproduce_log.json").read_text())["finished"] == "x"  # log untouched


def test_profiles_presets_and_the_real_data_table_come_from_amdlib(failed_run):
    from amdlib.config import PROFILES, profile
    from amdlib.data import real

    assert reproduce.PROFILES is PROFILES and reproduce.REAL_DATASETS is real.REAL_DATASETS
    log = json.loads((failed_run["results"] / "reproduce_log.json").read_text())
    assert log["data"]["youtube_vos"]["preset"] == profile("smoke").data


def test_a_real_data_profile_on_synthetic_data_says_so(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00_first.ipynb", 'profile = "cpu"\nresults_dir = None', "print('ok')")
    assert reproduce.main(["--profile", "paper"], layout=_layout(tmp_path, notebooks)) == 0
    out = capsys.readouterr().out
    assert "WARNING: this profile is meant for real data, but youtube_vos, davis2016, fbms59, duts_te, voc2012 are " \
           "the SYNTHETIC stand-in" in out
    assert (tmp_path / "results" / "paper" / "README.md").is_file() and not (tmp_path / "results" / "README.md").exists()
    assert reproduce.main(["--profile", "smoke"], layout=_layout(tmp_path, notebooks)) == 0
    assert "meant for real data" not in capsys.readouterr().out


def test_reproduce_has_no_page_builder_of_its_own():
    """The results page is amdlib.reports.builder's: the script only calls it."""
    from amdlib.reports import builder

    assert reproduce.write_report is builder.write_report and reproduce.read_log is builder.read_log
    for name in ("build_report", "data_cell", "measure_vos", "measure_masks", "tables_section"):
        assert not hasattr(reproduce, name), name


def test_rerun_changes_only_timestamps(failed_run):
    """A second identical run of a notebook rewrites the same HTML and the same cells (the
    cells papermill inserts get fixed ids); only papermill's timestamps differ."""
    import contextlib
    import io

    results = failed_run["results"]
    html_before = (results / "html" / "00_first.html").read_text()
    cells_before = nbformat.read(str(results / "notebooks" / "00_first.ipynb"), as_version=4).cells
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = reproduce.main(["--profile", "smoke", "--only", "00", "--data-root", str(failed_run["data_root"]),
                             "--checkpoint", str(failed_run["checkpoint"])], layout=failed_run["layout"])
    assert rc == 0
    assert (results / "html" / "00_first.html").read_text() == html_before
    cells_after = nbformat.read(str(results / "notebooks" / "00_first.ipynb"), as_version=4).cells
    assert [c.id for c in cells_after] == [c.id for c in cells_before]
    assert cells_after[2].id == "injected-parameters"
    assert [c.source for c in cells_after] == [c.source for c in cells_before]


def test_a_given_checkpoint_replaces_the_training_notebook(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_train.ipynb", 'profile = "cpu"\nresults_dir = None\ntrain_root = None', "print('trained')")
    _notebook(notebooks / "02_eval.ipynb", 'profile = "cpu"\nresults_dir = None\ncheckpoint = None', "print('evaluated')")
    _notebook(notebooks / "05_ablations.ipynb", 'profile = "cpu"\nresults_dir = None\ntrain_root = None', "print('ablations')")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    steps, _ = reproduce.plan(reproduce.resolve_profile("smoke"), tmp_path / "results", _layout(tmp_path, notebooks), checkpoint=checkpoint)
    assert [s.name for s in steps] == ["02_eval", "05_ablations"]  # ablations train their own
    assert "01_train skipped" in capsys.readouterr().out
    steps, _ = reproduce.plan(reproduce.resolve_profile("smoke"), tmp_path / "results", _layout(tmp_path, notebooks))
    assert [s.name for s in steps] == ["01_train", "02_eval", "05_ablations"]


def test_parameters_cells_do_not_derive_values_from_profile():
    """papermill injects `profile` AFTER the parameters cell, so a default computed there from
    `profile` would silently use the environment's profile instead (a smoke run doing cpu-sized
    work). Profile-dependent defaults are None there and resolved in a later cell."""
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(str(path), as_version=4).cells
        parameters = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
        for line in parameters.source.splitlines():
            code = line.split("#", 1)[0]
            if "profile" in code and not code.startswith("profile ="):
                raise AssertionError(f"{path.name}: parameters cell computes from profile: {line!r}")


def test_an_evaluation_step_without_the_trained_model_names_the_step_to_run_first(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AMD_RUNS_DIR", raising=False)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00_first.ipynb", 'profile = "cpu"\nresults_dir = None',
              "import pathlib\n"
              "out = pathlib.Path(results_dir) / 'summaries'\n"
              "out.mkdir(parents=True, exist_ok=True)\n"
              f"(out / '00_first.json').write_text({SUMMARY_JSON!r})")
    _notebook(notebooks / "01_train.ipynb", 'profile = "cpu"\nresults_dir = None', "print('trained')")
    _notebook(notebooks / "03_eval.ipynb", 'profile = "cpu"\nresults_dir = None\ncheckpoint = None',
              "raise FileNotFoundError('checkpoint not found')")
    layout = _layout(tmp_path, notebooks)
    assert reproduce.main(["--profile", "smoke", "--only", "00"], layout=layout) == 0
    capsys.readouterr()
    assert reproduce.main(["--profile", "smoke", "--only", "03"], layout=layout) == 1
    err = capsys.readouterr().err
    expected = tmp_path / "runs" / "smoke" / "checkpoint.pt"
    assert (f"notebook 03_eval.ipynb evaluates the model that 01_train trains, and {expected} does not exist "
            "yet: run `python scripts/reproduce.py --only 01` first (or `make reproduce`), or pass "
            "--checkpoint PATH") in err
    readme = (tmp_path / "results" / "smoke" / "README.md").read_text()
    assert "**41.0**: fake AMD + TTA" in readme  # the earlier step's summary is still on the page
    expected.parent.mkdir(parents=True)
    expected.write_bytes(b"weights")  # with the model there, the notebook itself runs (and here fails)
    assert reproduce.main(["--profile", "smoke", "--only", "03"], layout=layout) == 1
    assert "checkpoint not found" in capsys.readouterr().err


def test_an_incomplete_davis_root_is_named_with_the_loaders_own_check(tmp_path):
    folder = tmp_path / "real" / "davis2016" / "DAVIS"
    (folder / "JPEGImages" / "480p").mkdir(parents=True)
    davis = {c.dataset.name: c for c in reproduce.resolve_data(tmp_path / "real")}["davis2016"]
    assert davis.path is None and davis.note == f"{folder.resolve()} lacks Annotations/480p"
    (folder / "Annotations" / "480p").mkdir(parents=True)  # no ImageSets: every sequence, as the loader reads it
    davis = {c.dataset.name: c for c in reproduce.resolve_data(tmp_path / "real")}["davis2016"]
    assert davis.path == folder.resolve() and davis.note == ""


def _real_video_notebooks(tmp_path: Path) -> Path:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "03_eval.ipynb", 'profile = "cpu"\nresults_dir = None\ndavis_root = None', "print(1)")
    _notebook(notebooks / "06_real_video.ipynb",
              'profile = "cpu"\nresults_dir = None\nreal_videos = None\ndavis_root = None', "print(1)")
    return notebooks


def test_the_real_video_stage_runs_only_with_clips_and_davis_and_says_what_it_skipped(tmp_path, capsys):
    notebooks = _real_video_notebooks(tmp_path)
    layout = _layout(tmp_path, notebooks)
    cpu = reproduce.resolve_profile("cpu")
    steps, _ = reproduce.plan(cpu, tmp_path / "results", layout)
    assert [s.name for s in steps] == ["03_eval"]
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if "06_real_video skipped" in line]
    assert len(skipped) == 1 and "REAL_VIDEOS=<folder of clips> and DAVIS_ROOT=<DAVIS-2016 root>" in skipped[0]
    clips, davis = tmp_path / "clips", tmp_path / "davis"
    steps, _ = reproduce.plan(cpu, tmp_path / "results", layout, real_videos=clips)
    assert [s.name for s in steps] == ["03_eval"]
    assert "give DAVIS_ROOT=<DAVIS-2016 root>" in capsys.readouterr().out
    steps, _ = reproduce.plan(cpu, tmp_path / "results", layout, real_videos=clips, davis_root=davis)
    assert [s.name for s in steps] == ["03_eval", "06_real_video"]
    # the smoke profile checks the code paths on the synthetic stand-ins
    steps, _ = reproduce.plan(reproduce.resolve_profile("smoke"), tmp_path / "results", layout)
    assert [s.name for s in steps] == ["03_eval", "06_real_video"]
    steps, _ = reproduce.plan(reproduce.resolve_profile("paper"), tmp_path / "results", layout)
    assert [s.name for s in steps] == ["03_eval"]
    assert "profile 'paper' defines no real-video run" in capsys.readouterr().out


def test_the_real_video_folders_go_to_the_real_video_notebook_alone(tmp_path):
    clips, davis = tmp_path / "clips", tmp_path / "davis"
    given = {"real_videos": clips, "davis_root": davis}
    parameters = reproduce.notebook_parameters({"real_videos", "davis_root"}, "cpu", tmp_path, real_video=given)
    assert parameters["real_videos"] == str(clips) and parameters["davis_root"] == str(davis)
    assert "real_videos" not in reproduce.notebook_parameters({"real_videos", "davis_root"}, "cpu", tmp_path)


def test_a_real_video_folder_that_is_not_there_stops_before_any_notebook(tmp_path, capsys):
    layout = _layout(tmp_path, _real_video_notebooks(tmp_path))
    assert reproduce.main(["--profile", "cpu", "--real-videos", str(tmp_path / "nowhere")], layout=layout) == 2
    assert f"REAL_VIDEOS {tmp_path / 'nowhere'} is not a folder; nothing was run" in capsys.readouterr().err


def test_ablations_run_sets_train_missing_where_declared_and_nowhere_by_default(tmp_path):
    declared = {"train_missing", "profile"}
    assert reproduce.notebook_parameters(declared, "cpu", tmp_path, train_ablations=True)["train_missing"] is True
    assert "train_missing" not in reproduce.notebook_parameters(declared, "cpu", tmp_path)
    assert "train_missing" not in reproduce.notebook_parameters({"profile"}, "cpu", tmp_path, train_ablations=True)
    import papermill as pm

    notebook = reproduce.NOTEBOOKS_DIR / "05_ablations.ipynb"
    if not notebook.is_file():
        pytest.skip("no ablation notebook")
    parameters = pm.inspect_notebook(str(notebook))
    assert parameters["train_missing"]["default"] == "False"  # a plain run trains no seed runs
