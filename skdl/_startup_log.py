"""TensorFlow's C++ start-up notices held to ``TF_CPP_MIN_LOG_LEVEL``.

TensorFlow 2.21 logs "oneDNN custom operations are on ..." from a static
initialiser, when the dynamic loader opens its libraries, before it applies
``TF_CPP_MIN_LOG_LEVEL``, so no environment variable set before the import
silences it (tensorflow/tensorflow#100442). Two libraries link their own
copies of that code and of absl's logging (``libtensorflow_framework.so.2``,
opened by ``_pywrap_cpu_feature_guard``, and ``_pywrap_profiler_plugin.so``,
opened later in the same ``import tensorflow``), so one process prints the
notice, and absl's "All log messages before absl::InitializeLog() ..."
preamble, twice.

:func:`install` makes the first import of TensorFlow, whoever triggers it
(Keras, a worker process unpickling an estimator, the user), run with file
descriptor 2 captured; the captured text then goes back to it without the
log records below ``TF_CPP_MIN_LOG_LEVEL`` and without absl's preamble.
Everything else, errors included, is written back in order. Nothing changes
what TensorFlow runs: ``TF_ENABLE_ONEDNN_OPTS`` stays as the user set it.
"""

import contextlib
import importlib.abc
import os
import re
import sys
import tempfile

#: A C++ log record's first line: absl's ``I0000 00:00:1796114960.232320    4969 port.cc:153]``
#: or TensorFlow's own ``2025-09-17 14:44:05.157831: I external/.../cudart_stub.cc:32]``.
LOG_RECORD = re.compile(r"^(?:(?P<absl>[IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
                        r"|\d{4}-\d\d-\d\d [\d:.]+: (?P<tsl>[IWEF]) \S+:\d+\])")
ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
#: Lines that start something of their own, never the continuation of a log record.
PYTHON_OUTPUT = re.compile(r"^(?:Traceback |\S.*(?:Warning|Error|Exception): )")
SEVERITIES = "IWEF"


def min_log_level(environ=os.environ):
    """The severity index below which TensorFlow should drop C++ log records (0: keep all)."""
    try:
        return max(0, int(environ.get("TF_CPP_MIN_LOG_LEVEL", "0")))
    except ValueError:
        return 0


def drop_records_below(text, level):
    """``text`` without the log records (and their continuation lines) below ``level``.

    Parameters
    ----------
    text : str
        What a library wrote to standard error.
    level : int
        0 keeps everything; 1 drops info records; 2 also warnings; 3 also errors.
        From 1 on, absl's "before absl::InitializeLog()" preamble goes too.

    Returns
    -------
    str

    Examples
    --------
    >>> text = ("I0000 00:00:1.5    7 port.cc:153] oneDNN custom operations are on.\\n"
    ...         "E0000 00:00:1.6    7 cuda_dnn.cc:8579] Unable to register cuDNN factory\\n")
    >>> print(drop_records_below(text, 2), end="")
    E0000 00:00:1.6    7 cuda_dnn.cc:8579] Unable to register cuDNN factory
    """
    if level <= 0:
        return text
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        record = LOG_RECORD.match(line)
        if record:
            severity = record.group("absl") or record.group("tsl")
            dropping = SEVERITIES.index(severity) < level
        elif line.rstrip("\r\n") == ABSL_PREAMBLE:
            dropping = True
        elif PYTHON_OUTPUT.match(line):
            dropping = False
        if not dropping:
            kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def filtered_stderr(level):
    """Capture file descriptor 2 in the block, then write it back through :func:`drop_records_below`.

    Without a usable descriptor 2 (a closed or absent standard error) the block runs as is.
    """
    if level <= 0:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        _flush_python_stderr()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush_python_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = drop_records_below(captured.read().decode("utf-8", "replace"), level)
            if text:
                os.write(2, text.encode("utf-8"))


def _flush_python_stderr():
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()


class _FilteredLoader(importlib.abc.Loader):
    """TensorFlow's own loader, its module executed under :func:`filtered_stderr`."""

    def __init__(self, loader, finder):
        self.loader, self.finder = loader, finder

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        try:
            with filtered_stderr(min_log_level()):
                self.loader.exec_module(module)
        finally:
            self.finder.uninstall()


class QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the other finders do and gives it a :class:`_FilteredLoader`."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _FilteredLoader(spec.loader, self)
                return spec
        return None

    def uninstall(self):
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)


def install():
    """Quiet TensorFlow's first import in this process, unless it has happened already."""
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, QuietTensorFlowImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlowImport())
