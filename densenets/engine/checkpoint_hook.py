"""A CheckpointHook whose saves survive a crash at any point.

mmengine's ``CheckpointHook`` (0.10.7) writes through ``LocalBackend.put`` (open + write: a crash leaves a truncated
file), rewrites the ``last_checkpoint`` pointer in place, and deletes the oldest checkpoint (and the previous best
one) *before* writing the new one, so with ``max_keep_ckpts=1`` a crash mid-save can leave no usable checkpoint.
:class:`AtomicCheckpointHook` changes exactly that:

1. every file goes through :class:`~densenets.engine.checkpoint.AtomicLocalBackend` (temporary file in the same
   directory, ``fsync``, ``os.replace``);
2. the ``last_checkpoint`` pointer is replaced atomically, after the checkpoint it names exists;
3. outdated checkpoints are deleted only after the new checkpoint and the pointer are in place;
4. message-hub buffers are stored so that ``torch.load(weights_only=True)`` accepts them
   (:func:`~densenets.engine.checkpoint.sanitize_for_save`);
5. temporary files a kill left behind mid-save (``.<name>.<random>.tmp``, the pattern of
   :func:`~densenets.engine.checkpoint.atomic_write_bytes`) are removed, and named in the log, when training starts.

Everything else (intervals, ``save_best``, ``max_keep_ckpts``, resume bookkeeping) is mmengine's.
"""
from __future__ import annotations

import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Any, Iterator

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ..registry import HOOKS
from .checkpoint import ATOMIC_BACKEND, atomic_write_bytes, sanitize_for_save

#: the temporary names ``atomic_write_bytes`` creates (``tempfile.mkstemp`` adds 8 characters of [a-z0-9_])
TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def remove_stale_temp_files(*folders: str) -> list[str]:
    """Remove the temporary checkpoint files a killed save left in ``folders``; returns their paths."""
    removed = []
    for folder in dict.fromkeys(f for f in folders if f and osp.isdir(f)):
        for name in sorted(os.listdir(folder)):
            path = osp.join(folder, name)
            if TEMP_FILE.match(name) and osp.isfile(path) and not osp.islink(path):
                os.remove(path)
                removed.append(path)
    return removed


class _DeferredRemoval:
    """Wraps a file backend; ``remove``/``rmtree`` are recorded instead of executed."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.pending: list[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with atomic writes and delete-after-save (see the module docstring).

    Takes the same arguments. ``backend_args`` defaults to the atomic local backend; an explicit non-local backend
    (e.g. a remote store) is used as given, without the atomicity guarantee.
    """

    def __init__(self, *args: Any, backend_args: dict | None = None, **kwargs: Any) -> None:
        if kwargs.get("file_client_args") is not None:
            raise ValueError("AtomicCheckpointHook: use backend_args, not the deprecated file_client_args")
        if backend_args is None or backend_args.get("backend", "local") == "local":
            backend_args = dict(backend_args or {}, backend=ATOMIC_BACKEND)
        super().__init__(*args, backend_args=backend_args, **kwargs)

    def before_train(self, runner: Any) -> None:
        super().before_train(runner)
        if is_main_process() and ATOMIC_BACKEND in str((self.backend_args or {}).get("backend")):
            removed = remove_stale_temp_files(str(self.out_dir), str(runner.work_dir))
            if removed:
                runner.logger.warning(f"removed {len(removed)} temporary checkpoint file(s) left by an interrupted "
                                      f"save: {', '.join(removed)}")

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        sanitize_for_save(checkpoint)

    @contextmanager
    def _removals_after_save(self) -> Iterator[None]:
        real = self.file_backend
        deferred = _DeferredRemoval(real)
        self.file_backend = deferred
        try:
            yield
        finally:
            self.file_backend = real
        # only reached when the save succeeded: now the outdated files may go
        best = getattr(self, "best_ckpt_path_dict", {}).values()
        keep = {self.last_ckpt, getattr(self, "best_ckpt_path", None), *best}
        for path in deferred.pending:
            if path in keep or not is_main_process():
                continue
            if real.isfile(path):
                real.remove(path)
            elif real.isdir(path):
                real.rmtree(path)

    def _save_checkpoint_with_step(self, runner: Any, step: int, meta: dict) -> None:
        with self._removals_after_save():
            if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    oldest = self.filename_tmpl.format(self.keep_ckpt_ids.popleft())
                    self.file_backend.remove(self.file_backend.join_path(self.out_dir, oldest))  # deferred
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))

            ckpt_filename = self.filename_tmpl.format(step)
            self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
            runner.message_hub.update_info("last_ckpt", self.last_ckpt)
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args,
            )
            if is_main_process():
                atomic_write_bytes(str(self.last_ckpt).encode(), osp.join(runner.work_dir, "last_checkpoint"))

    def _save_best_checkpoint(self, runner: Any, metrics: dict) -> None:
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)
