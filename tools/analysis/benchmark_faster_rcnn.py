"""CPU latency of our FPN-form Faster R-CNN against torchvision's ``fasterrcnn_mobilenet_v3_large_320_fpn``, and
the complexity table of every ``configs/faster_rcnn_*.py``.

    OMP_NUM_THREADS=1 python tools/analysis/benchmark_faster_rcnn.py --iters 20
    OMP_NUM_THREADS=1 python tools/analysis/benchmark_faster_rcnn.py --madds [--num-classes 90]

``--madds``: params, and MAdds (papers' convention) of the image part (backbone [+ FPN] + RPN head, i.e.
``mode="tensor"`` with no RoIs), of one RoI through the box head, and in total with the config's test-time proposal
count (``rpn_post_nms_top_n_test``), at square inputs of the config's shorter side (the MobileNet paper's Table 13
counts Faster R-CNN "300" / "600" this way: 25.2 B / 30.5 B for MobileNetV1 with 300 proposals).

Latency: both models get the same weights (torchvision's freshly initialised model, loaded into ours with
``load_torchvision_detector``; the backbone's BN statistics are first calibrated on the test image and the score
layers' weights spread, so that features are not all ~0 and ~100 boxes go through the whole postprocess) and the
same image, already at the resized size (shorter side 320 by default), so torchvision's internal resize is an
identity and both run the same network on the same padded batch. Timed end to end, batch 1, 1 thread, inference
mode: torchvision = ``model([image])`` (normalise, resize, pad, network, postprocess to original pixels); ours =
``ImagePreprocessor`` (normalise, pad) + ``mode="predict"`` (network, postprocess to original pixels). Reports the
median of ``--iters`` runs after ``--warmup`` runs, the
number of detections of each (they must agree), and ours / torchvision. On a shared machine, run it more than once.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone without installing

import torch  # noqa: E402
from torch import nn  # noqa: E402

DEFAULT_CONFIG = "configs/faster_rcnn_mbv3_large_320_fpn.py"


def _median_ms(fn, iters: int, warmup: int) -> tuple[float, object]:
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def build_pair(config: str, short: int, long: int, seed: int = 0):
    """Our model from ``config`` (with torchvision's 91 outputs) and torchvision's, sharing weights."""
    from mmengine.config import Config
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    from densenets.models.detectors.faster_rcnn import load_torchvision_detector
    from densenets.registry import MODELS

    torch.manual_seed(seed)
    cfg = Config.fromfile(config)
    model_cfg = dict(cfg.model, num_classes=90)
    tv = fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, min_size=short, max_size=max(long, short),
        rpn_pre_nms_top_n_test=model_cfg["rpn_pre_nms_top_n_test"],
        rpn_post_nms_top_n_test=model_cfg["rpn_post_nms_top_n_test"],
        rpn_score_thresh=model_cfg["rpn_score_thresh"], box_score_thresh=model_cfg["box_score_thresh"],
    )
    image = torch.randint(0, 256, (3, short, long), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # calibrate BN statistics on the image (fresh statistics give ~1e-8 features)
        for m in tv.backbone.body.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 1.0
        tv.backbone.body.train()
        tv.backbone.body(tv.transform([image.float() / 255])[0].tensors)
        # spread the fresh heads' scores, so that both models keep ~100 detections and run the full postprocess
        for layer in (tv.rpn.head.cls_logits, tv.roi_heads.box_predictor.cls_score):
            layer.weight.normal_(0, 0.5)
    tv.eval()
    ours = MODELS.build(model_cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/tv.pth"
        torch.save(tv.state_dict(), path)
        load_torchvision_detector(ours, path)
    return ours, tv, image


def madds_table(num_classes: int | None) -> None:
    """Print the complexity of every configs/faster_rcnn_*.py (see the module docstring)."""
    from mmengine.config import Config

    from densenets.analysis import count_complexity
    from densenets.registry import MODELS

    root = Path(__file__).resolve().parents[2]
    print("| config | params | input | image MAdds | per-RoI MAdds | RoIs | total MAdds |")
    print("|---|---|---|---|---|---|---|")
    for path in sorted((root / "configs").glob("faster_rcnn_*.py")):
        cfg = Config.fromfile(path)
        model_cfg = dict(cfg.model, tensor_num_rois=0)
        if num_classes is not None:
            model_cfg["num_classes"] = num_classes
        model = MODELS.build(model_cfg)
        side = cfg.test_dataloader.dataset.pipeline[1].transforms[0].short
        image = count_complexity(model, (side, side))
        model.tensor_num_rois = 2
        per_roi = (count_complexity(model, (side, side)).madds - image.madds) // 2
        rois = cfg.model.rpn_post_nms_top_n_test
        print(f"| {path.stem} | {image.params / 1e6:.2f}M | {side}x{side} | {image.madds / 1e9:.3f}B | "
              f"{per_roi / 1e6:.1f}M | {rois} | {(image.madds + rois * per_roi) / 1e9:.2f}B |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--short", type=int, default=320, help="shorter side of the (already resized) image")
    parser.add_argument("--long", type=int, default=427, help="longer side (427 = a 480x640 image resized to 320)")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--madds", action="store_true", help="print the complexity table of the configs instead")
    parser.add_argument("--num-classes", type=int, help="with --madds: override num_classes (90 = TF's label map)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.madds:
        madds_table(args.num_classes)
        return 0

    ours, tv, image = build_pair(args.config, args.short, args.long)
    h, w = image.shape[-2:]
    sample = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0))

    def run_ours():
        data = ours.data_preprocessor(dict(inputs=[image], data_samples=[dict(sample)]))
        return ours(**data, mode="predict")[0]["pred_boxes"]

    def run_tv():
        return tv([image.float() / 255])[0]["boxes"]

    with torch.inference_mode():
        t_tv, boxes_tv = _median_ms(run_tv, args.iters, args.warmup)
        t_ours, boxes_ours = _median_ms(run_ours, args.iters, args.warmup)
        t_tv2, _ = _median_ms(run_tv, args.iters, 0)  # again, to see drift on a shared machine
    t_tv = min(t_tv, t_tv2)
    print(f"input {h}x{w} (padded to multiples of 32), batch 1, {args.threads} thread(s), median of {args.iters}")
    print(f"torchvision fasterrcnn_mobilenet_v3_large_320_fpn: {t_tv:8.1f} ms  ({len(boxes_tv)} detections)")
    print(f"densenets {Path(args.config).name}: {t_ours:8.1f} ms  ({len(boxes_ours)} detections)")
    print(f"ours / torchvision = {t_ours / t_tv:.3f}")
    if len(boxes_tv) != len(boxes_ours):
        print("WARNING: the two models disagree on the number of detections", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
