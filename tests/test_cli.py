import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gradfit.cli import main


def run_cli(*args, columns="120"):
    """``gradfit ARGS`` in a subprocess; ``columns=None``: the terminal width of a pipe."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "gradfit.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_demo_reproduces_both_articles():
    out = run_cli("demo")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Article B" in text and "Article A" in text
    assert "final w = [2.000000, 4.000000, 5.000000, 9.000000, 11.000000]" in text
    assert "DivergenceError" in text and "standardize=True" in text
    assert "weight = 0.2384 * height + 25.266" in text
    assert "lr='auto' converged in" in text


def test_demo_verbose_prints_every_iteration_in_the_articles_format():
    import re

    from gradfit import make_article_b

    # a pipe and the default 80 columns: the lines must not wrap
    out = run_cli("demo", "--verbose", columns=None)
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("iteration ")]
    assert len(lines) == 1000
    d = make_article_b(5000, seed=0)
    assert lines[0] == (
        "iteration 0: w = [0.000000, 0.000000, 0.000000, 0.000000, 0.000000], "
        f"b = 0.000000, loss = {np.mean(d.y**2):.6g}"
    )
    # every loss is the rows' mean squared error, as the article computes it, also below
    # the rounding floor of the O(d^2) statistics the fit ran on
    pattern = r"iteration (\d+): w = \[(.*)\], b = (\S+), loss = (\S+)"
    for line in (lines[1], lines[500], lines[-1]):
        _, w, b, loss = re.fullmatch(pattern, line).groups()
        w = np.array([float(v) for v in w.split(",")])
        mse = np.mean((d.X @ w + float(b) - d.y) ** 2)
        assert float(loss) == pytest.approx(mse, rel=1e-3, abs=1e-9)
    assert float(lines[-1].rsplit("= ", 1)[1]) < 1e-13  # the noise-free fit's true loss


def test_fit_command(capsys, tmp_path):
    assert main(["fit", "davis", "--standardize", "--history", str(tmp_path / "h.json")]) == 0
    out = capsys.readouterr().out
    assert "weight = 0.238406 * height + 25.2662" in out and "converged" in out
    assert json.loads((tmp_path / "h.json").read_text())["step"][0] == 0


def test_lr_command(capsys):
    assert main(["lr", "davis"]) == 0
    out = capsys.readouterr().out
    assert "largest stable rate 2/L" in out and "try --standardize" in out


def test_fit_csv_file(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "\n".join(f"{i},{2 * i + 1}" for i in range(20)))
    assert main(["fit", str(path), "--target", "y", "--standardize"]) == 0
    assert "y = 2 * x + 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["fit", "davis", "--lr", "0.01"], "diverged"),
        (["fit", "davis", "--lr", "-1"], "lr must be a finite number > 0"),
        (["fit", "davis", "--lr", "abc"], "not a number or 'auto'"),
        (["fit", "nope.csv", "--target", "y"], "no such file or data set"),
        (["fit", "davis", "--features", "sex"], "not numeric"),
        (["fit", "davis", "--batch-size", "0"], "--batch-size must be a whole number >= 1"),
        (["fit", "davis", "--history", "h.txt"], "--history must end in .csv or .json"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_one_line_exit_2(args, fragment):
    out = run_cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradfit: error:"), out.stderr
    assert fragment in lines[0]
    assert "Traceback" not in out.stderr


def test_explain_command(capsys):
    assert main(["explain", "davis", "--lr", "0.01", "--standardize", "--step", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Step 3 (epoch 3): gd, learning rate alpha = 0.01")
    assert "dJ/dm = (2/N) sum error_i x_i = (2/200)" in out
    assert main(["explain", "bdims", "--features", "hgt", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 0


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("loss", "l.png"),
        ("line", "l.svg"),
        ("surface", "s.png"),
        ("surface3d", "s3.png"),
        ("rates", "r.png"),
        ("finder", "f.png"),
        ("animation", "a.gif"),
    ],
)
def test_plot_command(tmp_path, kind, name, capsys):
    out = tmp_path / name
    rate = [] if kind in ("rates", "finder") else ["--lr", "0.1"]  # those plots sweep rates
    assert main(["plot", kind, "davis", "--standardize", *rate, "-o", str(out)]) == 0
    assert out.stat().st_size > 1000
    assert f"{kind} plot written to" in capsys.readouterr().out


def test_plot_command_bad_output(tmp_path):
    out = run_cli("plot", "loss", "davis", "-o", str(tmp_path / "x.bmp"))
    assert out.returncode == 2 and "use a .png, .svg or .pdf name" in out.stderr
