"""The demo generator writes COCO's exact format, deterministically, with what the demo promises."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path

from PIL import Image
from pycocotools.coco import COCO

from densenets.datasets.demo import DEMO_CATEGORIES, make_coco_demo
from tool_loader import load_tool



def _digest(root: Path) -> dict[str, str]:
    files = (p for p in sorted(root.rglob("*")) if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_format_and_contents(tmp_path):
    paths = make_coco_demo(str(tmp_path), num_train=36, num_val=12, seed=3)
    for split, ann in paths.items():
        doc = json.loads(Path(ann).read_text())
        assert set(doc) == {"info", "licenses", "images", "annotations", "categories"}
        assert [(c["id"], c["name"]) for c in doc["categories"]] == list(DEMO_CATEGORIES)
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(ann)  # pycocotools reads it
        img_dir = tmp_path / f"{split}2017"
        for info in doc["images"]:
            with Image.open(img_dir / info["file_name"]) as im:
                assert im.format == "JPEG" and im.mode == "RGB" and im.size == (info["width"], info["height"])
                assert 240 <= im.height <= 400
        ids = [a["id"] for a in doc["annotations"]]
        assert len(ids) == len(set(ids))
        for a in doc["annotations"]:
            x, y, w, h = a["bbox"]
            info = coco.imgs[a["image_id"]]
            assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= info["width"] + 1e-6
            assert y + h <= info["height"] + 1e-6 and a["area"] > 0
            assert isinstance(a["segmentation"], dict if a["iscrowd"] else list)
        crowd = [a for a in doc["annotations"] if a["iscrowd"]]
        objs = [a for a in doc["annotations"] if not a["iscrowd"]]
        assert crowd and len({a["image_id"] for a in objs}) < len(doc["images"])  # crowds and empty images
        if split == "train":
            areas = [a["area"] for a in objs]
            assert min(areas) < 32**2 and max(areas) > 96**2  # small, medium and large objects
            assert sum(32**2 <= a < 96**2 for a in areas) > 0.3 * len(areas)
            assert {a["category_id"] for a in objs} == {c for c, _ in DEMO_CATEGORIES}


def test_same_seed_same_bytes_and_cli(tmp_path):
    make_coco_demo(str(tmp_path / "a"), num_train=4, num_val=2, seed=7)
    cli = load_tool("make_demo_data.py")
    assert cli.main(["coco", "--out", str(tmp_path / "b"), "--num-train", "4", "--num-val", "2", "--seed", "7"]) == 0
    make_coco_demo(str(tmp_path / "c"), num_train=4, num_val=2, seed=8)
    a, b, c = (_digest(tmp_path / n) for n in "abc")
    assert a == b and len(a) == 8
    assert a["train2017/000000000001.jpg"] != c["train2017/000000000001.jpg"]
    # an image does not depend on how many images are generated
    make_coco_demo(str(tmp_path / "d"), num_train=2, num_val=0, seed=7)
    assert _digest(tmp_path / "d")["train2017/000000000002.jpg"] == a["train2017/000000000002.jpg"]
