"""The playground's JSON API, through FastAPI's TestClient and a live loopback server."""

import io
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradfit import fit, load_dataset
from gradfit.web.app import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def new_session(client, **settings_):
    r = client.post("/api/sessions", json=settings_)
    assert r.status_code == 200, r.text
    return r.json()


def test_step_numbers_are_the_engines(client):
    s = new_session(client, lr=0.05, standardize=True)
    for _ in range(3):
        state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()
    d = load_dataset("davis")
    ref = fit(d.X, d.y, lr=0.05, standardize=True, max_steps=3)
    assert state["step"] == 3 and state["status"] == "running"
    np.testing.assert_allclose(state["w"], ref.w, rtol=1e-12)
    assert state["b"] == pytest.approx(ref.b, rel=1e-12)
    assert state["loss"] == pytest.approx(ref.loss, rel=1e-12)
    assert state["explain"]["step"] == 2 and state["explain"]["text"][0].startswith("Step 2")
    assert state["points"]["step"] == [2, 3]


def test_mini_batch_session_matches_the_engine(client):
    s = new_session(client, lr=0.01, mode="mini", batch_size=16, seed=7)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 30}).json()
    d = load_dataset("davis")
    ref = fit(d.X, d.y, lr=0.01, optimizer="gd", batch_size=16, random_state=7, max_steps=30)
    np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)
    assert state["explain"]["n_rows"] in (16, 200 % 16)


def test_success_and_fewest_steps(client):
    s = new_session(client, lr=0.2)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 200}).json()
    assert state["success"]["steps"] > 1
    assert "Can you do it in fewer steps?" in state["success"]["message"]
    fewest = client.get(f"/api/sessions/{s['session']}/fewest").json()
    assert fewest["steps"] == 1 and fewest["lr"] == pytest.approx(0.5)


def test_divergence_is_reported_with_the_stable_rate(client):
    s = new_session(client, lr=1.5)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 100}).json()
    assert state["status"] == "diverged"
    assert state["stable_lr"] == pytest.approx(1.0)
    assert "diverged" in state["message"]
    again = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()
    assert again["step"] == state["step"]  # a diverged descent stays where it stopped


def test_reset_surface_and_code(client):
    s = new_session(client, dataset="bdims", features=["hgt", "age"], lr=0.1)
    sid = s["session"]
    client.post(f"/api/sessions/{sid}/step", json={"n": 5})
    assert client.post(f"/api/sessions/{sid}/reset").json()["step"] == 0
    surface = client.post(f"/api/sessions/{sid}/surface", json={"path": [[0, 0, 0]]}).json()
    assert len(surface["z"]) == 60 and surface["labels"] == ["w[hgt], standardized", "b"]
    assert surface["equal_axes"] is True  # standardized coordinates share the target's units
    assert s["view"]["kind"] == "scatter"
    code = client.get(f"/api/sessions/{sid}/code").json()
    assert "gradfit.fit(d.X, d.y, lr=0.1" in code["python"]
    assert code["cli"].startswith("gradfit fit bdims --target wgt --features hgt age")


def test_exported_code_reproduces_the_session(client):
    s = new_session(client, lr=0.05, mode="sgd", seed=3)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 25}).json()
    code = client.get(f"/api/sessions/{s['session']}/code").json()["python"]
    scope: dict = {}
    exec(code.replace("print(", "_ = ("), scope)
    np.testing.assert_allclose(scope["result"].w, state["w"], rtol=1e-12)


@pytest.mark.parametrize(
    ("settings_", "steps"),
    [
        # beyond fit()'s default epoch budget (max_iter=1000): the exported code must
        # carry the session's own budget and tolerances to get this far
        ({"lr": 0.001}, [1000, 1000, 1000]),
        ({"lr": 0.001, "mode": "mini", "batch_size": 16, "seed": 5}, [10_000, 5000]),
    ],
)
def test_exported_code_reproduces_a_long_session(client, settings_, steps):
    s = new_session(client, **settings_)
    for n in steps:
        state = client.post(f"/api/sessions/{s['session']}/step", json={"n": n}).json()
    assert state["step"] == sum(steps) and state["status"] == "running"
    code = client.get(f"/api/sessions/{s['session']}/code").json()["python"]
    assert "gradfit.load_dataset('davis'" in code  # the data loading it prints runs too
    scope: dict = {}
    exec(code.replace("print(", "_ = ("), scope)
    result = scope["result"]
    assert result.n_steps == sum(steps)
    assert result.loss == pytest.approx(state["loss"], rel=1e-12)
    np.testing.assert_allclose(result.w, state["w"], rtol=1e-12)
    assert result.b == pytest.approx(state["b"], rel=1e-12)


def test_exported_code_of_an_upload_loads_the_file(client, tmp_path, monkeypatch):
    content = "x,y\n" + "\n".join(f"{i},{3 * i - 2 + (i % 2) * 0.5}" for i in range(25))
    info = upload(client, content.encode(), name="mine.csv").json()
    s = new_session(client, dataset="upload", upload_id=info["upload_id"], lr=0.1)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 40}).json()
    code = client.get(f"/api/sessions/{s['session']}/code").json()
    assert code["cli"].startswith("gradfit fit mine.csv --target y --features x --lr 0.1")
    (tmp_path / "mine.csv").write_text(content)
    monkeypatch.chdir(tmp_path)  # the code loads the file by the name it was uploaded as
    scope: dict = {}
    exec(code["python"].replace("print(", "_ = ("), scope)
    np.testing.assert_allclose(scope["result"].w, state["w"], rtol=1e-12)


def test_datasets_are_listed_from_the_shipped_data(client):
    from gradfit.data.datasets import DATASETS, dataset_columns

    listed = client.get("/api/datasets").json()
    assert list(listed) == list(DATASETS)
    for name, info in DATASETS.items():
        assert listed[name] == {
            "columns": dataset_columns(name),
            "target": info.target,
            "features": list(info.first_features),
            "description": info.description,
        }


def offered_rules(spec):
    """The optimizer enum of the session settings in an OpenAPI document."""
    return spec["components"]["schemas"]["SettingsIn"]["properties"]["optimizer"]["enum"]


def test_a_registered_rule_is_offered_by_a_new_app():
    import gradfit
    from gradfit.optim.registry import RULES, UpdateRule, register

    register(
        UpdateRule(
            "test_rule",
            lambda lr, beta: gradfit.optim.gd(lr),
            "test",
            stable_factor=lambda b: 1.0,
            auto_factor=lambda b, f: 1.0,
        )
    )
    try:
        fresh = TestClient(create_app())
        assert "test_rule" in offered_rules(fresh.get("/openapi.json").json())
        assert fresh.get("/api/rules").json()["test_rule"]["uses_beta"] is False
        # the page sends beta always; a rule that does not use it must not get it
        s = new_session(fresh, optimizer="test_rule", lr=0.05, beta=0.5)
        state = fresh.post(f"/api/sessions/{s['session']}/step", json={"n": 3}).json()
        d = load_dataset("davis")
        ref = fit(d.X, d.y, lr=0.05, standardize=True, max_steps=3)  # the rule is plain gd
        np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)
        code = fresh.get(f"/api/sessions/{s['session']}/code").json()
        assert "optimizer='test_rule'" in code["python"]
        # a rule gone after the app was made: the schema still lists it, FitOptions refuses
        del RULES["test_rule"]
        r = fresh.post("/api/sessions", json={"optimizer": "test_rule"})
        assert r.status_code == 422 and "unknown optimizer 'test_rule'" in r.json()["error"]
    finally:
        RULES.pop("test_rule", None)
    assert "test_rule" not in offered_rules(create_app().openapi())


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"lr": 0}, "lr: Input should be greater than 0"),
        ({"lr": -1}, "greater than 0"),
        ({"lr": "fast"}, "valid number"),
        ({"lr": "0.5"}, "valid number"),
        ({"standardize": 1}, "valid boolean"),
        ({"lr": 1e300}, "less than or equal to 1000000"),
        ({"mode": "turbo"}, "mode"),
        ({"features": []}, "features: List should have at least 1 item"),
        ({"features": ["shoe"]}, "has no column 'shoe'"),
        ({"dataset": "davis", "target": "sex"}, "not numeric"),
        ({"dataset": "upload", "upload_id": "nope"}, "upload it again"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_get_a_clear_4xx(client, body, fragment):
    r = client.post("/api/sessions", json=body)
    assert r.status_code in (400, 422)
    assert fragment in r.json()["error"]


def test_bad_steps_and_unknown_sessions(client):
    s = new_session(client)
    assert client.post(f"/api/sessions/{s['session']}/step", json={"n": 0}).status_code == 422
    assert client.post(f"/api/sessions/{s['session']}/step", json={"n": "x"}).status_code == 422
    r = client.post("/api/sessions/unknown/step", json={"n": 1})
    assert r.status_code == 404 and "reload" in r.json()["error"]
    r = client.post(f"/api/sessions/{s['session']}/surface", json={"path": [[1.0]]})
    assert r.status_code == 400
    r = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, 9]})
    assert r.status_code == 400 and "coefs must index" in r.json()["error"]
    r = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, 0]})
    assert r.status_code == 400 and "two different" in r.json()["error"]


def upload(client, content, name="data.csv"):
    return client.post("/api/uploads", files={"file": (name, io.BytesIO(content), "text/csv")})


def test_upload_and_descend(client):
    rows = "\n".join(f"{x},{2 * x + 1 + (x % 3) * 0.1}" for x in range(30))
    r = upload(client, f"x,y\n{rows}\n".encode())
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["columns"] == ["x", "y"] and info["target"] == "y"
    s = new_session(client, dataset="upload", upload_id=info["upload_id"], lr=0.5)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()
    assert state["feature_names"] == ["x"] and state["success"] is not None


@pytest.mark.parametrize(
    ("content", "status", "fragment"),
    [
        (b"", 400, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", 400, "not a text CSV"),
        (b"a\n1\n2\n", 400, "fewer than two numeric columns"),
        (b"a,b\nx,y\nz,w\n", 400, "fewer than two numeric columns"),
        (
            (",".join(f"c{i}" for i in range(300)) + "\n" + ",".join("1" * 300) + "\n").encode(),
            400,
            "more than 200",
        ),
        (b"a,b\n" + b"1,2\n" * (11 * 2**20 // 2), 413, "larger than 20 MB"),
    ],
)
def test_bad_uploads(client, content, status, fragment):
    r = upload(client, content)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]


def test_upload_with_missing_values_in_chosen_columns(client):
    info = upload(client, b"x,y,z\n1,2,3\n2,,4\n3,4,5\n4,5,6\n").json()
    r = client.post(
        "/api/sessions",
        json={
            "dataset": "upload",
            "upload_id": info["upload_id"],
            "target": "y",
            "features": ["x"],
        },
    )
    assert r.status_code == 400 and "missing values" in r.json()["error"]


def test_openapi_documents_every_route(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/sessions",
        "/api/sessions/{session_id}/step",
        "/api/uploads",
        "/api/sessions/{session_id}/fewest",
        "/api/sessions/{session_id}/code",
    } <= paths


def from_openapi(schema, components):
    """Values for a JSON schema, mostly inside it and sometimes just outside it."""
    if "$ref" in schema:
        return from_openapi(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        return st.one_of([from_openapi(s, components) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.text(max_size=6)
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans() | st.integers(-1, 2)
    if kind in ("number", "integer"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum", -(10**9)))
        hi = schema.get("maximum", schema.get("exclusiveMaximum", 10**9))
        inside = (
            st.integers(int(lo), int(min(hi, 2**40)))
            if kind == "integer"
            else st.floats(lo, hi, allow_nan=False)
        )
        outside = (
            st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not v.is_integer())
            | st.just(lo - 1)
            | st.just(hi * 2)
        )
        return inside | outside | st.text(max_size=4)
    if kind == "string":
        return st.text(max_size=12)
    if kind == "array":
        items = schema.get("prefixItems") or [schema.get("items", {})]
        if "prefixItems" in schema:
            return st.tuples(*[from_openapi(i, components) for i in items]).map(list)
        return st.lists(from_openapi(items[0], components), max_size=4)
    if kind == "object":
        props = schema.get("properties", {})
        return st.fixed_dictionaries(
            {}, optional={k: from_openapi(v, components) for k, v in props.items()}
        )
    return st.nothing()


def refused_together(body):
    """Whether a body's update rule cannot take its penalty or its mode (the registry's
    own attributes): rules between values, which JSON Schema cannot state."""
    from gradfit.model.penalty import Penalty
    from gradfit.optim.registry import RULES

    rule = RULES[body.get("optimizer", "gd")]
    penalty = Penalty(body.get("penalty"), body.get("alpha", 1e-4), body.get("l1_ratio", 0.15))
    kink = not penalty.smooth_in_w and not (rule.proximal or rule.uses_geometry)
    return kink or (rule.full_batch_only and body.get("mode", "full") != "full")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_api_honours_its_openapi_schema(client, data):
    """Bodies drawn from the published schema: valid ones never get 422, invalid ones
    always do, and nothing gets a 5xx or a body without its documented shape."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    schema = components["SettingsIn"]
    body = data.draw(from_openapi(schema, components))
    # json.dumps writes NaN and Infinity, which the server must refuse cleanly
    r = client.post(
        "/api/sessions", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    resolver_schema = {**schema, "components": spec["components"]}
    try:
        jsonschema.validate(body, resolver_schema)
        # JSON Schema cannot say "finite" or forbid extra keys as pydantic does
        valid = all(
            not isinstance(v, float) or np.isfinite(v) for v in body.values()
        ) and isinstance(body.get("standardize", True), bool)
    except jsonschema.ValidationError:
        valid = False
    assert r.status_code < 500, r.text
    if valid and refused_together(body):
        # two controls the schema cannot relate: said in the page's words
        assert r.status_code == 422 and r.json()["error"].startswith("The update rule")
    elif valid:
        assert r.status_code in (200, 400), r.text
    else:
        assert r.status_code == 422, (body, r.text)
    payload = r.json()
    assert ("session" in payload) if r.status_code == 200 else ("error" in payload)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(-5, 20_000) | st.text(max_size=3) | st.none())
def test_property_step_bodies(client, n):
    s = new_session(client, lr=0.01)
    r = client.post(f"/api/sessions/{s['session']}/step", json={"n": n})
    ok = isinstance(n, int) and 1 <= n <= 10_000
    assert r.status_code == (200 if ok else 422)


def test_fifty_sessions_stepping_at_once_stay_isolated(live_server):
    rates = [0.001 * (k + 1) for k in range(50)]

    def work(lr):
        with httpx.Client(base_url=live_server, timeout=30) as http:
            sid = http.post("/api/sessions", json={"lr": lr}).json()["session"]
            for _ in range(10):
                state = http.post(f"/api/sessions/{sid}/step", json={"n": 2}).json()
            return lr, state

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(work, rates))
    d = load_dataset("davis")
    for lr, state in results:
        ref = fit(d.X, d.y, lr=lr, standardize=True, max_steps=20)
        assert state["step"] == 20
        np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)


def test_exported_command_line_reproduces_the_session(client, capsys):
    import shlex

    from gradfit.cli import main

    s = new_session(client, lr=0.05, optimizer="momentum", mode="mini", batch_size=8, seed=2)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 7}).json()
    cli = client.get(f"/api/sessions/{s['session']}/code").json()["cli"]
    assert main(shlex.split(cli)[1:]) == 0
    printed = capsys.readouterr().out.splitlines()[0]  # "weight = 0.0123 * height + 4.56"
    slope = float(printed.split("=")[1].split("*")[0])
    assert slope == pytest.approx(state["w"][0], rel=1e-5)


def test_a_session_through_the_origin(client):
    s = new_session(client, lr=0.1, fit_intercept=False)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 40}).json()
    d = load_dataset("davis")
    ref = fit(d.X, d.y, lr=0.1, fit_intercept=False, max_steps=40, tol=0)
    np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)
    assert state["b"] == 0.0 and "dJ/db" not in "\n".join(state["explain"]["text"])
    # the contours show the true loss over b as well; the path stays on b = 0
    surface = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, -1]}).json()
    z = np.array(surface["z"])
    assert np.ptp(z[:, 0]) > 0  # the loss changes along b
    code = client.get(f"/api/sessions/{s['session']}/code").json()
    assert "fit_intercept=False" in code["python"] and "--no-intercept" in code["cli"]


def test_line_search_rules_are_not_offered_to_the_rate_slider(client):
    assert "cg" not in offered_rules(client.get("/openapi.json").json())
    assert "cg" not in client.get("/api/rules").json()
    r = client.post("/api/sessions", json={"optimizer": "cg"})
    assert r.status_code == 422


# -- penalties and Huber's loss ---------------------------------------------------------

# bdims' weight from height and age: a lasso of strength 30 holds age's coefficient at 0
LASSO = {"dataset": "bdims", "features": ["hgt", "age"], "penalty": "l1", "alpha": 30.0}
SESSION_RUN = {"max_iter": 10**9, "tol": 0, "gtol": 1e-12, "history_stride": 1}


@pytest.mark.parametrize(
    ("settings_", "options", "steps"),
    [
        ({"penalty": "l2", "alpha": 5.0}, {"penalty": "l2", "alpha": 5.0}, 25),
        (LASSO, {"penalty": "l1", "alpha": 30.0}, 40),
        (
            {"penalty": "elasticnet", "alpha": 20.0, "l1_ratio": 0.5},
            {"penalty": "elasticnet", "alpha": 20.0, "l1_ratio": 0.5},
            25,
        ),
        ({"loss": "huber", "epsilon": 2.0}, {"loss": "huber", "epsilon": 2.0}, 25),
        (
            {**LASSO, "loss": "huber", "epsilon": 3.0, "optimizer": "fista"},
            {"penalty": "l1", "alpha": 30.0, "loss": "huber", "epsilon": 3.0},
            25,
        ),
        (
            {**LASSO, "mode": "mini", "batch_size": 16, "seed": 4, "optimizer": "svrg"},
            {"penalty": "l1", "alpha": 30.0, "batch_size": 16, "random_state": 4},
            60,
        ),
        (
            {"penalty": "l2", "alpha": 2.0, "optimizer": "momentum", "standardize": False},
            {"penalty": "l2", "alpha": 2.0, "standardize": False},
            25,
        ),
    ],
)
def test_penalty_and_loss_sessions_are_the_engines(client, settings_, options, steps):
    lr = 0.1 if settings_.get("standardize", True) else 1e-5
    s = new_session(client, lr=lr, **settings_)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": steps}).json()
    dataset = settings_.get("dataset", "davis")
    d = load_dataset(dataset, features=settings_.get("features"))
    optimizer = settings_.get("optimizer", "gd")
    ref = fit(d.X, d.y, lr=lr, optimizer=optimizer, max_steps=steps, **options, **SESSION_RUN)
    assert state["step"] == ref.n_steps
    np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(state["w"], ref.w, rtol=1e-12)
    assert state["b"] == pytest.approx(ref.b, rel=1e-12)
    assert state["loss"] == pytest.approx(ref.loss, rel=1e-12)
    assert state["objective"] == ref.report.objective  # what is minimised, in words


def test_lasso_holds_a_coefficient_at_zero(client):
    s = new_session(client, lr=0.1, **LASSO)
    assert s["objective"] == "lasso (alpha=30)"
    # before a step every coefficient is 0 only because descent starts there
    assert s["kinks"] == {"now": [], "at_minimum": ["age"]}
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 500}).json()
    d = load_dataset("bdims", features=["hgt", "age"])
    ref = fit(d.X, d.y, penalty="l1", alpha=30.0)  # FISTA to every digit
    assert state["status"] == "converged"
    assert state["w"][1] == 0.0  # exactly: the soft threshold holds it
    np.testing.assert_allclose(state["w"], ref.w, rtol=1e-9)
    assert state["best_loss"] == pytest.approx(ref.loss, rel=1e-12)
    assert state["kinks"] == {"now": ["age"], "at_minimum": ["age"]}
    assert state["success"]["message"].startswith(
        "You reached the minimum of the squared error + the lasso penalty in"
    )
    # scikit-learn's Lasso: the same alpha, the same coefficients
    from sklearn.linear_model import Lasso

    sk = Lasso(alpha=30.0, tol=1e-12, max_iter=100_000).fit(d.X, d.y)
    np.testing.assert_allclose(state["w"], sk.coef_, rtol=1e-6, atol=1e-9)
    fewest = client.get(f"/api/sessions/{s['session']}/fewest").json()
    assert fewest["steps"] is not None and fewest["steps"] >= 1


def _objective_value(d, coef, penalty, alpha, l1_ratio=0.15):
    """The objective by hand: mean squared error + 2 alpha R(w), original units."""
    w, b = coef[:-1], coef[-1]
    mse = float(np.mean((d.X @ w + b - d.y) ** 2))
    ratio = {"l1": 1.0, "l2": 0.0, "elasticnet": l1_ratio}[penalty]
    return mse + 2 * alpha * (ratio * np.abs(w).sum() + (1 - ratio) / 2 * (w @ w))


@pytest.mark.parametrize(
    ("penalty", "alpha", "coefs", "kinks"),
    [
        ("l1", 30.0, [0, 1], [True, True]),
        ("l1", 30.0, [1, -1], [True, False]),
        ("l2", 50.0, [0, 1], [False, False]),
    ],
)
def test_contours_are_the_penalized_objective(client, penalty, alpha, coefs, kinks):
    from gradfit.data.scaling import Scaling

    settings_ = {"dataset": "bdims", "features": ["hgt", "age"], "penalty": penalty}
    s = new_session(client, lr=0.1, alpha=alpha, **settings_)
    sid = s["session"]
    client.post(f"/api/sessions/{sid}/step", json={"n": 3})
    surface = client.post(f"/api/sessions/{sid}/surface", json={"coefs": coefs}).json()
    assert surface["kinks"] == kinks
    d = load_dataset("bdims", features=["hgt", "age"])
    # descent coordinates: standardized features (population standard deviation); with a
    # ridge part, divided by sqrt(variance + alpha), so that every coordinate's curvature
    # is about 2 with the penalty's included
    ridge = alpha if penalty == "l2" else 0.0
    scaling = Scaling(d.X.mean(axis=0), np.sqrt(d.X.var(axis=0) + ridge))
    i, j = surface["indices"]
    # the minimum marked is the objective's (fit to every digit by FISTA or conjugate
    # gradients); least squares' (lstsq) is marked beside it
    ref = fit(d.X, d.y, penalty=penalty, alpha=alpha)
    full_star = scaling.to_scaled(np.append(ref.w, ref.b))
    plain = np.linalg.lstsq(np.column_stack([d.X, np.ones(len(d.y))]), d.y, rcond=None)[0]
    np.testing.assert_allclose(
        surface["least_squares"], scaling.to_scaled(plain)[[i, j]], rtol=1e-9
    )
    np.testing.assert_allclose(surface["star"], full_star[[i, j]], rtol=1e-9, atol=1e-12)
    # every contour value is the loss plus the penalty, by hand, at that grid point
    z = np.array(surface["z"])
    for row, col in [(0, 0), (17, 42), (59, 59), (30, 5)]:
        theta = full_star.copy()
        theta[i], theta[j] = surface["x"][col], surface["y"][row]
        expected = _objective_value(d, scaling.to_original(theta), penalty, alpha)
        assert z[row, col] == pytest.approx(expected, rel=1e-9)
    # the picture frames w = 0 (where descent starts and where the kinks are)
    for axis, values in zip((i, j), (surface["x"], surface["y"]), strict=True):
        if axis != 2:
            assert min(values) < 0 < max(values)


def test_ridge_moves_the_minimum_towards_zero(client):
    s = new_session(client, lr=0.1, penalty="l2", alpha=50.0)
    surface = client.post(f"/api/sessions/{s['session']}/surface", json={}).json()
    assert abs(surface["star"][0]) < abs(surface["least_squares"][0])
    assert s["kinks"] is None  # ridge has no kink
    plain = new_session(client, lr=0.1)
    assert plain["objective"] == "least squares" and plain["kinks"] is None
    surface = client.post(f"/api/sessions/{plain['session']}/surface", json={}).json()
    assert surface["least_squares"] is None and surface["kinks"] == [False, False]


def test_lasso_through_the_origin_draws_the_loss_over_b(client):
    s = new_session(client, lr=0.1, penalty="l1", alpha=5.0, fit_intercept=False)
    client.post(f"/api/sessions/{s['session']}/step", json={"n": 20})
    surface = client.post(f"/api/sessions/{s['session']}/surface", json={"coefs": [0, -1]}).json()
    assert surface["kinks"] == [True, False]
    z = np.array(surface["z"])
    assert np.ptp(z[:, 0]) > 0  # the penalized loss changes along b too
    from gradfit.data.scaling import Scaling

    d = load_dataset("davis")
    # through the origin, descent divides by the root mean square and does not centre
    scaling = Scaling(np.zeros(1), np.sqrt(np.mean(d.X**2, axis=0)))
    theta = np.array([surface["x"][10], surface["y"][20]])
    expected = _objective_value(d, scaling.to_original(theta), "l1", 5.0)
    assert z[20, 10] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (
            {"optimizer": "momentum", "penalty": "l1", "alpha": 1.0},
            [
                "The update rule 'momentum' cannot fit the lasso (L1) penalty",
                "Choose the update rule 'gd', 'svrg' or 'fista', or the penalty 'none' or "
                "'ridge (L2)'",
            ],
        ),
        (
            {"optimizer": "adam", "penalty": "elasticnet", "alpha": 1.0, "l1_ratio": 0.5},
            ["The update rule 'adam' cannot fit the elastic net penalty"],
        ),
        (
            {"optimizer": "fista", "mode": "mini", "penalty": "l1", "alpha": 1.0},
            [
                "The update rule 'fista' steps on all the rows at once and has no mini-batch "
                "form: choose the mode 'full batch', or the update rule 'gd' or 'svrg'."
            ],
        ),
        (
            {"optimizer": "fista", "mode": "sgd"},
            ["no stochastic (1 row) form", "'gd', 'momentum', 'nesterov', 'adam' or 'svrg'"],
        ),
    ],
)
def test_combinations_the_engine_refuses_are_said_in_the_pages_words(client, body, fragments):
    r = client.post("/api/sessions", json={"lr": 0.1, **body})
    assert r.status_code == 422
    error = r.json()["error"]
    for fragment in fragments:
        assert fragment in error
    assert "optimizer=" not in error and "penalty=" not in error  # no Python arguments


def test_the_same_combinations_are_refused_by_the_engine():
    """The page only rewords: FitOptions itself refuses each combination."""
    from gradfit.exceptions import InvalidInputError
    from gradfit.train import FitOptions

    for kwargs in (
        {"optimizer": "momentum", "penalty": "l1"},
        {"optimizer": "adam", "penalty": "elasticnet"},
        {"optimizer": "fista", "batch_size": 8},
    ):
        with pytest.raises(InvalidInputError):
            FitOptions(lr=0.1, **kwargs)
    # an elastic net with no L1 share is smooth: momentum fits it, and so does the page
    FitOptions(lr=0.1, optimizer="momentum", penalty="elasticnet", l1_ratio=0.0)


def test_a_smooth_elastic_net_is_not_refused(client):
    s = new_session(client, lr=0.1, optimizer="momentum", penalty="elasticnet", l1_ratio=0.0)
    assert s["kinks"] is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"penalty": "ridge"}, "penalty: Input should be None, 'l2', 'l1' or 'elasticnet'"),
        ({"penalty": "l1", "alpha": -1}, "alpha: Input should be greater than or equal to 0"),
        ({"penalty": "l1", "alpha": 1e7}, "alpha: Input should be less than or equal to"),
        ({"penalty": "l1", "alpha": "strong"}, "alpha: Input should be a valid number"),
        ({"penalty": "elasticnet", "l1_ratio": 1.5}, "l1_ratio: Input should be less than"),
        ({"loss": "absolute"}, "loss: Input should be 'squared_error' or 'huber'"),
        ({"loss": "huber", "epsilon": 0}, "epsilon: Input should be greater than 0"),
    ],
)
def test_bad_penalty_and_loss_settings(client, body, fragment):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422
    assert fragment in r.json()["error"]


def test_numbers_that_only_count_with_their_choice_are_not_passed_on(client):
    """The strength without a penalty, the L1 share without the elastic net, epsilon
    without Huber's loss: accepted (the page may send them) and not passed to fit."""
    s = new_session(client, lr=0.05, alpha=5.0, l1_ratio=0.9, epsilon=3.0)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 3}).json()
    d = load_dataset("davis")
    ref = fit(d.X, d.y, lr=0.05, max_steps=3)
    np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)
    code = client.get(f"/api/sessions/{s['session']}/code").json()
    assert "alpha" not in code["python"] and "epsilon" not in code["python"]
    s = new_session(client, lr=0.05, penalty="l1", alpha=5.0, l1_ratio=0.9)
    code = client.get(f"/api/sessions/{s['session']}/code").json()
    assert "penalty='l1', alpha=5.0" in code["python"] and "l1_ratio" not in code["python"]


def test_openapi_bounds_of_penalty_and_loss_are_the_options_table(client):
    from gradfit.train.options import OPTIONS

    props = client.get("/openapi.json").json()["components"]["schemas"]["SettingsIn"]
    props = props["properties"]
    assert props["penalty"]["enum"] == list(OPTIONS["penalty"].accepts)
    assert props["loss"]["enum"] == list(OPTIONS["loss"].accepts)
    assert props["alpha"]["minimum"] == 0 and props["alpha"]["default"] == OPTIONS["alpha"].default
    assert (props["l1_ratio"]["minimum"], props["l1_ratio"]["maximum"]) == (0, 1)
    assert props["epsilon"]["exclusiveMinimum"] == 0


def test_exported_code_reproduces_a_lasso_session(client, capsys):
    import shlex

    from gradfit.cli import main

    settings_ = {**LASSO, "loss": "huber", "epsilon": 4.0, "mode": "mini", "batch_size": 32}
    s = new_session(client, lr=0.05, optimizer="svrg", seed=1, **settings_)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 40}).json()
    code = client.get(f"/api/sessions/{s['session']}/code").json()
    assert "penalty='l1', alpha=30.0, loss='huber', epsilon=4.0" in code["python"]
    assert "--penalty l1 --alpha 30.0 --loss huber --epsilon 4.0" in code["cli"]
    scope: dict = {}
    exec(code["python"].replace("print(", "_ = ("), scope)
    np.testing.assert_allclose(scope["result"].w, state["w"], rtol=1e-12)
    assert main(shlex.split(code["cli"])[1:]) == 0
    printed = capsys.readouterr().out.splitlines()[0]  # "wgt = 0.5 * hgt + 0 * age - 10"
    slope = float(printed.split("=")[1].split("*")[0])
    assert slope == pytest.approx(state["w"][0], rel=1e-5)


# -- the learner's issue: what the page says, and the numbers it counts ------------------


def test_run_stops_at_the_step_that_reaches_the_minimum(client):
    s = new_session(client, lr=0.1)
    sid = s["session"]
    state = client.post(f"/api/sessions/{sid}/step", json={"n": 50, "until_success": True})
    state = state.json()
    # the counter and the success box count the same steps: the engine's, to that step
    assert state["success"]["steps"] == state["step"] == 31
    d = load_dataset("davis")
    ref = fit(d.X, d.y, lr=0.1, standardize=True, max_steps=31, tol=0)
    np.testing.assert_allclose(state["theta"], ref.theta, rtol=1e-12)
    assert state["explain"]["step"] == 30  # the engine numbers the 31st step 30
    # without until_success the steps asked for are taken
    later = client.post(f"/api/sessions/{sid}/step", json={"n": 5, "until_success": True}).json()
    assert later["step"] == 36 and later["success"]["steps"] == 31


def test_success_at_the_fewest_steps_asks_for_no_fewer(client):
    s = new_session(client, lr=0.5)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()
    success = state["success"]
    assert success["message"] == (
        "You reached the least-squares minimum in 1 step: no constant learning rate of plain "
        "full-batch gradient descent does it in fewer."
    )
    assert success["show_me"] is None and success["fewest_message"] == ""
    s = new_session(client, lr=0.2)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 100}).json()
    assert state["success"]["message"].endswith("steps. Can you do it in fewer steps?")
    assert state["success"]["show_me"] == pytest.approx(0.5)
    assert "1 step, at the learning rate 0.5" in state["success"]["fewest_message"]


def test_no_show_me_where_no_constant_rate_reaches_the_minimum():
    from gradfit.web.advice import success_view

    fewest = {"steps": None, "lr": 3.44e-5, "max_stable_lr": 3.44e-5, "searched": 5000}
    view = success_view(40, fewest)
    assert view["show_me"] is None and "fewer" not in view["message"]
    assert view["fewest_message"] == (
        "No constant learning rate of plain full-batch gradient descent reaches it within "
        "5000 steps."
    )
    # momentum beat every constant rate of plain descent: no challenge left either
    view = success_view(3, {"steps": 9, "lr": 0.4, "max_stable_lr": 1.0})
    assert view["show_me"] is None and "fewer than plain" in view["message"]


def test_divergence_advice_is_in_the_pages_words(client):
    s = new_session(client, lr=0.01, standardize=False)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 100}).json()
    assert state["status"] == "diverged"
    message = state["message"]
    assert message.startswith("Gradient descent diverged at step 2: the loss grew to ")
    assert "tick 'standardize features'" in message
    assert "The largest stable learning rate for this data is 3.44e-05 (L = 5.81e+04)" in message
    # the suggested rate is said with what it costs on raw heights
    assert "try the learning rate 1.72e-05 (plain descent would then need about" in message
    for python in ("lr=", "'auto'", "standardize=True", "optimizer="):
        assert python not in message
    # it stopped at the step where the engine saw it diverge, not where the request began
    assert state["step"] == 2 and state["points"]["step"][-1] == 2


def test_a_rate_of_exactly_two_over_l_is_said_to_bounce(client):
    s = new_session(client, lr=1.0)  # 2/L on standardized Davis (L = 2)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 10}).json()
    assert state["status"] == "running" and state["success"] is None
    assert state["loss"] == pytest.approx(state["points"]["loss"][0])  # bouncing, not falling
    outlook = state["outlook"]
    assert outlook["hopeless"] is True
    assert "At the learning rate 1 = 2/L (L = 2)" in outlook["message"]
    assert "the line bounces for ever" in outlook["message"]
    below = "Choose a learning rate below 2/L = 1; the best constant rate here is 0.5."
    assert below in outlook["message"]


def test_a_rate_that_needs_millions_of_steps_says_so(client):
    s = new_session(client, lr=1.72e-5, standardize=False)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 100}).json()
    outlook = state["outlook"]
    assert outlook["hopeless"] is True and outlook["steps"] > 1e6
    assert "plain descent needs about 1.9e+07 more steps" in outlook["message"]
    assert "tick 'standardize features'" in outlook["message"]
    # a rate that gets there says how long, and is not stopped
    s = new_session(client, lr=0.01)
    outlook = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()["outlook"]
    assert outlook["hopeless"] is False and 300 < outlook["steps"] < 400
    assert "Raise the learning rate: the best constant rate here is 0.5" in outlook["message"]


def test_batches_plot_and_check_the_full_data_loss(client):
    from gradfit.data.scaling import Scaling

    s = new_session(client, lr=0.01, mode="sgd")
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 3000}).json()
    assert state["every"] == 100  # single rows: 200 steps an epoch, checked every 100
    points = state["points"]
    assert points["step"] == list(range(0, 3001, 100))
    d = load_dataset("davis")
    scaling = Scaling(d.X.mean(axis=0), d.X.std(axis=0))
    for theta, loss in zip(points["theta"], points["loss"], strict=True):
        coef = scaling.to_original(np.array(theta))
        by_hand = np.mean((d.X @ coef[:-1] + coef[-1] - d.y) ** 2)
        assert loss == pytest.approx(by_hand, rel=1e-9)
        assert loss >= state["best_loss"] * (1 - 1e-12)  # never below the minimum
    # one row's step that happens to land near the minimum is not a success: the checks
    # never find single-row steps there
    assert state["success"] is None
    assert "Steps on single rows hover around the minimum" in state["outlook"]["message"]
    # every step's parameters still draw the path
    assert state["path"]["step"] == list(range(3001))


def test_mini_batch_success_is_a_checked_step(client):
    s = new_session(client, lr=0.1, mode="mini", batch_size=100, optimizer="svrg")
    sid = s["session"]
    state = client.post(f"/api/sessions/{sid}/step", json={"n": 400, "until_success": True})
    state = state.json()
    assert state["every"] == 2
    success = state["success"]["steps"]
    assert success == state["step"] and success % 2 == 0
    level = state["best_loss"] + 1e-6 * (s["loss"] - state["best_loss"])  # the yardstick's
    assert state["points"]["loss"][-1] <= level < state["points"]["loss"][-2]


def test_a_shared_link_to_a_diverged_session_diverges_at_the_same_step(client):
    s = new_session(client, lr=1.5)
    sid = s["session"]
    for _ in range(10):
        state = client.post(f"/api/sessions/{sid}/step", json={"n": 3}).json()
        if state["status"] == "diverged":
            break
    assert state["status"] == "diverged" and state["step"] > 3
    # the page replays the link's steps in one request: the same step, the same words
    again = new_session(client, lr=1.5)
    replay = client.post(f"/api/sessions/{again['session']}/step", json={"n": state["step"]})
    replay = replay.json()
    assert replay["status"] == "diverged"
    assert replay["step"] == state["step"] and replay["message"] == state["message"]
    np.testing.assert_allclose(replay["theta"], state["theta"], rtol=1e-12)
    # more steps than that stop there too
    longer = new_session(client, lr=1.5)
    longer = client.post(f"/api/sessions/{longer['session']}/step", json={"n": 500}).json()
    assert longer["step"] == state["step"] and longer["status"] == "diverged"


def test_an_upload_is_described_again_for_a_shared_link(client):
    info = upload(client, b"x,y,z\n1,2,3\n2,3,5\n3,5,6\n4,4,9\n").json()
    again = client.get(f"/api/uploads/{info['upload_id']}")
    assert again.status_code == 200 and again.json() == info
    gone = client.get("/api/uploads/nope")
    assert gone.status_code == 404 and "upload the file again" in gone.json()["error"]
    # the target of an upload is never one of its features
    r = client.post(
        "/api/sessions",
        json={
            "dataset": "upload",
            "upload_id": info["upload_id"],
            "target": "y",
            "features": ["y"],
        },
    )
    assert r.status_code == 400 and "cannot predict itself" in r.json()["error"]


def test_the_outlook_counts_one_step_in_the_singular(client):
    s = new_session(client, lr=0.1, standardize=True)
    state = client.post(f"/api/sessions/{s['session']}/step", json={"n": 1}).json()
    message = state["outlook"]["message"]
    assert "the best constant rate here is 0.5 (about 1 step)." in message
    assert "1 steps" not in message


def test_the_rate_theory_marks_the_slider_with_the_engines_numbers(client):
    """Full-batch plain descent: the stable limit, the best rate and the steps at the
    chosen rate are the curvature's; at lr = 2/L the page says it is at the edge."""
    from gradfit.data import ArraySource
    from gradfit.model import Objective

    d = load_dataset("davis")
    c = Objective(ArraySource(d.X, d.y), scaling=True).curvature
    theory = new_session(client, lr=0.1, standardize=True)["theory"]
    assert theory["stable_lr"] == pytest.approx(c.max_stable_lr, rel=1e-12)
    assert theory["best_lr"] == pytest.approx(c.best_lr, rel=1e-12)
    assert theory["steps"] == c.steps_to_tolerance(0.1, 1e-8) and not theory["edge"]
    edge = new_session(client, lr=c.max_stable_lr, standardize=True)["theory"]
    assert edge["edge"] and edge["steps"] is None  # at 2/L the steepest direction bounces
    assert new_session(client, lr=0.1, mode="mini")["theory"] is None  # no claim for batches
