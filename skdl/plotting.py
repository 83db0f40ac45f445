"""Figures users look at instead of reading numbers (matplotlib, an optional dependency).

- :func:`plot_learning_curve`: a fitted estimator's loss and validation score per epoch.
- :func:`plot_search_results`: a search's mean CV score against each searched parameter.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("skdl.plotting needs matplotlib: pip install matplotlib") from error
    return plt


def plot_learning_curve(estimator, ax=None):
    """Plot the training loss per epoch, and the validation score when there is one.

    Parameters
    ----------
    estimator : MLPClassifierTF or MLPRegressorTF
        A fitted estimator (or a fitted pipeline ending with one).
    ax : matplotlib Axes, default=None
        Where to draw the loss; a new figure when None. The validation score
        goes on a twin axis on the right.

    Returns
    -------
    ax : matplotlib Axes
        The axes holding the loss curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skdl import MLPClassifierTF
    >>> from skdl.plotting import plot_learning_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifierTF((8,), max_iter=5, early_stopping=True, random_state=0).fit(X, y)
    >>> ax = plot_learning_curve(clf)
    >>> [line.get_label() for line in ax.get_lines()]
    ['training loss']
    """
    estimator = estimator[-1] if hasattr(estimator, "steps") else estimator
    check_is_fitted(estimator)
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    ax.plot(epochs, estimator.loss_curve_, color="C0", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(f"{type(estimator).__name__}: learning curve")
    scores = getattr(estimator, "validation_scores_", None)
    if scores:
        twin = ax.twinx()
        twin.plot(np.arange(1, len(scores) + 1), scores, color="C1", label="validation score")
        twin.set_ylabel("validation score")
        best = int(np.argmax(scores))
        twin.axvline(best + 1, color="C1", linestyle=":", label="best epoch")
        handles = ax.get_lines() + twin.get_lines()
        ax.legend(handles, [h.get_label() for h in handles], loc="center right")
    else:
        ax.legend(loc="upper right")
    return ax


def plot_search_results(search, params=None, axes=None):
    """Plot a search's mean test score (with its standard deviation) against each parameter.

    Parameters
    ----------
    search : fitted GridSearchCV, RandomizedSearchCV or a halving search
    params : list of str, default=None
        The parameters to show; all searched parameters when None.
    axes : array of matplotlib Axes, default=None
        One per parameter; a new row of subplots when None.

    Returns
    -------
    axes : list of matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skdl import MLPClassifierTF
    >>> from skdl.plotting import plot_search_results
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(MLPClassifierTF(max_iter=5, random_state=0),
    ...                       {"solver": ["adam", "sgd"]}, cv=2).fit(X, y)
    >>> [ax.get_xlabel() for ax in plot_search_results(search)]
    ['solver']
    """
    results = search.cv_results_
    names = params or [key[len("param_"):] for key in results if key.startswith("param_")]
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.5), squeeze=False,
                               sharey=True)
        axes = axes[0]
    means, stds = np.asarray(results["mean_test_score"]), np.asarray(results["std_test_score"])
    for ax, name in zip(axes, names):
        values = [str(v) for v in results["param_" + name]]
        levels = list(dict.fromkeys(values))
        position = {level: i for i, level in enumerate(levels)}
        jitter = np.random.RandomState(0).uniform(-0.1, 0.1, len(values))
        x = np.array([position[v] for v in values]) + jitter
        ax.errorbar(x, means, yerr=stds, fmt="o", alpha=0.7, label="mean ± std of CV score")
        ax.set_xticks(range(len(levels)), levels, rotation=30, ha="right")
        ax.set_xlabel(name.split("__")[-1] if "__" in name else name)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("mean test score")
    return list(axes)
