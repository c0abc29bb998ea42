"""Malformed COCO records name the file and the record; a dataset left empty says what was filtered and why."""
from __future__ import annotations

import json

import pytest

from densenets.datasets.coco_gt import AnnotationError


def _edit(path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), r"annotations\[0\] \(id 1, image 1\): 'bbox' must be 4"),
    (lambda d: d["annotations"][1].pop("bbox"), r"annotations\[1\] \(id 2, image 1\): no 'bbox'"),
    (lambda d: d["annotations"][0].pop("image_id"), r"annotations\[0\] \(id 1, image None\): no 'image_id'"),
    (lambda d: d["annotations"][0].update(bbox=[1, "2", 3, 4]), r"annotations\[0\].*'bbox' must be 4 numbers"),
    (lambda d: d["annotations"][0].update(image_id=99), r"annotations\[0\].*image_id 99 is not in 'images'"),
    (lambda d: d["images"][0].pop("width"), r"images\[0\] \(id 1, 'a.jpg'\): no 'width'"),
    (lambda d: d["images"][0].update(height=0), r"images\[0\].*'height' must be a positive integer"),
    (lambda d: d["images"][0].pop("id"), r"images\[0\].*'id' must be an integer"),
    (lambda d: d["categories"][0].pop("name"), r"categories\[0\] needs an integer 'id' and a 'name'"),
])
def test_malformed_record_names_file_and_record(make_coco, coco_builder, edit, message) -> None:
    ann = make_coco([("a.jpg", 40, 60)], [dict(image_id=1, category_id=1, bbox=[5, 5, 10, 8]),
                                           dict(image_id=1, category_id=3, bbox=[20, 5, 10, 8])])
    _edit(ann, edit)
    with pytest.raises(AnnotationError, match=rf"{ann}: {message}"):
        coco_builder(ann)


def test_no_annotations_names_the_file_and_why(make_coco, coco_builder) -> None:
    ann = make_coco([("a.jpg", 40, 60), ("b.jpg", 40, 60)], [])
    with pytest.raises(ValueError, match=rf"{ann}: none of its 2 images has a usable object for training.*"
                                         "no annotations of the used classes"):
        coco_builder(ann)
    coco_builder(ann, test_mode=True)  # evaluation keeps images without objects


def test_crowd_only_dataset_says_the_crowds_were_filtered(make_coco, coco_builder) -> None:
    ann = make_coco([("a.jpg", 40, 60)], [dict(image_id=1, category_id=1, bbox=[5, 5, 10, 8], iscrowd=1),
                                           dict(image_id=1, category_id=1, bbox=[5, 5, 0, 8])])
    with pytest.raises(ValueError, match=r"none of its 1 images.*1 crowd boxes excluded.*1 boxes with zero/negative"):
        coco_builder(ann)


def test_subset_of_classes_without_objects_names_the_classes(make_coco, coco_builder) -> None:
    ann = make_coco([("a.jpg", 40, 60)], [dict(image_id=1, category_id=1, bbox=[5, 5, 10, 8])])
    with pytest.raises(ValueError, match=r"Classes used: b"):
        coco_builder(ann, metainfo=dict(classes=("b",)))


def test_json_without_images_is_an_error_in_evaluation_too(make_coco, coco_builder) -> None:
    ann = make_coco([], [])
    with pytest.raises(ValueError, match=rf"{ann}: no images in the annotation file; nothing to use for evaluation"):
        coco_builder(ann, test_mode=True)


def test_non_finite_box_is_its_own_counted_reason(make_coco, coco_builder) -> None:
    ann = make_coco([("a.jpg", 40, 60)], [dict(image_id=1, category_id=1, bbox=[5, 5, 10, 8]),
                                           dict(image_id=1, category_id=1, bbox=[5, float("nan"), 10, 8])])
    ds = coco_builder(ann, test_mode=True)
    assert ds.problem_counts() == {"boxes with non-finite coordinates dropped": 1}
