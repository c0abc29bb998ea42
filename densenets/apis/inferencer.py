"""Inference on images from a config and a checkpoint: predictions, overlays and a JSON of the results.

>>> from densenets.apis import Inferencer
>>> inferencer = Inferencer("configs/ssdlite_mbv3_large.py", "work_dirs/ssdlite_mbv3_large/best.pth")
>>> results = inferencer(["street.jpg", "photos/"], out_dir="outputs/")

The images go through the config's *test* pipeline (the resize the model was evaluated with), so a detector's boxes
and a segmentor's label map come back in the original image's pixels. Unreadable inputs are reported by name and
skipped; ``inferencer.skipped`` lists them.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from PIL import Image

from ..datasets.image_io import BadImageError, load_rgb
from ..engine.draw import draw_detections, draw_segmentation
from ..registry import DATASETS, TRANSFORMS
from .model_loading import build_model, load_config, load_model_weights

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def collect_images(inputs: Iterable[str | os.PathLike]) -> list[str]:
    """Expand folders (recursively, image suffixes only, sorted) and keep files as given.

    A broken symlink with an image suffix is kept: it is an input that cannot be read, reported and counted as
    skipped like any other (not silently left out).
    """
    paths: list[str] = []
    for item in inputs:
        item = str(item)
        if osp.isdir(item):
            found = sorted(
                str(p) for p in Path(item).rglob("*")
                if (p.is_file() or (p.is_symlink() and not p.exists())) and p.suffix.lower() in IMAGE_SUFFIXES
            )
            paths.extend(found)
        else:
            paths.append(item)
    return paths


def output_names(paths: Sequence[str | None]) -> list[str]:
    """One unique output name per input: the path relative to the inputs' common folder, without the suffix
    (``a/img.jpg`` and ``b/img.jpg`` -> ``a/img``, ``b/img``); the suffix is kept where two names would collide
    (``img.jpg``, ``img.png`` -> ``img_jpg``, ``img_png``), and a repeated input gets ``_2``, ``_3`` ... Arrays
    (``None``) are ``image_<index>``."""
    real = [osp.abspath(p) for p in paths if p is not None]
    root = osp.commonpath([osp.dirname(p) for p in real]) if real else ""
    stems = [None if p is None else osp.splitext(osp.relpath(osp.abspath(p), root))[0] for p in paths]
    counts = Counter(s for s in stems if s is not None)
    names, seen = [], Counter()
    for k, (path, stem) in enumerate(zip(paths, stems)):
        if stem is None:
            name = f"image_{k:05d}"
        elif counts[stem] > 1:
            name = f"{stem}_{osp.splitext(path)[1].lstrip('.').lower() or 'noext'}"
        else:
            name = stem
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names


class Inferencer:
    """Run a densenets detector or segmentor on images (paths, folders or ``H x W x 3`` RGB uint8 arrays).

    Args:
        config: config file or :class:`mmengine.config.Config`.
        checkpoint: checkpoint file (``None``: the config's initial weights, for smoke tests).
        device: ``"cpu"`` / ``"cuda"``.
        score_thr: lowest detection score kept in the results and drawn.
        cfg_options: config overrides (``{"model.test_cfg.nms_iou": 0.5}``).
        backend: ``"torch"`` (default), ``"onnxruntime"`` or ``"executorch"``: run the exported ``model_path``
            (``.onnx`` / ``.pte``) instead of the PyTorch network; pre- and post-processing, overlays and records
            are the same (``densenets.deploy.runtimes.ExportedModel``). ``checkpoint`` then only supplies the
            class names (it may be ``None``).
        model_path: the exported file for ``backend``; ``threads``: its runtime threads.
    """

    def __init__(
        self,
        config: str | Config,
        checkpoint: str | None = None,
        device: str = "cpu",
        score_thr: float = 0.3,
        cfg_options: dict | None = None,
        backend: str = "torch",
        model_path: str | None = None,
        threads: int = 1,
    ) -> None:
        import densenets.datasets  # noqa: F401  (registers the transforms)

        self.cfg = load_config(config, cfg_options)
        self.model = build_model(self.cfg)
        self.task = self.model.task  # "detection" / "segmentation": what the records and overlays hold
        meta: dict[str, Any] = {}
        if checkpoint is not None:
            meta = load_model_weights(self.model, checkpoint)
        if backend != "torch":
            from ..deploy.runtimes import build_exported_model

            self.model = build_exported_model(self.model, backend, model_path, threads)
        self.model.to(device).eval()
        self.device = torch.device(device)
        self.score_thr = score_thr
        self.dataset_meta = self._dataset_meta(meta)
        self.pipeline = self._test_pipeline()
        self.skipped: list[str] = []

    # -- set-up -------------------------------------------------------------------------------------------------
    def _dataset_cfg(self) -> dict:
        loader = self.cfg.get("test_dataloader") or self.cfg.get("val_dataloader") or {}
        return dict(loader.get("dataset", {}))

    def _dataset_meta(self, ckpt_meta: dict) -> dict:
        """Class names (and palette) from the checkpoint (mmengine stores the training set's ``metainfo``), else
        the config's dataset ``metainfo``, else the dataset class's ``METAINFO``."""
        meta = dict(ckpt_meta.get("dataset_meta") or {})
        ds_cfg = self._dataset_cfg()
        if "classes" not in meta and ds_cfg.get("metainfo"):
            meta.update(ds_cfg["metainfo"])
        if "classes" not in meta and ds_cfg.get("type"):
            cls = DATASETS.get(ds_cfg["type"])
            meta.update(getattr(cls, "METAINFO", None) or {})
        return meta

    def _test_pipeline(self) -> list:
        steps = []
        for step in self._dataset_cfg().get("pipeline", []):
            if isinstance(step, dict) and step.get("type") == "LoadImageFromFile":
                continue  # the Inferencer decodes (or receives) the image itself; annotation loaders find no paths
            steps.append(TRANSFORMS.build(step) if isinstance(step, dict) else step)
        return steps

    # -- running ------------------------------------------------------------------------------------------------
    def preprocess(self, image: np.ndarray, path: str | None) -> dict[str, Any]:
        """One image through the test pipeline, packed as docs/design.md's ``inputs``/``data_samples`` pair."""
        hw = tuple(image.shape[:2])
        results: dict[str, Any] = dict(img=image, img_path=path, ori_shape=hw, img_shape=hw, flip=False)
        for step in self.pipeline:
            results = step(results)
        if "inputs" not in results:
            raise ValueError("the config's test pipeline must end with a packing step (PackDetInputs or "
                             f"PackSegInputs), got {[type(t).__name__ for t in self.pipeline]}")
        return results

    @torch.no_grad()
    def predict(self, images: Sequence[np.ndarray], paths: Sequence[str | None]) -> list[dict]:
        packed = [self.preprocess(img, p) for img, p in zip(images, paths)]
        data = dict(inputs=[d["inputs"] for d in packed], data_samples=[d["data_samples"] for d in packed])
        data = self.model.data_preprocessor(data, False)
        return self.model(data["inputs"], data["data_samples"], mode="predict")

    def __call__(
        self,
        inputs: Iterable[str | os.PathLike | np.ndarray],
        out_dir: str | None = None,
        batch_size: int = 1,
    ) -> list[dict]:
        """Predict every input; with ``out_dir`` write an overlay per image and ``predictions.json``.

        Returns one JSON-ready record per readable image (see :meth:`to_record`).
        """
        items: list[tuple[str | None, np.ndarray | None]] = []
        for item in inputs:
            if isinstance(item, np.ndarray):
                items.append((None, item))
            else:
                items.extend((p, None) for p in collect_images([item]))
        self.skipped = []
        records: list[dict] = []
        names = output_names([p for p, _ in items])
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
        for start in range(0, len(items), batch_size):
            batch_imgs, batch_paths, batch_names = [], [], []
            for k, (path, arr) in enumerate(items[start : start + batch_size], start=start):
                if arr is None:
                    try:
                        arr = load_rgb(path)
                    except (BadImageError, OSError, ValueError) as err:
                        print_log(f"skipped {path}: {err}", logger="current", level=30)
                        self.skipped.append(str(path))
                        continue
                elif arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
                    print_log(f"skipped input #{k}: expected H x W x 3 uint8 RGB, got {arr.shape} {arr.dtype}",
                              logger="current", level=30)
                    self.skipped.append(f"#{k}")
                    continue
                batch_imgs.append(arr)
                batch_paths.append(path)
                batch_names.append(names[k])
            if not batch_imgs:
                continue
            for img, name, pred in zip(batch_imgs, batch_names, self.predict(batch_imgs, batch_paths)):
                record = self.to_record(pred)
                if out_dir:
                    record.update(self._write(out_dir, name, img, pred))
                records.append(record)
        if out_dir:
            with open(osp.join(out_dir, "predictions.json"), "w") as f:
                json.dump(records, f, indent=1)
        if self.skipped:
            print_log(f"{len(self.skipped)} of {len(items)} inputs could not be read and were skipped: "
                      f"{', '.join(self.skipped[:10])}", logger="current", level=30)
        return records

    # -- output -------------------------------------------------------------------------------------------------
    def class_name(self, label: int) -> str:
        classes = self.dataset_meta.get("classes")
        return str(classes[label]) if classes is not None and 0 <= label < len(classes) else str(label)

    def to_record(self, pred: dict) -> dict:
        """JSON-ready: detections as ``{box (xyxy, original pixels), score, label, class}`` above ``score_thr``;
        segmentation as the per-class pixel fractions (the label map itself goes to a PNG)."""
        record: dict[str, Any] = {"image": pred.get("img_path"), "height": int(pred["ori_shape"][0]),
                                  "width": int(pred["ori_shape"][1])}
        if self.task == "detection":
            keep = pred["pred_scores"] >= self.score_thr
            record["detections"] = [
                {"box": [round(float(v), 2) for v in box], "score": round(float(s), 4), "label": int(lab),
                 "class": self.class_name(int(lab))}
                for box, s, lab in zip(pred["pred_boxes"][keep].tolist(), pred["pred_scores"][keep].tolist(),
                                       pred["pred_labels"][keep].tolist())
            ]
        if self.task == "segmentation":
            seg = pred["pred_sem_seg"]
            counts = torch.bincount(seg.flatten(), minlength=1).tolist()
            total = max(int(seg.numel()), 1)
            record["classes"] = {self.class_name(i): round(c / total, 5) for i, c in enumerate(counts) if c}
        return record

    def _write(self, out_dir: str, name: str, image: np.ndarray, pred: dict) -> dict:
        written = {}
        os.makedirs(osp.dirname(osp.join(out_dir, name)), exist_ok=True)  # names keep the inputs' sub-folders
        if self.task == "segmentation":
            seg = pred["pred_sem_seg"].to(torch.uint8).numpy()
            label_path = osp.join(out_dir, f"{name}_pred.png")
            Image.fromarray(seg).save(label_path)
            written["label_map"] = label_path
            image = draw_segmentation(image, pred["pred_sem_seg"], self.dataset_meta.get("palette"))
        if self.task == "detection":
            image = draw_detections(image, pred["pred_boxes"], pred["pred_scores"], pred["pred_labels"],
                                    class_names=self.dataset_meta.get("classes"), score_thr=self.score_thr)
        overlay = osp.join(out_dir, f"{name}_overlay.jpg")
        Image.fromarray(image).save(overlay, quality=92)
        written["overlay"] = overlay
        return written
