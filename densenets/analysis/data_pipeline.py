"""Images per second of densenets' SSD training pipeline against torchvision's detection-reference SSD transforms
(``densenets.analysis.peers.torchvision_ssd_pipeline``) on the same COCO-format images and boxes, decoding included
(Pillow for both). One timed call = one round of ``num_images`` images through one pipeline; the rounds of the two
pipelines alternate (``densenets.analysis.timing.time_interleaved_cpu``), the median rate is reported, and so is the
rate per CPU-second of the process (steadier on a shared machine).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable

from mmengine.config import Config

from .peers import torchvision_ssd_pipeline
from .timing import time_interleaved_cpu


def densenets_pipeline(cfg: Config, data_root: str) -> tuple[Callable[[int], Any], int]:
    """The config's ``train_dataloader.dataset.pipeline`` on the train split under ``data_root``."""
    from densenets.datasets import CocoDetection

    ds = CocoDetection(
        data_root=data_root,
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        pipeline=cfg.train_dataloader.dataset.pipeline,
        serialize_data=False,
    )
    return (lambda i: ds[i]), len(ds)


def data_pipeline_benchmark(cfg: Config, data_root: str | None, num_images: int, rounds: int) -> dict[str, Any]:
    """Rates of both pipelines; without ``data_root`` (or if it has no train split) the demo set is generated into a
    temporary folder."""
    tmp = None
    if not data_root or not os.path.isfile(os.path.join(data_root, "annotations", "instances_train2017.json")):
        from densenets.datasets.demo import make_coco_demo

        tmp = tempfile.TemporaryDirectory()
        data_root = tmp.name
        make_coco_demo(data_root, num_train=max(num_images, 50), num_val=0)
    try:
        ours, n_ours = densenets_pipeline(cfg, data_root)
        ref, n_ref = torchvision_ssd_pipeline(data_root)
        for fn, n in ((ours, n_ours), (ref, n_ref)):  # warm-up (imports, caches)
            for i in range(5):
                fn(i % n)

        def round_of(fn: Callable[[int], Any], n: int) -> Callable[[], None]:
            return lambda: [fn(i % n) for i in range(num_images)]

        t = time_interleaved_cpu({"densenets": round_of(ours, n_ours), "torchvision": round_of(ref, n_ref)},
                                 runs=rounds, warmup=0)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return {"data_root": data_root if tmp is None else "(generated demo set)", "num_images": num_images,
            "rounds": rounds,
            "images_per_s": {k: num_images / wall.median for k, (wall, _) in t.items()},
            "images_per_cpu_s": {k: num_images / cpu.median for k, (_, cpu) in t.items()}}


def format_data_pipeline(r: dict[str, Any]) -> str:
    wall, cpu = r["images_per_s"], r["images_per_cpu_s"]
    return "\n".join([
        f"images: {r['num_images']} x {r['rounds']} rounds from {r['data_root']}; 1 process, 1 thread",
        "median images/s              wall-clock   per CPU-second",
        f"densenets   SSD pipeline    {wall['densenets']:10.1f}   {cpu['densenets']:14.1f}",
        f"torchvision SSD reference   {wall['torchvision']:10.1f}   {cpu['torchvision']:14.1f}",
        f"ratio densenets / torchvision: {wall['densenets'] / wall['torchvision']:.2f}x (wall), "
        f"{cpu['densenets'] / cpu['torchvision']:.2f}x (CPU)",
    ])
