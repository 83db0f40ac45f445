"""Declared parameter constraints, checked once at the entry of ``fit``.

scikit-learn's own validator lives in a private module that changes between
releases, so skdl keeps a small one with the same message shape::

    The 'alpha' parameter of MLPClassifierTF must be a float in the range
    [0.0, inf). Got -1 instead.
"""

from numbers import Integral, Real

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """Raised when an estimator parameter has a value it does not accept.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's
    error of the same name does, so either ``except`` clause catches it.
    """


class Interval:
    """A number of type ``kind`` within ``[left, right]``.

    Parameters
    ----------
    kind : {numbers.Integral, numbers.Real}
        ``Integral`` accepts integers only; ``Real`` accepts any real number.
    left, right : float or None
        The bounds; ``None`` means unbounded.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    """

    def __init__(self, kind, left, right, closed):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if isinstance(value, Real) and np.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed not in ("left", "both")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed not in ("right", "both")):
                return False
        return True

    def __str__(self):
        kind = "an int" if self.kind is Integral else "a float"
        left = "-inf" if self.left is None else float(self.left) if self.kind is Real else self.left
        right = "inf" if self.right is None else float(self.right) if self.kind is Real else self.right
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lb}{left}, {right}{rb}"


class Options:
    """One of a fixed set of strings."""

    def __init__(self, *options):
        self.options = tuple(options)

    def accepts(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return "a str among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"


class InstanceOf:
    """An instance of one of ``types``, described as ``description``."""

    def __init__(self, types, description):
        self.types, self.description = types, description

    def accepts(self, value):
        return isinstance(value, self.types)

    def __str__(self):
        return self.description


class Satisfies:
    """A value for which ``predicate(value)`` is true, described as ``description``."""

    def __init__(self, predicate, description):
        self.predicate, self.description = predicate, description

    def accepts(self, value):
        try:
            return bool(self.predicate(value))
        except Exception:
            return False

    def __str__(self):
        return self.description


BOOLEAN = InstanceOf((bool, np.bool_), "a bool")
NONE = Satisfies(lambda v: v is None, "None")
INFINITY = Satisfies(lambda v: isinstance(v, Real) and not isinstance(v, (bool, np.bool_))
                     and v == np.inf, "a float among {inf}")
RANDOM_STATE = InstanceOf(
    (Integral, np.random.RandomState, np.random.Generator, type(None)),
    "an int, a numpy RandomState or None",
)


def validate_parameters(constraints, params, owner):
    """Check each of ``params`` against its declared ``constraints``.

    Parameters
    ----------
    constraints : dict
        Maps a parameter name to a list of constraint objects; a value is
        valid when any of them accepts it.
    params : dict
        The estimator's ``get_params(deep=False)``.
    owner : str
        The estimator's class name, used in the message.

    Raises
    ------
    InvalidParameterError
        Naming the first parameter whose value no constraint accepts.

    Examples
    --------
    >>> from numbers import Real
    >>> from skdl._params import Interval, validate_parameters
    >>> validate_parameters({"alpha": [Interval(Real, 0, None, "left")]},
    ...                     {"alpha": -1}, "MLPClassifierTF")
    Traceback (most recent call last):
        ...
    skdl._params.InvalidParameterError: The 'alpha' parameter of MLPClassifierTF must be a float in the range [0.0, inf). Got -1 instead.
    """
    for name, allowed in constraints.items():
        value = params[name]
        if any(c.accepts(value) for c in allowed):
            continue
        texts = [str(c) for c in allowed]
        expected = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead."
        )
