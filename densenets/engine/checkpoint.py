"""Safe checkpoint loading and atomic checkpoint writing for mmengine 0.10.7 on torch >= 2.6.

Loading. torch >= 2.6 loads with ``weights_only=True``: only tensors, containers, numbers, strings and an explicit
allow-list of globals may be unpickled. mmengine's own checkpoints additionally hold (measured by saving a real
checkpoint with the Runner and asking ``torch.serialization.get_unsafe_globals_in_checkpoint``):

- ``mmengine.logging.HistoryBuffer`` objects (the message hub's ``log_scalars``) whose state holds
  ``numpy.ndarray`` arrays (``numpy._core.multiarray._reconstruct``, ``numpy.dtype``);
- numpy scalars (``numpy._core.multiarray.scalar``; the message hub's ``eta``, a metric's ``best_score``);
- ``builtins.getattr``, only because ``HistoryBuffer.__getstate__`` pickles its class-level dict of statistics
  methods (``getattr(HistoryBuffer, 'min')`` ...).

``getattr`` is not allow-listed: it would let a file fetch any attribute of any allow-listed object. Instead,
:func:`sanitize_for_save` replaces each ``HistoryBuffer`` by a :class:`PortableHistoryBuffer` (a subclass that does
not pickle the methods; they are class-level and re-created on load), and only the exact classes above plus the
numpy dtype classes are allow-listed, at import of :mod:`densenets.engine`. Optimizer, param-scheduler, AMP
``GradScaler`` and EMA states are plain tensors/numbers and need nothing. Anything else (a custom class, an
``os.system`` reduce) is still refused by torch.

Writing. :class:`AtomicLocalBackend` is mmengine's local file backend whose ``put``/``put_text`` write a temporary
file in the destination directory, ``fsync`` it and ``os.replace`` it over the target, so a crash mid-save leaves
either the old file or the new one, never a truncated one. ``AtomicCheckpointHook`` selects it through
``backend_args=dict(backend='atomic_local')``.
"""
from __future__ import annotations

import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer

ATOMIC_BACKEND = "atomic_local"


class PortableHistoryBuffer(HistoryBuffer):
    """A :class:`~mmengine.logging.HistoryBuffer` that pickles its data only (no statistics methods)."""

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("statistics_methods", None)
        return state

    @classmethod
    def from_buffer(cls, buffer: HistoryBuffer) -> "PortableHistoryBuffer":
        """Copy ``buffer``'s history (the arrays are shared, not copied)."""
        new = cls.__new__(cls)
        new.__dict__.update({k: v for k, v in buffer.__dict__.items() if k != "statistics_methods"})
        return new


def _numpy_safe_globals() -> list[Any]:
    from numpy._core.multiarray import _reconstruct, scalar

    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
        np.float16, np.float32, np.float64, np.complex64, np.complex128,
    )]
    return [np.ndarray, np.dtype, _reconstruct, scalar, *dtype_classes]


#: The exact globals mmengine checkpoints need beyond torch's defaults (see the module docstring).
SAFE_GLOBALS: list[Any] = [HistoryBuffer, PortableHistoryBuffer, *_numpy_safe_globals()]


def register_safe_globals() -> None:
    """Allow-list :data:`SAFE_GLOBALS` for every ``torch.load(weights_only=True)`` in this process (idempotent)."""
    torch.serialization.add_safe_globals(SAFE_GLOBALS)


@contextmanager
def safe_globals() -> Iterator[None]:
    """Allow-list :data:`SAFE_GLOBALS` inside a ``with`` block (leaves a process-wide registration in place).

    torch's own ``safe_globals`` context removes its globals on exit even when they were registered before, so only
    the missing ones are passed to it.
    """
    registered = set(torch.serialization.get_safe_globals())
    with torch.serialization.safe_globals([g for g in SAFE_GLOBALS if g not in registered]):
        yield


def sanitize_for_save(checkpoint: dict) -> dict:
    """Make ``checkpoint`` loadable with ``weights_only=True`` and the allow-list above (in place).

    Replaces every ``HistoryBuffer`` in ``checkpoint['message_hub']['log_scalars']`` by a
    :class:`PortableHistoryBuffer` (which the message hub restores like any ``HistoryBuffer``).
    """
    hub = checkpoint.get("message_hub")
    if isinstance(hub, dict) and isinstance(hub.get("log_scalars"), dict):
        hub["log_scalars"] = {
            k: PortableHistoryBuffer.from_buffer(v) if type(v) is HistoryBuffer else v
            for k, v in hub["log_scalars"].items()
        }
    return checkpoint


class CheckpointReadError(RuntimeError):
    """A checkpoint file that ``torch.load(weights_only=True)`` refuses or cannot read; the message names it."""


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> Any:
    """The one checkpoint reader: ``torch.load(path, weights_only=True)`` with the allow-list, errors naming the file.

    Every densenets loader reads through it (mmengine's ``load_from`` / ``--resume`` through
    :func:`register_local_loader`, :func:`densenets.apis.load_model_weights`, torchvision-format backbone weights).
    """
    path = str(path)
    if osp.isdir(path):
        raise IsADirectoryError(f"checkpoint {path}: is a directory, not a checkpoint file")
    if not osp.isfile(path):
        raise FileNotFoundError(f"checkpoint {path}: no such file")
    try:
        with safe_globals():
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError / RuntimeError with long advice text
        first = str(err).strip().splitlines()
        unsafe = ""
        try:
            allowed = {f"{g.__module__}.{g.__qualname__}" for g in SAFE_GLOBALS if hasattr(g, "__qualname__")}
            names = [n for n in torch.serialization.get_unsafe_globals_in_checkpoint(path) if n not in allowed]
            unsafe = f"; it references globals outside the allow-list: {names}" if names else ""
        except Exception:  # a truncated / non-zip file: the original error says enough
            pass
        raise CheckpointReadError(
            f"checkpoint {path}: refused or unreadable with weights_only=True{unsafe} "
            f"({type(err).__name__}: {first[0] if first else ''})"
        ) from err


def _load_local(filename: str, map_location: Any = None) -> dict:
    return load_checkpoint(osp.expanduser(filename), map_location=map_location)


def register_local_loader() -> None:
    """Route mmengine's local-file checkpoint loading (``load_from``, ``--resume``) through :func:`load_checkpoint`.

    Same ``weights_only=True`` load as mmengine's ``load_from_local`` on torch >= 2.6, with the allow-list and errors
    that name the file (``CheckpointLoader.register_scheme`` is mmengine's extension point for this).
    """
    from mmengine.runner import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes="", loader=_load_local, force=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


@register_backend(ATOMIC_BACKEND, force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend with atomic ``put`` / ``put_text`` (temporary file + ``os.replace``)."""

    def put(self, obj: bytes, filepath: str | Path) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: str | Path, encoding: str = "utf-8") -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)
