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
    # the rates table (lr, x 1/L, steps, outcome), not the Huber table below it
    steps = re.findall(r"│\s+[\d.]+ │\s+[\d.]+ │\s+(\d+|-) │\s+(?:converged|diverged)", text)
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
    import gradfit.cli_path

    def fit(*args, **kwargs):
        raise AssertionError("the fit ran before the output path was checked")

    monkeypatch.setattr(gradfit.cli, "fit", fit)  # the plot command's
    monkeypatch.setattr(gradfit.cli_fit, "fit", fit)  # the fit command's
    monkeypatch.setattr(gradfit.cli_path, "regularization_path", fit)  # the path command's


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
        (["path", "davis", "--plot", "{d}/p.jpg"], "--plot must end in .png, .svg or .pdf"),
        (["path", "davis", "--plot", "{d}/no/p.png"], "does not exist"),
        (["path", "davis", "-o", "{d}/p.json"], "-o/--output must end in .csv"),
        (["path", "davis", "-o", "{d}/p.csv", "--plot", "{d}/sub.csv"], "--plot must end in"),
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
    monkeypatch.setattr(gradfit.cli_path, "regularization_path", fit)  # the path command's


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


# -- penalties and Huber's loss on the command line, and gradfit path ------------------------


@pytest.fixture(scope="module")
def bdims_csv(tmp_path_factory):
    """A CSV of a few bdims columns (a file, as users give), and its arrays."""
    from gradfit import load_dataset

    b = load_dataset("bdims")
    names = ["bia_di", "bii_di", "che_de", "wai_gi", "hgt", "age", "sex"]
    X = b.X[:, [b.feature_names.index(n) for n in names]]
    path = tmp_path_factory.mktemp("csv") / "bdims.csv"
    rows = [",".join([*names, "wgt"])]
    rows += [",".join(map(repr, [*x, t])) for x, t in zip(X.tolist(), b.y.tolist(), strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path, X, b.y, names


def test_fit_with_a_lasso_penalty_reports_it(bdims_csv, capsys):
    from sklearn.linear_model import Lasso

    path, X, y, names = bdims_csv
    assert main(["fit", str(path), "--target", "wgt", "--penalty", "l1", "--alpha", "0.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    # the coefficients are the lasso's (scikit-learn's alpha is gradfit's)
    ref = Lasso(alpha=0.5, tol=1e-12, max_iter=100_000).fit(X, y)
    terms = re.findall(r"(-?[\d.e+-]+) \* (\w+)", out[0].replace(" - ", " -").replace(" + ", " "))
    assert [n for _, n in terms] == names
    np.testing.assert_allclose([float(w) for w, _ in terms], ref.coef_, rtol=1e-5, atol=1e-6)
    assert (
        out[1]
        == "minimised: mean squared error + 1 |w|_1 (lasso (--alpha 0.5); w in original units)"
    )
    mse = np.mean((ref.predict(X) - y) ** 2)
    penalty = 1.0 * np.abs(ref.coef_).sum()
    assert out[2].startswith("objective = mean squared error + penalty = ")
    numbers = re.findall(r"-?\d+\.?\d*(?:e[+-]?\d+)?", out[2].split("penalty = ")[1])
    loss, part, total = (float(v) for v in numbers)
    assert (loss, part, total) == pytest.approx((mse, penalty, mse + penalty), rel=1e-5)
    zeros = [n for n, w in zip(names, ref.coef_, strict=True) if w == 0]
    assert zeros  # the penalty sets some to exactly 0, and the report names them
    assert out[3] == f"coefficients at 0 (the L1 penalty's): {len(zeros)} of 7: {', '.join(zeros)}"
    assert "of the minimum of the squared error + the lasso penalty" in out[4]


def test_fit_with_huber_reports_its_loss(capsys):
    assert main(["fit", "davis", "--loss", "huber", "--epsilon", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "minimised: Huber's loss (--epsilon 5)"
    assert out[2].startswith("loss (mean Huber loss) = ")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--penalty", "l1", "--optimizer", "momentum"],
            "--optimizer momentum has no proximal step for the L1 part of --penalty l1: "
            "choose one of 'gd', 'svrg', 'fista'",
        ),
        (["--alpha", "0.1"], "--alpha has no effect without --penalty l2, l1 or elasticnet"),
        # the default's value, typed: still without effect
        (["--alpha", "0.0001"], "--alpha has no effect without --penalty"),
        (["--penalty", "l1", "--l1-ratio", "0.15"], "--l1-ratio has no effect without --penalty"),
        (["--epsilon", "2"], "--epsilon has no effect without --loss huber"),
        (
            ["--loss", "huber", "--optimizer", "cg"],
            "--optimizer cg takes exact steps on a quadratic",
        ),
        (["--penalty", "l1", "--alpha", "-1"], "--alpha must be a number >= 0, got -1"),
        (["--loss", "huber", "--epsilon", "0"], "--epsilon must be a number > 0"),
        (["--penalty", "lasso"], "invalid choice: 'lasso'"),
        (
            ["--penalty", "l1", "--optimizer", "fista", "--batch-size", "4"],
            "--optimizer fista steps on the full-data loss and has no mini-batch form",
        ),
    ],
)
def test_bad_penalty_combinations_one_line_exit_2(args, fragment):
    line = _one_error_line(run_cli("fit", "davis", *args))
    assert fragment in line
    for python in ("alpha=", "penalty=", "l1_ratio", "epsilon=", "optimizer="):
        assert python not in line


def test_explain_command_with_a_penalty(capsys):
    from gradfit import load_dataset

    argv = ["explain", "davis", "--penalty", "l1", "--alpha", "1000", "--lr", "0.1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Step 0 (epoch 0): gd with the soft threshold (ISTA), learning rate lr")
    assert "m1 = sign(v) max(|v| - lr * lam, 0) = " in out
    assert "the kink holds height at 0" not in out and "the kink holds m at 0" in out
    assert main([*argv, "--optimizer", "fista", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fista"]["t"] == 1 and data["proximal"]["held"] == ["height"]
    # the threshold is lr * 2 alpha / std(height): the penalty is on w in original units
    d = load_dataset("davis")
    lam = 2 * 1000 / np.std(d.X[:, 0])
    assert data["proximal"]["threshold"][0] == pytest.approx(data["lr"] * lam, rel=1e-12)
    line = _one_error_line(run_cli("explain", "davis", "--penalty", "l1", "--optimizer", "adam"))
    assert "--optimizer adam has no proximal step" in line


def test_plot_command_with_a_penalty(tmp_path, capsys):
    for kind in ("surface", "loss"):
        out = tmp_path / f"{kind}.png"
        argv = ["plot", kind, "davis", "--penalty", "l1", "--alpha", "1", "--optimizer", "gd"]
        assert main([*argv, "-o", str(out)]) == 0
        assert out.stat().st_size > 1000
    out = tmp_path / "h.png"
    assert (
        main(["plot", "surface", "davis", "--loss", "huber", "--epsilon", "5", "-o", str(out)]) == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "loss.png", "surface.png"]


def _path_table(text):
    """The rows of gradfit path's table: alpha, nonzero, steps, intercept, coefficients."""
    lines = text.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["alpha", "nonzero"])
    rows = []
    for ln in lines[head + 1 :]:
        cells = ln.split()
        if len(cells) != len(lines[head].split()):
            break
        rows.append([float(c) for c in cells])
    return lines[head].split(), np.array(rows)


def test_path_command_is_the_lasso_path(bdims_csv, tmp_path, capsys):
    from sklearn.linear_model import lasso_path

    import gradfit

    path, X, y, names = bdims_csv
    csv_out, png = tmp_path / "path.csv", tmp_path / "path.png"
    argv = ["path", str(path), "--target", "wgt", "--n-alphas", "8"]
    assert main([*argv, "-o", str(csv_out), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    header, table = _path_table(out)
    assert header == ["alpha", "nonzero", "steps", "intercept", *names]
    assert len(table) == 8
    # the engine's path, to the printed digits
    engine = gradfit.regularization_path(X, y, n_alphas=8, feature_names=names)
    np.testing.assert_allclose(table[:, 0], engine.alphas, rtol=1e-3)
    np.testing.assert_array_equal(table[:, 1], engine.nonzero())
    np.testing.assert_array_equal(table[:, 1], np.count_nonzero(table[:, 4:], axis=1))
    np.testing.assert_allclose(table[:, 4:], engine.coef, rtol=1e-5, atol=1e-9)
    assert table[0, 1] == 0 and table[-1, 1] == len(names)  # from all 0 to all in
    assert f"alpha_max = {engine.alpha_max:.6g}: the L1 part holds every coefficient at 0" in out
    # scikit-learn's lasso path at the same strengths (on centred data: its intercept)
    _, ref, _ = lasso_path(
        X - X.mean(0), y - y.mean(), alphas=engine.alphas, tol=1e-12, max_iter=100_000
    )
    np.testing.assert_allclose(table[:, 4:], ref.T, rtol=1e-4, atol=1e-6)
    # the CSV holds every digit of the same path; both files written whole
    rows = [ln.split(",") for ln in csv_out.read_text().splitlines()]
    assert rows[0] == header
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float)[:, 4:], engine.coef)
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float)[:, 0], engine.alphas)
    assert png.stat().st_size > 1000 and f"path plot written to {png}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["path.csv", "path.png"]


def test_path_command_ridge_elastic_net_and_huber(capsys):
    import gradfit
    from gradfit import load_dataset

    assert main(["path", "davis", "--penalty", "l2", "--n-alphas", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ridge path of weight on 1 feature, 200 rows")
    assert "ridge sets no coefficient to 0" in out
    argv = ["path", "davis", "--penalty", "elasticnet", "--l1-ratio", "0.3", "--alphas", "10", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "elastic net path, l1_ratio 0.3" in out and "0.6 alpha |w|_1 + 0.7 alpha |w|^2" in out
    d = load_dataset("davis")
    engine = gradfit.regularization_path(
        d.X, d.y, penalty="elasticnet", l1_ratio=0.3, alphas=[10, 1], feature_names=["height"]
    )
    _, table = _path_table(out)
    np.testing.assert_allclose(table[:, 4], engine.coef[:, 0], rtol=1e-5)
    assert main(["path", "davis", "--loss", "huber", "--epsilon", "5", "--alphas", "1"]) == 0
    assert "mean Huber loss + 2 alpha |w|_1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--alpha", "0.1"], "--alpha: a path fits many strengths itself"),
        (["--alphas", "1", "--n-alphas", "3"], "leave one or the other out"),
        (["--l1-ratio", "0.3"], "--l1-ratio has no effect without --penalty elasticnet"),
        (["--epsilon", "3"], "--epsilon has no effect without --loss huber"),
        (["--optimizer", "momentum"], "--optimizer momentum has no proximal step"),
        (["--min-ratio", "2"], "argument --min-ratio: must be a number in (0, 1), got '2'"),
        (["--n-alphas", "0"], "argument --n-alphas: must be a whole number >= 1"),
        (["--alphas", "-1"], "argument --alphas: must be a number >= 0, got '-1'"),
        (["--quiet"], "unrecognized arguments: --quiet"),
        (["--max-history", "5"], "--max-history has no effect on a path (it keeps no history)"),
        (["--max-steps", "5"], "--max-steps has no effect on a path"),
        (
            ["--validation-fraction", "0.2", "--loss-tol", "1e-4"],
            "--validation-fraction has no effect on a path (it fits every row)",
        ),
        (["--penalty", "l1", "--l1-ratio", "0.5"], "--l1-ratio has no effect"),
    ],
)
def test_path_command_bad_input(args, fragment):
    line = _one_error_line(run_cli("path", "davis", *args))
    assert fragment in line
