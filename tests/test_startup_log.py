"""TensorFlow's C++ start-up notices stay off stderr, as TF_CPP_MIN_LOG_LEVEL asks; errors stay visible.

``TF_ENABLE_ONEDNN_OPTS=1`` makes TensorFlow print its oneDNN notice on any x86
machine (it is the default only on some Intel CPUs), so these tests see the
lines users see there.
"""

import os
import subprocess
import sys

import pytest

from skdl._startup_log import drop_records_below, filtered_stderr, min_log_level

STARTUP_LINES = ("oneDNN custom operations are on", "absl::InitializeLog()", "cpu_feature_guard",
                 "rebuild TensorFlow", "Could not find cuda drivers")
ONEDNN_NOTICE = "I0000 00:00:1796114960.232320    4969 port.cc:153] oneDNN custom operations are on.\n"
CPU_NOTICE = ("I0000 00:00:1796114970.696758    5005 cpu_feature_guard.cc:227] This TensorFlow binary "
              "is optimized to use available CPU instructions.\n"
              "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n")
PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
TF_WARNING = "W0000 00:00:1796114970.7    5005 gpu_device.cc:2342] Cannot dlopen some GPU libraries.\n"
TF_ERROR = "2025-09-17 14:44:05.176998: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:467] Unable to register cuFFT factory\n"
PY_WARNING = "/x/y.py:3: UserWarning: something the user should see\n"


def run_python(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environ.update(TF_ENABLE_ONEDNN_OPTS="1", KERAS_BACKEND="tensorflow", **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ)


@pytest.mark.parametrize("level, kept", [
    (0, [PREAMBLE, ONEDNN_NOTICE, CPU_NOTICE, TF_WARNING, PY_WARNING, TF_ERROR]),
    (1, [TF_WARNING, PY_WARNING, TF_ERROR]),
    (2, [PY_WARNING, TF_ERROR]),
    (3, [PY_WARNING]),
])
def test_records_below_the_level_go_with_their_continuation_lines(level, kept):
    text = PREAMBLE + ONEDNN_NOTICE + CPU_NOTICE + TF_WARNING + PY_WARNING + TF_ERROR
    assert drop_records_below(text, level) == "".join(kept)


def test_a_traceback_after_a_dropped_record_is_kept():
    traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\nImportError: boom\n'
    assert drop_records_below(ONEDNN_NOTICE + traceback, 2) == traceback


@pytest.mark.parametrize("value, level", [(None, 0), ("2", 2), ("0", 0), ("junk", 0), ("-1", 0)])
def test_the_level_is_read_from_tf_cpp_min_log_level(value, level):
    assert min_log_level({} if value is None else {"TF_CPP_MIN_LOG_LEVEL": value}) == level


def test_filtered_stderr_works_on_the_file_descriptor(capfd):
    with filtered_stderr(2):
        os.write(2, (PREAMBLE + ONEDNN_NOTICE + TF_ERROR + PY_WARNING).encode())
    assert capfd.readouterr().err == TF_ERROR + PY_WARNING


def test_import_and_fit_print_no_startup_lines_and_keep_onednn_on():
    result = run_python(
        "import skdl\n"
        "from sklearn.datasets import load_iris\n"
        "skdl.MLPClassifierTF((4,), max_iter=1).fit(*load_iris(return_X_y=True))\n"
        "from tensorflow.python.util import _pywrap_util_port\n"
        "print(_pywrap_util_port.IsMklEnabled())\n")
    assert result.returncode == 0, result.stderr
    assert not [line for line in STARTUP_LINES if line in result.stderr], result.stderr
    assert result.stdout.split() == ["True"]  # oneDNN is on, as TF_ENABLE_ONEDNN_OPTS=1 asked


def test_the_main_job_prints_no_startup_lines():
    result = run_python("import sys\nfrom skdl.cli import main\n"
                        "sys.exit(main(['tune', '--dataset', 'iris', '--n-iter', '1', '--cv', '2', "
                        "'--max-iter', '1']))")
    assert result.returncode == 0, result.stderr
    assert not [line for line in STARTUP_LINES if line in result.stderr], result.stderr
    assert "skdl tune: classification on iris" in result.stderr  # the job's own progress stays


def test_a_users_own_log_level_is_respected():
    result = run_python("import skdl, keras", TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0, result.stderr
    assert "oneDNN custom operations are on" in result.stderr
