"""A search's finished fits kept in a folder, so that the search run again (after a crash,
a killed notebook, a pre-empted machine) trains only the fits that are missing.

Each fit trained ahead is one file, named by the fit's key (a digest of its rows'
data, its network and training settings and its seed: see
:meth:`skdl._base.BaseMLP._training_request`) and by how many fits of that key came
before it in the search. A file holds a header, the SHA-256 of its payload and the
payload (the fit's seed and result, pickled, with the skdl version and the key that
wrote them). It is written under a temporary name, flushed to disk and renamed into
place, so a reader sees a whole file or none, and two searches sharing a folder
never see each other's halves. An entry that is damaged, foreign (another skdl
version, another fit) or unreadable is trained again, with a warning: never trusted.

Like any pickle, an entry runs code when it is read: point ``checkpoint=`` only at
folders that you (or your own searches) write.
"""

import hashlib
import os
import pickle
import threading
import warnings
from pathlib import Path

MAGIC = b"skdl-checkpoint 1\n"
_DIGEST_BYTES = 32


class Checkpoint:
    """The entries of folder ``folder`` (``~`` is the user's home; created if missing).

    Examples
    --------
    >>> import tempfile
    >>> from skdl.model_selection._checkpoint import Checkpoint
    >>> folder = Checkpoint(tempfile.mkdtemp())
    >>> folder.save("a1b2", 0, 7, {"loss": 0.5})
    >>> folder.load("a1b2", 0), folder.load("a1b2", 1)
    ((7, {'loss': 0.5}), None)
    """

    def __init__(self, folder):
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"checkpoint must be a folder; {str(folder)!r} is a file.")
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key, index):
        return self.folder / f"{key}-{index}.fit"

    def load(self, key, index):
        """The ``(seed, result)`` saved for the ``index``-th fit of ``key``, or None (none
        saved, or an entry that cannot be trusted: then with a warning)."""
        from .. import __version__

        path = self._path(key, index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            return _untrusted(path, f"it cannot be read ({error})")
        if not data.startswith(MAGIC):
            return _untrusted(path, "it is not an skdl checkpoint entry")
        digest = data[len(MAGIC):len(MAGIC) + _DIGEST_BYTES]
        payload = data[len(MAGIC) + _DIGEST_BYTES:]
        if hashlib.sha256(payload).digest() != digest:
            return _untrusted(path, "its checksum does not match its contents (a damaged file)")
        try:
            entry = pickle.loads(payload)
        except Exception as error:  # noqa: BLE001 - any unreadable entry is retrained
            return _untrusted(path, f"it cannot be unpickled ({type(error).__name__}: {error})")
        if not isinstance(entry, dict) or entry.get("version") != __version__:
            return _untrusted(path, f"skdl {entry.get('version') if isinstance(entry, dict) else '?'} "
                                    f"wrote it, this is skdl {__version__}")
        if entry.get("key") != key:
            return _untrusted(path, "it belongs to another fit")
        return entry["seed"], entry["result"]

    def save(self, key, index, seed, result):
        """Save the ``index``-th fit of ``key``: written whole, then renamed into place."""
        from .. import __version__

        payload = pickle.dumps({"version": __version__, "key": key, "seed": seed, "result": result},
                               protocol=pickle.HIGHEST_PROTOCOL)
        path = self._path(key, index)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(temporary, "wb") as file:
                file.write(MAGIC + hashlib.sha256(payload).digest() + payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()


def _untrusted(path, why):
    warnings.warn(f"The checkpoint entry {str(path)!r} is not used, and its fit is trained "
                  f"again: {why}.", UserWarning, stacklevel=3)
    return None
