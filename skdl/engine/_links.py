"""Which function turns the network's output into predictions."""

from .._optim import LOSSES, OUTPUT_LINKS


def output_link(training_spec):
    """The link applied after the network: softmax, sigmoid, exp or identity."""
    task = training_spec.task
    if task == "regression":
        return OUTPUT_LINKS["exp" if training_spec.loss == "poisson" else "identity"]
    return OUTPUT_LINKS[task]


def per_sample_loss(training_spec):
    return LOSSES[(training_spec.task, training_spec.loss)]
