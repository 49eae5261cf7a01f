import pandas as pd

from amdlib.report import save_figure, to_markdown, write_table


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
