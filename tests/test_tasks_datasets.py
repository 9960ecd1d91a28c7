"""Datasets: bundled UCR/UEA splits, generated chaotic series, user files, registry."""
from __future__ import annotations

import numpy as np
import pytest

from hrsnn_hw.errors import DataError
from hrsnn_hw.tasks import datasets as ds


@pytest.fixture(scope="module")
def jv() -> ds.TaskData:
    return ds.load_japanese_vowels()


def test_japanese_vowels_official_split(jv):
    assert jv.kind == "classification"
    assert jv.x_train.shape[0] == 270 and jv.x_test.shape[0] == 370
    assert jv.n_channels == 12
    assert jv.class_names == tuple(str(i) for i in range(1, 10))
    assert np.array_equal(np.bincount(jv.y_train), [30] * 9)  # the train split is balanced
    lengths = np.concatenate([jv.len_train, jv.len_test])
    assert lengths.min() == 7 and lengths.max() == 29
    assert jv.x_train.shape[1] == jv.len_train.max() and jv.x_test.shape[1] == jv.len_test.max()
    assert jv.x_train.dtype == np.float64 and jv.y_train.dtype == np.int64


def test_japanese_vowels_scaling_uses_train_statistics_only(jv):
    valid_tr = np.arange(jv.x_train.shape[1]) < jv.len_train[:, None]
    vals = jv.x_train[valid_tr]
    # Train min/max map exactly to 0 and 1 on every channel.
    np.testing.assert_array_equal(vals.min(axis=0), np.zeros(12))
    np.testing.assert_array_equal(vals.max(axis=0), np.ones(12))
    assert jv.x_test.min() >= 0.0 and jv.x_test.max() <= 1.0
    norm = jv.metadata["normalisation"]
    assert len(norm["x_min"]) == 12 and norm["test_values_clipped"] > 0  # test exceeds train range
    # Padding is zero and arrays are read-only.
    assert not jv.x_test[~(np.arange(jv.x_test.shape[1]) < jv.len_test[:, None])].any()
    with pytest.raises(ValueError):
        jv.x_train[0, 0, 0] = 1.0


@pytest.mark.parametrize("name, n_tr, n_te, c, k, t", [
    ("basic_motions", 40, 40, 6, 4, 100), ("gunpoint", 50, 150, 1, 2, 150),
    ("unit_test", 20, 22, 1, 2, 24)])
def test_small_bundled_sets(name, n_tr, n_te, c, k, t):
    task = ds.load_task(name)
    assert (task.n_train, task.n_test, task.n_channels, task.n_classes) == (n_tr, n_te, c, k)
    assert task.x_train.shape[1] == t and np.all(task.len_test == t)


@pytest.mark.slow
def test_quick_subset_is_small_stratified_and_deterministic(jv):
    q1 = ds.load_task("japanese_vowels", quick=True)
    q2 = ds.subset_task(jv, 60, 60)
    assert q1.n_train == 60 and q1.n_test == 60
    counts = np.bincount(q1.y_train, minlength=9)
    assert counts.min() >= 6 and counts.max() <= 7  # round-robin over the 9 classes
    np.testing.assert_array_equal(q1.x_train, q2.x_train)
    idx = q1.metadata["subset"]["test_indices"]
    np.testing.assert_array_equal(q1.x_test, jv.x_test[idx, :q1.x_test.shape[1]])


def test_unknown_task_lists_known_names():
    with pytest.raises(DataError) as err:
        ds.load_task("japanese_vowel")
    for name in ds.known_tasks():
        assert name in str(err.value)
    with pytest.raises(DataError, match="bad option"):
        ds.load_task("mackey_glass", horizont=3)


def test_mackey_glass_range_mean_and_chaos():
    a = ds.mackey_glass(5000)
    # Known tau=17 attractor: values ~0.42..1.32, mean ~0.9 (Mackey & Glass 1977; Farmer 1982).
    assert 0.35 < a.min() < 0.5 and 1.25 < a.max() < 1.4
    assert abs(a.mean() - 0.9) < 0.05
    # Chaos: a 1e-9 change of the history grows by orders of magnitude (largest Lyapunov
    # exponent ~0.007 per time unit) ...
    b = ds.mackey_glass(5000, x0=1.2 + 1e-9)
    d = np.abs(a - b)
    assert d[:200].max() < 1e-5 and d[-1000:].max() > 0.1
    # ... and the series is not periodic: no lag beyond the first quasi-period repeats it.
    x = a[:4000] - a[:4000].mean()
    ac = np.array([x[:-lag] @ x[lag:] for lag in range(30, 1000)]) / (x @ x)
    assert ac.max() < 0.9
    # Deterministic; the seed changes the history.
    np.testing.assert_array_equal(a[:100], ds.mackey_glass(100))
    assert not np.array_equal(ds.mackey_glass(100, seed=1), ds.mackey_glass(100, seed=2))
    np.testing.assert_array_equal(ds.mackey_glass(100, seed=1), ds.mackey_glass(100, seed=1))


def test_mackey_glass_sampling_interval_is_consistent():
    # h = 2 must equal every second sample of h = 1 over the same time span (the generator
    # integrates at dt regardless of h).
    a = ds.mackey_glass(200, h=1.0, discard=100)
    b = ds.mackey_glass(100, h=2.0, discard=50)
    np.testing.assert_allclose(b, a[1::2], rtol=0, atol=1e-12)


@pytest.mark.slow
def test_lorenz_attractor_statistics():
    s = ds.lorenz63(10000)  # 200 time units after the transient
    x, y, z = s.T
    # Published long-run mean of z for (10, 28, 8/3) is about 23.5.
    assert abs(z.mean() - 23.55) < 0.5
    # Exact time-average identities of the equations: <x^2> = <xy> = beta <z>.
    assert abs((x * x).mean() / z.mean() - 8 / 3) < 0.02
    assert abs((x * y).mean() / z.mean() - 8 / 3) < 0.02
    assert abs(x.mean()) < 2.0  # symmetric wings


def test_prediction_layout_mackey_glass():
    t = ds.load_mackey_glass(horizon=7, n_train=300, n_test=200)
    assert t.kind == "prediction" and t.horizon == 7
    assert t.x_train.shape == (1, 300, 1) and t.y_train.shape == (1, 300, 1)
    assert t.x_test.shape == (1, 200, 1) and t.len_test.tolist() == [200]
    # Target is the series `horizon` frames later, in the input's scaling.
    np.testing.assert_allclose(t.y_train[0, :-7, 0], t.x_train[0, 7:, 0], atol=1e-15)
    # The test segment continues the training one.
    np.testing.assert_allclose(t.y_train[0, -7, 0], t.x_test[0, 0, 0], atol=1e-15)
    # Test inputs are clipped into [0, 1], targets are not.
    np.testing.assert_allclose(np.clip(t.y_test[0, :-7, 0], 0, 1), t.x_test[0, 7:, 0], atol=1e-15)
    assert t.metadata["normalisation"]["test_values_clipped"] == int(
        ((t.y_test[0, :-7] < 0) | (t.y_test[0, :-7] > 1)).sum()
        + ((t.y_train[0, -7:] < 0) | (t.y_train[0, -7:] > 1)).sum())
    assert t.x_train.min() == 0.0 and t.x_train.max() == 1.0
    assert t.metadata["suggested_washout"] >= 1


def test_prediction_layout_lorenz_and_quick():
    t = ds.load_task("lorenz", quick=True, target="z", horizon=3)
    assert t.x_train.shape == (1, 500, 3) and t.y_test.shape == (1, 250, 1)
    np.testing.assert_allclose(t.y_train[0, :-3, 0], t.x_train[0, 3:, 2], atol=1e-15)
    with pytest.raises(DataError, match="target"):
        ds.load_lorenz(target="w")


# ---------------------------------------------------------------- user files

def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_user_npz_classification_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x_tr = rng.normal(size=(6, 5, 2))
    x_tr[0, 3:] = np.nan  # NaN-padded tail: sample 0 has 3 frames
    x_te = rng.normal(size=(4, 5, 2))
    p = _write_npz(tmp_path / "mine.npz", x_train=x_tr, y_train=np.array(["b", "a", "b", "a", "c", "c"]),
                   x_test=x_te, y_test=np.array(["a", "a", "c", "b"]))
    t = ds.load_task(str(p))
    assert t.name == "mine" and t.class_names == ("a", "b", "c")
    assert t.y_train.tolist() == [1, 0, 1, 0, 2, 2] and t.y_test.tolist() == [0, 0, 2, 1]
    assert t.len_train.tolist() == [3, 5, 5, 5, 5, 5] and t.x_test.shape == (4, 5, 2)
    # Scaling back reproduces the file's values.
    norm = t.metadata["normalisation"]
    back = t.x_train[1] * np.array(norm["x_range"]) + np.array(norm["x_min"])
    np.testing.assert_allclose(back, x_tr[1])
    assert not t.x_train[0, 3:].any()
    # Explicit lengths win over NaN detection.
    p2 = _write_npz(tmp_path / "l.npz", x_train=np.nan_to_num(x_tr), y_train=np.arange(6) % 2,
                    x_test=x_te, y_test=np.array([0, 1, 0, 1]), len_train=np.array([2, 5, 5, 5, 5, 4]))
    t2 = ds.load_user_data(p2)
    assert t2.len_train.tolist() == [2, 5, 5, 5, 5, 4] and t2.class_names == ("0", "1")


def test_user_npz_prediction(tmp_path):
    u = np.sin(np.arange(120) / 5.0)
    p = _write_npz(tmp_path / "p.npz", x_train=u[None, :80], y_train=u[None, 2:82] * 10,
                   x_test=u[None, 80:118], y_test=u[None, 82:120] * 10, horizon=np.array(2))
    t = ds.load_user_data(p, kind="prediction")
    assert t.kind == "prediction" and t.horizon == 2
    assert t.y_train.shape == (1, 80, 1) and t.x_test.shape == (1, 38, 1)
    assert t.y_train.min() == 0.0 and t.y_train.max() == 1.0  # own scaling for targets


def test_user_csv_classification_round_trip(tmp_path):
    lines = ["split,sample,t,label,ch0,ch1"]
    for split, sid, label, n in (("train", "s1", "up", 3), ("train", "s2", "down", 2),
                                 ("test", "q", "down", 4)):
        for t in range(n):
            lines.append(f"{split},{sid},{t},{label},{t * 1.0},{-t * 2.0}")
    lines.insert(3, lines.pop(1))  # rows need not be in time order
    p = tmp_path / "c.csv"
    p.write_text("\n".join(lines) + "\n")
    t = ds.load_task(str(p))
    assert t.class_names == ("down", "up")
    assert t.len_train.tolist() == [3, 2] and t.len_test.tolist() == [4]
    assert t.y_train.tolist() == [1, 0]
    np.testing.assert_allclose(t.x_train[0, :, 0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(t.x_train[0, :, 1], [1.0, 0.5, 0.0])
    assert t.x_test[0, 3, 0] == 1.0  # 3.0 is above the train max: clipped


def test_user_csv_prediction(tmp_path):
    p = tmp_path / "series.csv"
    rows = ["a,b"] + [f"{i},{i * i}" for i in range(50)]
    p.write_text("\n".join(rows))
    t = ds.load_user_data(p, kind="prediction", target="b", horizon=3, train_fraction=0.5)
    assert t.horizon == 3 and t.x_train.shape == (1, 23, 2) and t.x_test.shape == (1, 24, 2)
    norm = t.metadata["normalisation"]
    raw = t.y_train[0, :, 0] * norm["y_range"][0] + norm["y_min"][0]
    np.testing.assert_allclose(raw, (np.arange(23) + 3.0) ** 2)


@pytest.mark.parametrize("content, match", [
    ("split,sample,time,label,ch0\ntrain,a,0,x,1\n", "header"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\nvalid,b,0,y,2\n", "split"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\ntrain,a,1,x,oops\ntest,b,0,x,1\n", "oops"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\ntrain,a,2,x,1\ntest,b,0,x,1\n", "t=1"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\ntrain,a,1,y,1\ntest,b,0,x,1\n", "changes label"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\ntest,b,0,z,1\n", "never occur"),
    ("split,sample,t,label,ch0\ntrain,a,0,x,1\n", "no rows"),
])
def test_bad_csv_files(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=match) as err:
        ds.load_user_data(p)
    assert "bad.csv" in str(err.value) or "y_test" in str(err.value)


def test_bad_csv_reports_line_number(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("split,sample,t,label,ch0\ntrain,a,0,x,1\ntrain,a,1,x,nan\ntest,b,0,x,1\n")
    with pytest.raises(DataError) as err:
        ds.load_user_data(p)
    assert err.value.parameter == "bad.csv:ch0" and err.value.index == 3
    assert "'nan'" in str(err.value) and "line 3" in str(err.value)


def test_bad_npz_files(tmp_path):
    good = dict(x_train=np.zeros((3, 4, 2)), y_train=np.array([0, 1, 0]),
                x_test=np.zeros((2, 4, 2)), y_test=np.array([1, 0]))
    cases = [
        ({k: v for k, v in good.items() if k != "y_test"}, "y_test"),
        ({**good, "x_train": np.zeros((3, 4, 2, 1))}, "x_train"),
        ({**good, "y_train": np.array([0, 1])}, "y_train"),
        ({**good, "x_test": np.zeros((2, 4, 3))}, "x_test"),
        ({**good, "len_train": np.array([4, 9, 4])}, "len_train"),
    ]
    for i, (arrays, key) in enumerate(cases):
        p = _write_npz(tmp_path / f"b{i}.npz", **arrays)
        with pytest.raises(DataError) as err:
            ds.load_user_data(p)
        assert key in err.value.parameter, (key, str(err.value))
        assert err.value.hint or err.value.allowed
    x = np.zeros((3, 4, 2))
    x[1, 1, 0] = np.nan  # NaN inside the valid frames (a later frame is finite)
    p = _write_npz(tmp_path / "nan.npz", **{**good, "x_train": x})
    with pytest.raises(DataError, match="sample 1, frame 1, channel 0"):
        ds.load_user_data(p)
    with pytest.raises(DataError, match="not found"):
        ds.load_user_data(tmp_path / "missing.npz")
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(DataError, match=r"\.npz or \.csv"):
        ds.load_user_data(tmp_path / "x.txt")
