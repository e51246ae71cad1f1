import json
import os
import re
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
    assert "lr='auto' converged in 8 steps" in text
    # the numbers README.md quotes from this output
    flat = " ".join(text.split())
    assert "after 1213 steps (converged: predictions within 1e-10 x std(y)" in flat
    steps = re.findall(r"│\s+[\d.]+ │\s+[\d.]+ │\s+(\d+|-) │", text)
    assert steps == ["1213", "110", "36", "1", "36", "233", "-"]


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
    assert main(["lr", "davis", "--no-standardize"]) == 0
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
        (["fit", "davis", "--lr", "1e6"], "diverged"),
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


# -- bad input and column mix-ups: one line, exit 2, the flags and paths the user gave ------


def _one_error_line(out):
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradfit: error: "), out.stderr
    return lines[0]


@pytest.fixture
def files(tmp_path):
    """Small bad (and good) input files, by name."""
    texts = {
        "dup.csv": "x,x,y\n1,2,3\n4,5,6\n",
        "nameless.csv": ",x,y\n5,1,2\n1,2,4\n2,3,7\n",
        "big.csv": "x,y\n1,2\n1e400,3\n",
        "word.csv": "x,y\n1,2\nabc,3\n",
        "text.parquet": "x,y\n1,2\n",
        "xy.csv": "x,z,y\n1,0,3\n2,1,5\n3,0,7\n4,1,9\n",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "junk.csv").write_bytes(bytes(range(128, 256)) * 8)
    (tmp_path / "folder.csv").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["dup.csv", "--target", "y"], ["dup.csv has more than one column named 'x'", "rename"]),
        (
            ["xy.csv", "--target", "y", "--features", "y"],
            ["--features includes 'y', which is --target"],
        ),
        (
            ["xy.csv", "--target", "y", "--features", "x", "x"],
            ["--features lists 'x' more than once"],
        ),
        (["davis", "--features", "weight"], ["which is the target of 'davis'"]),
        (["nameless.csv", "--target", "y"], ["nameless.csv has no name", "name it"]),
        (["big.csv", "--target", "y"], ["column 'x'", "data row 2", "1e400 overflows float64"]),
        (["word.csv", "--target", "y", "--features", "x"], ["column 'x'", "data row 2: 'abc'"]),
        (["text.parquet", "--target", "y"], ["text.parquet is not a valid Parquet file"]),
        (["junk.csv", "--target", "y"], ["junk.csv is not a text CSV file"]),
        (["folder.csv", "--target", "y"], ["folder.csv holds no .parquet files"]),
        (["xy.csv"], ["say which column of", "to predict: --target NAME (one of 'x', 'z', 'y')"]),
        (["xy.csv", "--target", "yy"], ["no column 'yy' (did you mean 'y'?)"]),
        (["xy.csv", "--target", "y", "--features", "zz"], ["(did you mean 'z'?)"]),
        (["davis", "--target", "weigth"], ["no column 'weigth' (did you mean 'weight'"]),
        (["davsi"], ["no such file or data set: davsi (did you mean 'davis'?)"]),
    ],
)
def test_bad_data_one_line_exit_2(files, args, fragments):
    data = args[0] if args[0] in ("davis", "davsi") else str(files / args[0])
    line = _one_error_line(run_cli("fit", data, *args[1:]))
    for fragment in fragments:
        assert fragment in line
    if data != args[0]:
        assert data in line or "--features" in line  # the path as the user gave it


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--max-iter", "abc"], ["--max-iter", "must be a whole number >= 1, got 'abc'"]),
        (["--max-iter", "0"], ["--max-iter must be a whole number >= 1", "got 0"]),
        (["--tol", "x"], ["--tol", "must be a number >= 0, got 'x'"]),
        (["--seed", "-1"], ["--seed must be a whole number >= 0"]),
        (["--batch-size", "1.5"], ["--batch-size", "must be a whole number >= 1, got '1.5'"]),
        (["--lr", "nan"], ["--lr must be a finite number > 0"]),
        (["--optimizer", "adma"], ["invalid choice: 'adma'", "(did you mean 'adam'?)"]),
        (["--max-iters", "5"], ["unrecognized arguments", "(did you mean '--max-iter'"]),
        (["--optimizer", "gd", "--beta", "0.5"], ["--beta has no effect with --optimizer gd"]),
        (["--lr", "1e6"], ["diverged", "with --lr 1e+06", "Try --lr"]),
    ],
)
def test_option_errors_name_the_flags(args, fragments):
    line = _one_error_line(run_cli("fit", "davis", *args))
    for fragment in fragments:
        assert fragment in line
    # never Python's spelling of an option
    for python in ("max_iter", "lr=", "beta=", "random_state", "batch_size", "None"):
        assert python not in line


def test_other_commands_name_their_flags():
    line = _one_error_line(run_cli("explain", "davis", "--step", "-1"))
    assert "argument --step: must be a whole number >= 0, got '-1'" in line
    line = _one_error_line(run_cli("playground", "--port", "99999"))
    assert "--port" in line and "<= 65535" in line
    line = _one_error_line(run_cli("fti"))
    assert "(did you mean 'fit'?)" in line and "(see gradfit --help)" in line


def test_error_words_rewrite_python_options_as_flags():
    from gradfit.cli import _cli_words

    assert _cli_words("with lr=0.01. Try lr=1.7e-05 or lr='auto'.") == (
        "with --lr 0.01. Try --lr 1.7e-05 or --lr auto."
    )
    assert _cli_words("standardize=True helps; shuffle=False too") == (
        "--standardize helps; --no-shuffle too"
    )
    assert _cli_words("raise max_iter, or random_state=3") == "raise --max-iter, or --seed 3"
    # names in quotes (columns) and in paths are left alone
    assert _cli_words("column 'lr' of /data/max_iter.csv") == "column 'lr' of /data/max_iter.csv"


def test_yes_no_flags_take_both_spellings():
    from gradfit.cli import _parser

    parse = _parser().parse_args
    assert parse(["fit", "davis", "--standardize"]).standardize is True
    assert parse(["fit", "davis", "--no-standardize"]).standardize is False
    assert parse(["fit", "davis"]).standardize is None  # fit()'s default
    assert parse(["fit", "davis", "--no-shuffle"]).shuffle is False


# -- notes: what was left out without being asked ------------------------------------------


def test_row_index_left_out_with_a_note(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(",x,y\n" + "\n".join(f"{i},{i},{2 * i + 1}" for i in range(20)))
    out = run_cli("fit", str(path), "--target", "y")
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        f"gradfit: note: left out the first column of {path}: it has no name and numbers "
        "the rows, a row index, not data"
    ]
    assert out.stdout.startswith("y = 2 * x + 1")


def test_non_numeric_columns_left_out_with_a_note(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("x,name,y,sex\n" + "\n".join(f"{i},n{i},{3 * i},m" for i in range(10)))
    assert main(["fit", str(path), "--target", "y"]) == 0
    captured = capsys.readouterr()
    (note,) = captured.err.splitlines()
    assert note.startswith("gradfit: note: left out the non-numeric columns of")
    assert "'name', 'sex'" in note and "--features" in note
    assert captured.out.startswith("y = 3 * x")


# -- outputs: checked before any fit, nothing written ----------------------------------------


@pytest.fixture
def no_fit(monkeypatch):
    """Fail the test if a fit starts."""
    import gradfit.cli
    import gradfit.cli_fit

    def fit(*args, **kwargs):
        raise AssertionError("the fit ran before the output path was checked")

    monkeypatch.setattr(gradfit.cli, "fit", fit)  # the plot command's
    monkeypatch.setattr(gradfit.cli_fit, "fit", fit)  # the fit command's


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["fit", "davis", "--history", "{d}/out.txt"], "--history must end in .csv or .json"),
        (["fit", "davis", "--history", "{d}/no/such/h.csv"], "does not exist: create it first"),
        (["fit", "davis", "--history", "{d}"], "--history must end in .csv or .json"),
        (["fit", "davis", "--history", "{d}/sub.csv"], "is a folder"),
        (
            ["plot", "loss", "davis", "-o", "{d}/x.bmp"],
            "-o/--output must end in .png, .svg or .pdf",
        ),
        (["plot", "loss", "davis", "-o", "{d}/no/x.png"], "does not exist"),
        (["plot", "animation", "davis", "-o", "{d}/x.png"], "-o/--output must end in .gif"),
        (["plot", "line", "davis", "-o", "{d}/x.gif"], "must end in .png, .svg or .pdf"),
        (["plot", "rates", "davis", "-o", "{d}/x.jpg"], "must end in .png"),
        (["demo", "--plots", "{d}/file.txt"], "--plots"),
    ],
)
def test_outputs_checked_before_the_fit(tmp_path, no_fit, capsys, args, fragment):
    (tmp_path / "sub.csv").mkdir()
    (tmp_path / "file.txt").write_text("")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(d=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradfit: error: ") and fragment in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_output_in_a_subprocess_exits_at_once(tmp_path):
    line = _one_error_line(run_cli("plot", "loss", "davis", "-o", "/no/such/dir/x.png"))
    assert "/no/such/dir/x.png" in line and "'/no/such/dir' does not exist" in line


# -- version, help, exit statuses, warnings --------------------------------------------------


def test_version():
    import gradfit

    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"gradfit {gradfit.__version__}"


def test_help_documents_the_exit_statuses():
    for args in (["--help"], ["fit", "--help"]):
        out = run_cli(*args)
        assert out.returncode == 0
        text = " ".join(out.stdout.split())
        assert "exit status:" in text
        for status in ("0 done", "2 bad input", "3 the fit stopped short", "130 interrupted"):
            assert status in text


def _warning_fit(monkeypatch, *categories):
    """``fit`` that warns as the engine does when it stops short (or sees collinearity)."""
    import warnings

    import gradfit.cli
    import gradfit.cli_fit
    from gradfit.train import fit as real_fit

    def fit(*args, **kwargs):
        result = real_fit(*args, **kwargs)
        for category in categories:
            warnings.warn(
                f"{category.__name__}: stopped after max_iter=3 epochs; try lr='auto'\n"
                "or raise max_iter",
                category,
                stacklevel=2,
            )
        return result

    monkeypatch.setattr(gradfit.cli, "fit", fit)  # the plot command's
    monkeypatch.setattr(gradfit.cli_fit, "fit", fit)  # the fit command's


def test_convergence_warning_prints_one_line_and_exits_3(monkeypatch, capsys, tmp_path):
    from gradfit.exceptions import ConvergenceWarning

    _warning_fit(monkeypatch, ConvergenceWarning)
    history = tmp_path / "h.csv"
    assert main(["fit", "davis", "--history", str(history)]) == 3
    captured = capsys.readouterr()
    assert "weight = " in captured.out and "history:" in captured.out  # results still there
    assert history.exists()
    assert captured.err.splitlines() == [
        "gradfit: warning: ConvergenceWarning: stopped after --max-iter 3 epochs; "
        "try --lr auto or raise --max-iter"
    ]


def test_rank_deficiency_warning_is_printed_but_exits_0(monkeypatch, capsys):
    from gradfit.exceptions import RankDeficiencyWarning

    _warning_fit(monkeypatch, RankDeficiencyWarning, RankDeficiencyWarning)
    assert main(["fit", "davis"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("gradfit: warning: RankDeficiencyWarning")


def test_plot_that_stops_short_exits_3(monkeypatch, capsys, tmp_path):
    from gradfit.exceptions import ConvergenceWarning

    _warning_fit(monkeypatch, ConvergenceWarning)
    out = tmp_path / "l.png"
    assert main(["plot", "loss", "davis", "-o", str(out)]) == 3
    assert out.stat().st_size > 1000
    assert "gradfit: warning:" in capsys.readouterr().err


def test_other_warnings_pass_through(monkeypatch, capsys):
    import warnings

    import gradfit.cli_fit
    from gradfit.train import fit as real_fit

    def fit(*args, **kwargs):
        warnings.warn("not gradfit's", UserWarning, stacklevel=2)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(gradfit.cli_fit, "fit", fit)
    with pytest.warns(UserWarning, match="not gradfit's"):
        assert main(["fit", "davis"]) == 0
    assert "gradfit: warning" not in capsys.readouterr().err


def test_closed_output_pipe_is_quiet():
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradfit.cli", "explain", "bdims", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # the reader is gone before anything is written
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == b""
