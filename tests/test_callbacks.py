"""scikit-learn's callback API (scikit-learn >= 1.9): each epoch of an skdl fit is a task.

Callbacks set on the estimator, or on a search or pipeline around it, hear every
epoch; one returning True at an epoch's end stops training there. Fits are tiny.
"""

import pickle
import warnings

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdl
import skdl.model_selection
from skdl import engine
from skdl._callbacks import CALLBACKS_ATTRIBUTE, HAS_CALLBACK_API
from skdl._network import NetworkSpec

callback_api = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
IRIS_XS = StandardScaler().fit_transform(IRIS_X)
FAST = dict(hidden_layer_sizes=(8,), learning_rate_init=0.05, random_state=0)


class Recorder:
    """Records every hook call; asks to stop at the end of task ``stop_at`` (name, id)."""

    max_propagation_depth = None  # auto-propagated from meta-estimators, all the way down

    def __init__(self, stop_at=None):
        self.stop_at, self.events, self.ends = stop_at, [], []

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.events.append(("end", context.task_name, context.task_id))
        self.ends.append(dict(path=_path(context), X=X, y=y, metadata=metadata,
                              fitted=fitted_estimator))
        return (context.task_name, context.task_id) == self.stop_at


def _path(context):
    path = []
    while context is not None:
        path.append((context.estimator_name, context.task_name))
        context = context.parent
    return tuple(reversed(path))


def _epoch_ends(recorder, task="epoch"):
    return [end for end in recorder.ends if end["path"][-1][1] == task]


def test_the_private_names_used_exist():
    est = skdl.MLPClassifier()
    assert callable(est._init_callback_context)
    recorder = Recorder()
    est.set_callbacks(recorder)
    assert vars(est)[CALLBACKS_ATTRIBUTE] == [recorder]
    assert vars(clone(est))[CALLBACKS_ATTRIBUTE] == [recorder]
    assert HAS_CALLBACK_API


@pytest.mark.parametrize("name, y", [("MLPClassifier", IRIS_Y), ("MLPRegressor", IRIS_X[:, 0])])
def test_each_epoch_is_a_task_of_the_fit(name, y):
    recorder = Recorder()
    est = getattr(skdl, name)(max_iter=4, **FAST).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(IRIS_XS, y, sample_weight=np.ones(150))
    epochs = [event for k in range(4) for event in (("begin", "epoch", k), ("end", "epoch", k))]
    assert recorder.events == [("setup", "fit"), ("begin", "fit", 0), *epochs, ("end", "fit", 0),
                               ("teardown", "fit")]
    ends = _epoch_ends(recorder)
    assert ends[0]["path"] == ((name, "fit"), (name, "epoch"))
    np.testing.assert_array_equal(ends[0]["X"], IRIS_XS)
    np.testing.assert_array_equal(ends[0]["y"], y)
    assert set(ends[0]["metadata"]) == {"sample_weight"}
    # Each epoch's fitted estimator predicts as the model stood then; the last one as the fit.
    first, last = ends[0]["fitted"], ends[-1]["fitted"]
    assert first is not est
    assert not np.allclose(first.coefs_[0], last.coefs_[0])
    np.testing.assert_allclose(last.predict(IRIS_XS), est.predict(IRIS_XS))
    assert last.loss_ == pytest.approx(est.loss_curve_[-1])
    assert [end["fitted"].n_iter_ for end in ends] == [1, 2, 3, 4]
    assert recorder.ends[-1]["fitted"].score(IRIS_XS, y) == pytest.approx(est.score(IRIS_XS, y))


@pytest.mark.parametrize("solver, task, expected_n_iter", [("adam", "epoch", 3),
                                                           ("lbfgs", "lbfgs-iter", 3)])
def test_a_callback_returning_true_stops_training_after_that_epoch(solver, task, expected_n_iter):
    recorder = Recorder(stop_at=(task, 2))
    est = skdl.MLPClassifier(max_iter=50, solver=solver, **FAST).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        est.fit(IRIS_XS, IRIS_Y)
    assert est.n_iter_ == expected_n_iter
    assert [e for e in recorder.events if e[1] == task][-1] == ("end", task, 2)
    np.testing.assert_allclose(_epoch_ends(recorder, task)[-1]["fitted"].predict_proba(IRIS_XS),
                               est.predict_proba(IRIS_XS), rtol=1e-5)
    unstopped = skdl.MLPClassifier(max_iter=50, solver=solver, **FAST).fit(IRIS_XS, IRIS_Y)
    assert unstopped.n_iter_ > expected_n_iter


def test_lbfgs_iterations_are_tasks_and_the_last_begun_ends_empty():
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = skdl.MLPClassifier(max_iter=3, solver="lbfgs", **FAST).set_callbacks(recorder)
        est.fit(IRIS_XS, IRIS_Y)
    iterations = [e for e in recorder.events if e[1] == "lbfgs-iter"]
    assert iterations == [event for k in range(est.n_iter_ + 1)
                          for event in (("begin", "lbfgs-iter", k), ("end", "lbfgs-iter", k))]
    assert _epoch_ends(recorder, "lbfgs-iter")[-1]["fitted"] is None  # it never ran


def test_partial_fit_is_a_task_of_one_epoch():
    recorder = Recorder()
    est = skdl.MLPClassifier(**FAST).set_callbacks(recorder)
    est.partial_fit(IRIS_XS, IRIS_Y, classes=[0, 1, 2])
    assert recorder.events == [("setup", "fit"), ("begin", "fit", 0),
                               ("begin", "epoch", 0), ("end", "epoch", 0), ("end", "fit", 0),
                               ("teardown", "fit")]


def test_keras_callbacks_keep_working_beside_them():
    class KerasRecorder(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            KerasRecorder.epochs += 1

    recorder = Recorder(stop_at=("epoch", 3))
    est = skdl.MLPClassifier(max_iter=10, callbacks=[KerasRecorder()], **FAST)
    est.set_callbacks(recorder).fit(IRIS_XS, IRIS_Y)
    assert est.n_iter_ == 4 and KerasRecorder.epochs == 4 and len(_epoch_ends(recorder)) == 4


def test_a_failing_callback_leaves_the_estimator_as_it_was_and_tears_down():
    class Failing(Recorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            if context.task_name == "epoch" and context.task_id == 1:
                raise RuntimeError("callback failed")
            return super().on_fit_task_end(estimator, context, **kwargs)

    est = skdl.MLPClassifier(max_iter=3, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(IRIS_XS, IRIS_Y)
    before = [c.copy() for c in est.coefs_]
    failing = Failing()
    with pytest.raises(RuntimeError, match="callback failed"):
        est.set_callbacks(failing).fit(IRIS_XS, IRIS_Y)
    assert failing.events[-1] == ("teardown", "fit")
    for a, b in zip(est.coefs_, before):
        np.testing.assert_array_equal(a, b)
    assert not hasattr(est, "_callback_fit_ctx")


def test_a_fitted_estimator_with_callbacks_pickles():
    est = skdl.MLPClassifier(max_iter=2, **FAST).set_callbacks(Recorder())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(IRIS_XS, IRIS_Y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(IRIS_XS),
                                  est.predict(IRIS_XS))


def test_callbacks_on_a_pipeline_reach_the_epochs():
    recorder = Recorder()
    pipe = make_pipeline(StandardScaler(), skdl.MLPClassifier(max_iter=3, **FAST))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.set_callbacks(recorder).fit(IRIS_X, IRIS_Y)
    ends = _epoch_ends(recorder)
    assert [end["path"] for end in ends] == [(("Pipeline", "fit"), ("MLPClassifier", "fit"),
                                              ("MLPClassifier", "epoch"))] * 3
    np.testing.assert_allclose(ends[0]["X"], IRIS_XS)  # what the network trains on
    assert CALLBACKS_ATTRIBUTE not in vars(pipe[-1])  # propagated for the fit only


SEARCH_GRID = {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__hidden_layer_sizes": [(4,), (8,)]}


def _search(search_class, callbacks=()):
    pipe = make_pipeline(StandardScaler(), skdl.MLPClassifier(max_iter=4, learning_rate_init=0.05,
                                                              random_state=0))
    search = search_class(pipe, SEARCH_GRID, cv=2)
    if callbacks:
        search.set_callbacks(*callbacks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(IRIS_X, IRIS_Y)


@pytest.mark.parametrize("search_class", [GridSearchCV, skdl.model_selection.GridSearchCV],
                         ids=["sklearn", "skdl"])
def test_callbacks_on_a_search_reach_every_fits_epochs(search_class):
    recorder = Recorder()
    search = _search(search_class, [recorder])
    ends = _epoch_ends(recorder)
    n_fits = 4 * 2 + 1  # candidates x splits, and the refit
    assert len(ends) == 4 * n_fits
    assert ends[0]["path"] == (("GridSearchCV", "fit"), ("GridSearchCV", "search"),
                               ("Pipeline", "fit"), ("MLPClassifier", "fit"),
                               ("MLPClassifier", "epoch"))
    assert ends[-1]["path"] == (("GridSearchCV", "fit"), ("Pipeline", "fit"),  # the refit
                                ("MLPClassifier", "fit"), ("MLPClassifier", "epoch"))
    if search_class is skdl.model_selection.GridSearchCV:
        assert search.stacking_["fits"] == 0  # one fit at a time, each reported


def test_a_stacked_search_with_callbacks_gives_scikit_learns_results():
    theirs = _search(GridSearchCV, [Recorder()])
    ours_reported = _search(skdl.model_selection.GridSearchCV, [Recorder()])
    ours_stacked = _search(skdl.model_selection.GridSearchCV)
    assert ours_stacked.stacking_["fits"] == 8
    for ours in (ours_reported, ours_stacked):
        np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                                   theirs.cv_results_["mean_test_score"])
        assert ours.best_params_ == theirs.best_params_


def test_cross_validate_with_callbacks_reports_each_split():
    recorder = Recorder()
    est = skdl.MLPClassifier(max_iter=2, **FAST).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = skdl.model_selection.cross_val_score(est, IRIS_XS, IRIS_Y, cv=3)
    assert scores.shape == (3,)
    assert len(_epoch_ends(recorder)) == 3 * 2


def test_progress_bar_shows_search_fit_and_epochs(capsys):
    progress = callback_api.ProgressBar(max_propagation_depth=None)
    _search(GridSearchCV, [progress])
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "Pipeline - fit-final-estimator | MLPClassifier - fit" in out
    assert "100%" in out


def test_scoring_monitor_scores_each_epoch():
    monitor = callback_api.ScoringMonitor(scoring="accuracy")
    est = skdl.MLPClassifier(max_iter=5, **FAST).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(IRIS_XS, IRIS_Y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in rows] == list(range(5))
    assert rows[-1]["accuracy"] == pytest.approx(est.score(IRIS_XS, IRIS_Y))
    assert rows[-1]["accuracy"] > rows[0]["accuracy"]


# --- the engine's side: a hook per model, in a stack ----------------------------------------------
class StoppingHook:
    def __init__(self, stop_after):
        self.stop_after, self.begun, self.ended = stop_after, [], []

    def begin(self, epoch):
        self.begun.append(epoch)

    def end(self, epoch, logs=None, weights=None):
        self.ended.append((epoch, logs["loss"], [w.shape for w in weights()]))
        return epoch == self.stop_after


def test_each_model_of_a_stack_has_its_own_hook():
    X = IRIS_XS.astype("float32")
    Y = (IRIS_Y == 0).astype("float32")[:, None]
    network = NetworkSpec(4, (3,), "relu", 1, output_activation="logistic")
    spec = engine.TrainingSpec("binary", "log_loss", batch_size=50, max_iter=6, tol=0.0,
                               n_iter_no_change=np.inf)
    hooks = [StoppingHook(1), StoppingHook(None)]
    requests = [engine.FitRequest(network, spec, X, Y, np.ones(150, "float32"), seed=k,
                                  epoch_hook=hook) for k, hook in enumerate(hooks)]
    assert len(engine.stacks(requests)) == 1  # trained together
    results = engine.train(requests)
    assert [r.n_iter for r in results] == [2, 6]
    assert hooks[0].begun == [0, 1] and hooks[1].begun == list(range(6))
    assert [e[1] for e in hooks[1].ended] == pytest.approx(results[1].loss_curve)
    assert hooks[0].ended[0][2] == [(4, 3), (3,), (3, 1), (1,)]
