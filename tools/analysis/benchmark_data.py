"""Images/s of densenets' SSD training pipeline vs torchvision's detection-reference SSD transforms.

    python tools/analysis/benchmark_data.py [--data data/demo_coco] [--num-images 100] [--rounds 3]

Both pipelines get the same COCO-format images and boxes and include decoding (Pillow for both, as torchvision's
``references/detection`` does). densenets: ``configs/_base_/datasets/coco_ssdlite_320.py``'s ``train_pipeline``
(decode, photometric distortion, zoom-out, IoU crop, flip, resize 320, uint8 CHW tensor). torchvision
(``torchvision.transforms.v2``): decode, ``ToImage``, ``RandomPhotometricDistort``, ``RandomZoomOut`` (mean fill),
``RandomIoUCrop``, ``RandomHorizontalFlip``, ``Resize((320, 320))``, ``SanitizeBoundingBoxes``,
``ToDtype(float32, scale=True)``. One process, one thread; rounds alternate between the two pipelines and the median
rate is reported, so load from other processes affects both alike; the rate per CPU-second of the process is
printed too (steadier on a shared machine). Without ``--data`` (or if it is missing) the
demo set is generated into a temporary folder.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from typing import Callable

import cv2
import torch


def _densenets_pipeline(data_root: str) -> tuple[Callable[[int], object], int]:
    from mmengine.config import Config

    from densenets.datasets import CocoDetection

    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    cfg_path = os.path.join(repo, "configs", "_base_", "datasets", "coco_ssdlite_320.py")
    cfg = Config.fromfile(cfg_path)
    ds = CocoDetection(
        data_root=data_root,
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        pipeline=cfg.train_pipeline,
        serialize_data=False,
    )
    return (lambda i: ds[i]), len(ds)


def _torchvision_pipeline(data_root: str) -> tuple[Callable[[int], object], int]:
    from PIL import Image
    from pycocotools.coco import COCO
    from torchvision import tv_tensors
    from torchvision.transforms import v2 as T

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(os.path.join(data_root, "annotations", "instances_train2017.json"))
    ids = [i for i in sorted(coco.imgs) if any(not a["iscrowd"] for a in coco.imgToAnns.get(i, []))]
    cat_ids = sorted(coco.cats)
    tf = T.Compose(
        [
            T.ToImage(),
            T.RandomPhotometricDistort(p=1.0),
            T.RandomZoomOut(fill={tv_tensors.Image: (123, 117, 104), "others": 0}),
            T.RandomIoUCrop(),
            T.RandomHorizontalFlip(p=0.5),
            T.Resize((320, 320), antialias=True),
            T.SanitizeBoundingBoxes(),
            T.ToDtype(torch.float32, scale=True),
        ]
    )

    def sample(i: int) -> object:
        img_id = ids[i]
        info = coco.imgs[img_id]
        img = Image.open(os.path.join(data_root, "train2017", info["file_name"])).convert("RGB")
        anns = [a for a in coco.imgToAnns[img_id] if not a["iscrowd"]]
        boxes = torch.tensor([a["bbox"] for a in anns], dtype=torch.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        target = {
            "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(info["height"], info["width"])),
            "labels": torch.tensor([cat_ids.index(a["category_id"]) for a in anns], dtype=torch.int64),
        }
        return tf(img, target)

    return sample, len(ids)


def _rate(fn: Callable[[int], object], n: int, total: int) -> tuple[float, float]:
    """(images per wall-clock second, images per CPU second of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        fn(i % total)
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/demo_coco", help="COCO-format folder (default: data/demo_coco)")
    parser.add_argument("--num-images", type=int, default=100, help="images per round and pipeline (default: 100)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: 3)")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    data_root = args.data
    tmp = None
    if not os.path.isfile(os.path.join(data_root, "annotations", "instances_train2017.json")):
        from densenets.datasets.demo import make_coco_demo

        tmp = tempfile.TemporaryDirectory()
        data_root = tmp.name
        print(f"{args.data} not found; generating the demo set into {data_root}")
        make_coco_demo(data_root, num_train=max(args.num_images, 50), num_val=0)

    ours, n_ours = _densenets_pipeline(data_root)
    ref, n_ref = _torchvision_pipeline(data_root)
    for fn, n in ((ours, n_ours), (ref, n_ref)):  # warm-up (imports, caches)
        _rate(fn, 5, n)
    rates: dict[str, list[tuple[float, float]]] = {"densenets": [], "torchvision": []}
    for _ in range(args.rounds):
        rates["densenets"].append(_rate(ours, args.num_images, n_ours))
        rates["torchvision"].append(_rate(ref, args.num_images, n_ref))
    wall = {k: statistics.median(r[0] for r in v) for k, v in rates.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in rates.items()}
    print(f"images: {args.num_images} x {args.rounds} rounds from {data_root}; 1 process, 1 thread")
    print("median images/s              wall-clock   per CPU-second")
    print(f"densenets   SSD pipeline    {wall['densenets']:10.1f}   {cpu['densenets']:14.1f}")
    print(f"torchvision SSD reference   {wall['torchvision']:10.1f}   {cpu['torchvision']:14.1f}")
    print(
        f"ratio densenets / torchvision: {wall['densenets'] / wall['torchvision']:.2f}x (wall), "
        f"{cpu['densenets'] / cpu['torchvision']:.2f}x (CPU)"
    )
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
