"""skdl's persistent compilation cache (JAX's, on by default): kept in skdl's cache
folder, off with ``SKDL_CACHE=0``, an unreadable entry compiled again, a folder two
processes share at once."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

FIT = textwrap.dedent("""
    import os, numpy as np, skdl
    if os.environ.get("SET_CONFIG_OFF"):
        skdl.set_config(compile_cache=False)
    from sklearn.datasets import load_iris
    from skdl import MLPClassifierTF
    X, y = load_iris(return_X_y=True)
    with skdl.config_context(executor="compiled"):  # a program to keep, however small the fit
        model = MLPClassifierTF((8,), max_iter=3, random_state=0).fit(X, y)
    print(repr(model.predict_proba(X).sum(axis=0).tolist()))
""")


def _start(folder, **env):
    return subprocess.Popen([sys.executable, "-c", FIT], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env={**os.environ, "KERAS_BACKEND": "jax", "SKDL_CACHE_DIR": str(folder),
                                 **env})


def _fit(folder, **env):
    process = _start(folder, **env)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    return stdout.strip().splitlines()[-1]


def _entries(folder):
    jax_folder = folder / "jax"
    return sorted(p for p in jax_folder.rglob("*") if p.is_file()) if jax_folder.exists() else []


def test_programs_are_kept_for_the_next_process_and_read_back(tmp_path):
    first = _fit(tmp_path)
    kept = _entries(tmp_path)
    assert kept, "no compiled program was kept"
    stamps = {p: p.stat().st_mtime_ns for p in kept}
    assert _fit(tmp_path) == first
    after = {p: p.stat().st_mtime_ns for p in _entries(tmp_path) if p in stamps}
    # JAX's bounded cache stamps an entry's "-atime" file when it reads the entry.
    programs = [p for p in stamps if not p.name.endswith("-atime")]
    used = [p for p in stamps if p.name.endswith("-atime")]
    assert programs and all(after[p] == stamps[p] for p in programs)  # read, not written again
    assert used and all(after[p] > stamps[p] for p in used)


@pytest.mark.parametrize("off", [{"SKDL_CACHE": "0"}, {"SET_CONFIG_OFF": "1"}])
def test_turned_off_it_keeps_nothing(tmp_path, off):
    _fit(tmp_path, **off)
    assert _entries(tmp_path) == []


def test_a_damaged_entry_is_compiled_again_not_trusted(tmp_path):
    first = _fit(tmp_path)
    for entry in _entries(tmp_path):
        entry.write_bytes(b"not a compiled program" * 10)
    assert _fit(tmp_path) == first


def test_two_processes_sharing_the_folder_at_once_both_train(tmp_path):
    processes = [_start(tmp_path) for _ in range(2)]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate()
        assert process.returncode == 0, stderr[-3000:]
        outputs.append(stdout.strip().splitlines()[-1])
    assert outputs[0] == outputs[1]
    assert _fit(tmp_path) == outputs[0]
