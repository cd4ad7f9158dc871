"""The run folder of ``keras-ae train``: one run at a time, every file a later run reads written atomically, and a
rerun that resumes from the last finished epoch or stage with the full history.

Layout of a run folder::

    run.lock                 while a run is in progress: the owner's pid, host and start time (JSON)
    state/state.json         progress: the stages, the epochs finished in each, their history, the checkpoint
                             holding the model after the last finished epoch (and its SHA-256), the previous one
    state/ckpt-SS-EEEE.keras the model with its optimizer state after epoch EEEE of stage SS (the last two kept)
    model.keras              the trained model (written when every stage has finished)
    history.json             every epoch of every stage so far (rewritten after each epoch)
    metrics.json, *.png      the family's measures and figures (redone by a rerun when missing)

Every such file is written to a temporary name in the same folder, flushed to disk (``fsync``) and renamed over the
old one, so a process killed at any moment leaves either the old or the new file, never a partial one. The commit
point of an epoch is the rename of ``state.json``: a checkpoint written but not yet named there is ignored (the
epoch is redone, deterministically) and removed by the next commit. A checkpoint whose SHA-256 no longer matches
is reported, and the previous one is used when it is intact.
"""

__all__ = ["RunFolder", "RunFolderError", "RunLockedError", "RunStateError", "SimulatedCrash", "atomic_write",
           "fault_point", "read_json", "write_json"]

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import time

from keras_ae import errors

STATE_DIR = "state"
STATE_FILE = "state.json"
LOCK_FILE = "run.lock"
STATE_VERSION = 1
FAULT_ENV = "KERAS_AE_FAULT"


class RunFolderError(errors.RunFolderError):
    """A run folder that cannot be used as it is (not writable, a file, another recipe's run): keras_ae's
    :class:`~keras_ae.errors.RunFolderError` (an ``OSError``; ``keras-ae`` exit status 7)."""


class RunLockedError(RunFolderError):
    """Another live process is training into the same run folder."""


class RunStateError(RunFolderError):
    """The saved training state of a run folder is unreadable or inconsistent."""


class SimulatedCrash(BaseException):
    """Raised at a fault point named in ``KERAS_AE_FAULT`` with the action ``raise`` (tests of crash safety)."""


# ----- fault injection (tests) -------------------------------------------------------------------------
def fault_point(name):
    """Crash here when ``KERAS_AE_FAULT`` names this point.

    ``KERAS_AE_FAULT`` is a comma-separated list of ``POINT`` or ``POINT=ACTION``: ``ACTION`` is ``kill`` (the
    default: SIGKILL to this process, as a power cut or the OOM killer would) or ``raise`` (a
    :class:`SimulatedCrash`, for tests in one process). Points are named by the runner, e.g. ``epoch_end:train:3``
    (after epoch 3 of stage ``train`` is committed), ``batch:train:2:5`` (batch 5 of epoch 2), ``checkpoint:train:3``
    (the checkpoint of epoch 3 written but not yet renamed), ``trained`` (every stage done, before ``model.keras``),
    ``model_saved`` (``model.keras`` renamed into place, before the state says so), ``measured`` (metrics computed,
    figures not drawn). A test hook: it costs one environment lookup when unset.
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    for item in spec.split(","):
        point, _, action = item.strip().partition("=")
        if point == name:
            if (action or "kill") == "raise":
                raise SimulatedCrash(name)
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


# ----- atomic files ------------------------------------------------------------------------------------
def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_file(path):
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def temporary_path(path):
    """A temporary name beside ``path`` (same folder, so the rename is atomic; same extension, for Keras)."""
    folder, name = os.path.split(os.path.abspath(path))
    base, ext = os.path.splitext(name)
    return os.path.join(folder, f".{base}.tmp{os.getpid()}{ext}")


def atomic_write(path, write, before_rename=None):
    """Write ``path`` atomically: ``write(tmp_path)`` writes a temporary file, which is fsynced and renamed over
    ``path``. ``before_rename()`` runs between the two (a fault point). Returns ``path``."""
    tmp = temporary_path(path)
    try:
        write(tmp)
        _fsync_file(tmp)
        if before_rename is not None:
            before_rename()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(path)))
    return path


def write_json(path, obj):
    """Write ``obj`` as JSON to ``path`` atomically."""

    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1, default=_json_default)
            f.write("\n")

    return atomic_write(path, write)


def _json_default(value):
    if isinstance(value, tuple):
        return list(value)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def read_json(path, what="file"):
    """The JSON object in ``path``; a :class:`RunStateError` naming the file when it is not valid JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise RunStateError(f"{path} ({what}) is not valid JSON ({e}).") from None


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model, path, before_rename=None):
    """``model.save`` to ``path`` atomically (temporary ``.keras`` file, fsync, rename); returns its SHA-256."""
    atomic_write(path, model.save, before_rename=before_rename)
    return file_sha256(path)


# ----- the lock ----------------------------------------------------------------------------------------
def _process_start(pid):
    """The start time of process ``pid`` (clock ticks since boot, Linux), or None: tells a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid, start=None):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except (OSError, ValueError, TypeError):
        return False
    if start is not None:
        now = _process_start(pid)
        if now is not None and now != start:
            return False  # the pid now belongs to another process
    return True


class RunLock:
    """``run.lock`` in a run folder: created exclusively (``O_EXCL``) with the owner's pid, host and start time;
    removed on exit. A lock left by a process that is no longer running (killed) is taken over with a message."""

    def __init__(self, folder, log=None):
        self.path = os.path.join(folder, LOCK_FILE)
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.owned = False

    def _record(self):
        return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                "process_start": _process_start(os.getpid()), "argv": sys.argv}

    def _create(self):
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as f:
            json.dump(self._record(), f)
            f.flush()
            os.fsync(f.fileno())

    def acquire(self):
        for _ in range(3):
            try:
                self._create()
                self.owned = True
                return self
            except FileExistsError:
                pass
            try:
                with open(self.path) as f:
                    holder = json.load(f)
            except FileNotFoundError:
                continue  # released meanwhile: try again
            except (ValueError, OSError):
                holder = None
            if holder is None:
                age = time.time() - os.path.getmtime(self.path) if os.path.exists(self.path) else 0
                if age < 10:  # being written by a process that has just created it
                    time.sleep(0.5)
                    continue
                self.log(f"keras-ae: {self.path} is unreadable (left by a process killed while creating it); "
                         f"taking it over.")
            elif holder.get("host") != socket.gethostname():
                raise RunLockedError(
                    f"{os.path.dirname(self.path)} is in use by process {holder.get('pid')} on host "
                    f"{holder.get('host')!r} (since {holder.get('started')}). One run per folder: wait for it, train "
                    f"into another --out, or, if no run is in progress there, delete {self.path}."
                )
            elif _alive(holder.get("pid"), holder.get("process_start")):
                raise RunLockedError(
                    f"{os.path.dirname(self.path)} is in use by a run of process {holder.get('pid')} (since "
                    f"{holder.get('started')}). One run per folder: wait for it to finish, or train into another "
                    f"--out."
                )
            else:
                self.log(f"keras-ae: taking over {self.path} from process {holder.get('pid')} (started "
                         f"{holder.get('started')}), which is no longer running.")
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
        raise RunLockedError(f"Could not take {self.path}: another process keeps creating it.")

    def release(self):
        if not self.owned:
            return
        self.owned = False
        try:
            with open(self.path) as f:
                holder = json.load(f)
        except (OSError, ValueError):
            return
        if holder.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


# ----- the folder ---------------------------------------------------------------------------------------
class RunFolder:
    """A run folder: preflight, lock, training state (see the module doc).

    Args:
        path: the folder (created when missing).
        log: ``fn(message)`` for notices (taking over a stale lock, falling back to a previous checkpoint).
    """

    def __init__(self, path, log=None):
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise errors.InvalidArgumentError(f"The output folder must be a path; received {path!r}.")
        self.path = os.fspath(path)
        self.log = log or (lambda msg: print(msg, file=sys.stderr))

    # -- paths
    def file(self, name):
        return os.path.join(self.path, name)

    @property
    def state_dir(self):
        return os.path.join(self.path, STATE_DIR)

    @property
    def state_path(self):
        return os.path.join(self.state_dir, STATE_FILE)

    # -- preflight
    def preflight(self):
        """Create the folder and check that files can be written there, before any data is read."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunFolderError(f"The output folder {self.path!r} is a file; pass a folder (--out DIR).")
        try:
            os.makedirs(self.state_dir, exist_ok=True)
            probe = os.path.join(self.path, f".write-test-{os.getpid()}")
            with open(probe, "w") as f:
                f.write("ok")
            os.remove(probe)
        except OSError as e:
            raise RunFolderError(
                f"The output folder {self.path!r} is not writable ({e.strerror or e}); pass a folder you can write "
                f"to (--out DIR)."
            ) from None
        return self

    def lock(self):
        return RunLock(self.path, self.log)

    # -- state
    def read_state(self):
        """The saved state (a dict), or None for a fresh folder. Unreadable state raises :class:`RunStateError`
        saying what to do."""
        if not os.path.exists(self.state_path):
            return None
        try:
            state = read_json(self.state_path, "the training state")
        except RunStateError as e:
            raise RunStateError(f"{e} The run cannot resume from it: move the folder {self.state_dir!r} away to "
                                f"train from the start (or pass --overwrite).") from None
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION or "stages" not in state:
            raise RunStateError(f"{self.state_path} is not a keras_ae training state (version {STATE_VERSION}); move "
                                f"the folder {self.state_dir!r} away, or pass --overwrite.")
        return state

    def clear(self):
        """Delete the training state, the lock excepted (``--overwrite``)."""
        import shutil

        shutil.rmtree(self.state_dir, ignore_errors=True)
        os.makedirs(self.state_dir, exist_ok=True)
        for name in ("model.keras", "history.json", "metrics.json"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.file(name))

    def checkpoint_name(self, stage_index, epoch):
        return f"ckpt-{stage_index:02d}-{epoch:04d}.keras"

    def verified_checkpoint(self, state):
        """The path of a checkpoint of ``state`` whose SHA-256 matches, and the progress it holds: the current one,
        else the previous one (with a message). Raises :class:`RunStateError` when neither is intact."""
        problems = []
        for which in ("checkpoint", "previous"):
            entry = state.get(which)
            if not entry:
                continue
            path = os.path.join(self.state_dir, entry["file"])
            if not os.path.isfile(path):
                problems.append(f"{path} is missing")
                continue
            digest = file_sha256(path)
            if digest != entry["sha256"]:
                problems.append(f"{path} is corrupt (its SHA-256 differs from the one recorded when it was written)")
                continue
            if which == "previous":
                self.log(f"keras-ae: {problems[-1]}; resuming from the previous checkpoint instead (stage "
                         f"{entry['stage_index']}, epoch {entry['epoch']}): that epoch is trained again.")
            return path, entry
        raise RunStateError(
            f"No intact checkpoint in {self.state_dir}: {'; '.join(problems) or 'none recorded'}. Move the folder "
            f"{self.state_dir!r} away to train from the start (or pass --overwrite)."
        )

    def commit(self, state, model=None, stage_index=None, epoch=None, before_rename=None):
        """Record progress: save ``model`` as the checkpoint of (``stage_index``, ``epoch``) when given, then write
        ``state`` (atomically: the commit point), then delete checkpoints no longer named. Returns ``state``."""
        state = dict(state)
        if model is not None:
            name = self.checkpoint_name(stage_index, epoch)
            digest = save_model(model, os.path.join(self.state_dir, name), before_rename=before_rename)
            entry = {"file": name, "sha256": digest, "stage_index": stage_index, "epoch": epoch}
            if state.get("checkpoint") and state["checkpoint"]["file"] != name:
                state["previous"] = state["checkpoint"]
            state["checkpoint"] = entry
        state["version"] = STATE_VERSION
        state["updated"] = time.strftime("%Y-%m-%d %H:%M:%S")
        write_json(self.state_path, state)
        keep = {e["file"] for e in (state.get("checkpoint"), state.get("previous")) if e}
        for name in os.listdir(self.state_dir):
            if name.endswith(".keras") and name not in keep:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(self.state_dir, name))
        return state
