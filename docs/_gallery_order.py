"""The order of the gallery: the user guide's order, not the file names'."""

ORDER = [
    "plot_learning_curves.py",
    "plot_optimizer_cv.py",
    "plot_depth_width.py",
    "plot_loss_mse_vs_ce.py",
    "plot_regularization.py",
    "plot_grid_search.py",
    "plot_randomized_search.py",
    "plot_stacked_search.py",
    "plot_optuna_search.py",
    "plot_perceptron_xor.py",
    "plot_wide_and_deep.py",
    "plot_keras_wrapper_cnn.py",
]


class GuideOrder:
    """Sort key for ``within_subsection_order``; unlisted examples go last, by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        position = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return (position, filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
