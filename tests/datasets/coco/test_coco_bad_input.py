"""Every kind of bad input CocoDetection documents: image files and annotations."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from densenets.datasets.image_io import BadImageError, ImageSizeMismatchError, load_rgb


def test_image_modes_become_rgb(write_image):
    gray = np.tile(np.arange(60, dtype=np.uint8) * 4, (40, 1))
    p = write_image("gray.png", gray)
    d = p.parent
    out = load_rgb(str(p))
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8 and out.flags.writeable
    np.testing.assert_array_equal(out[..., 1], gray)

    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 7  # alpha dropped, colour kept
    np.testing.assert_array_equal(load_rgb(str(write_image("rgba.png", rgba)))[0, 0], [200, 0, 0])

    cmyk = Image.new("CMYK", (60, 40), (0, 255, 255, 0))  # pure red in CMYK
    cmyk.save(d / "cmyk.jpg", "JPEG", quality=95)
    red = load_rgb(str(d / "cmyk.jpg"))
    assert red.shape == (40, 60, 3) and red[..., 0].mean() > 200 and red[..., 1:].mean() < 50

    pal = Image.fromarray(np.zeros((40, 60), np.uint8), "P")
    pal.putpalette([10, 20, 30] + [0] * 765)
    pal.info["transparency"] = 0
    path = d / "pal.png"
    pal.save(path)
    np.testing.assert_array_equal(load_rgb(str(path))[5, 5], [10, 20, 30])

    sixteen = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    path = d / "16bit.png"
    Image.fromarray(sixteen).save(path)
    assert Image.open(path).mode.startswith("I")
    np.testing.assert_array_equal(load_rgb(str(path))[0, :, 0], [0, 128, 255])  # scaled, not clipped to white


def test_exif_orientation_not_applied(write_image):
    arr = np.zeros((40, 60, 3), np.uint8)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    p = write_image("plain.jpg", arr, fmt="JPEG")
    img.save(p.parent / "exif.jpg", "JPEG", exif=exif)
    assert Image.open(p.parent / "exif.jpg").getexif()[0x0112] == 6
    assert load_rgb(str(p.parent / "exif.jpg"), expected_hw=(40, 60)).shape == (40, 60, 3)  # raw orientation


def _truncated(write_image):
    rng = np.random.default_rng(0)
    p = write_image("trunc.jpg", rng.integers(0, 255, (40, 60, 3), dtype=np.uint8), fmt="JPEG", quality=95)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def test_unreadable_files_raise_naming_the_file(write_image):
    p = _truncated(write_image)
    with pytest.raises(BadImageError, match="trunc.jpg"):
        load_rgb(str(p))
    (p.parent / "text.jpg").write_text("not an image")
    with pytest.raises(BadImageError, match="text.jpg.*not a decodable image"):
        load_rgb(str(p.parent / "text.jpg"))
    with pytest.raises(BadImageError, match="missing.jpg: image file not found"):
        load_rgb(str(p.parent / "missing.jpg"))


def test_size_mismatch_is_an_error_naming_the_file(make_coco, coco_builder):
    ann = make_coco([("a.jpg", 40, 60)], [dict(image_id=1, category_id=1, bbox=[1, 1, 10, 10])])
    Image.new("RGB", (61, 40)).save(ann.parent / "img" / "a.jpg")
    for on_bad in ("skip", "raise"):
        ds = coco_builder(ann, on_bad_image=on_bad)
        with pytest.raises(ImageSizeMismatchError, match=r"a\.jpg.*40x60.*40x61"):
            ds[0]


def test_bad_image_policy(make_coco, write_image, coco_builder):
    images = [("good.jpg", 40, 60), ("trunc.jpg", 40, 60), ("missing.jpg", 40, 60)]
    anns = [dict(image_id=i, category_id=1, bbox=[1, 1, 10, 10]) for i in (1, 2, 3)]
    ann = make_coco(images, anns)
    _truncated(write_image)
    (ann.parent / "img" / "missing.jpg").unlink()

    ds = coco_builder(ann)  # training, on_bad_image="skip" (default): another image is drawn
    assert ds.on_bad_image == "skip"
    for idx in (1, 2):
        assert ds[idx]["data_samples"]["img_path"].endswith("good.jpg")
    assert ds.num_bad_images >= 2

    ds = coco_builder(ann, on_bad_image="raise")
    with pytest.raises(BadImageError, match="trunc.jpg"):
        ds[1]
    with pytest.raises(BadImageError, match="missing.jpg"):
        ds[2]

    ds = coco_builder(ann, test_mode=True)  # evaluation never silently skips
    with pytest.raises(BadImageError, match="trunc.jpg"):
        ds[1]
    with pytest.raises(ValueError, match="on_bad_image"):
        coco_builder(ann, on_bad_image="ignore")


def test_box_cleaning_is_counted_and_logged_once(make_coco, monkeypatch, coco_builder):
    import densenets.datasets.coco as coco_module

    logged: list[str] = []
    monkeypatch.setattr(coco_module, "print_log", lambda msg, **kw: logged.append(msg))
    anns = [
        dict(image_id=1, category_id=1, bbox=[5, 5, 10, 8]),  # kept as is
        dict(image_id=1, category_id=3, bbox=[5, 5, 0, 8]),  # zero width: dropped
        dict(image_id=1, category_id=3, bbox=[5, 5, 4, -2]),  # negative height: dropped
        dict(image_id=1, category_id=1, bbox=[-4, 30, 10, 20]),  # partly outside (x < 0, y2 > 40): clipped
        dict(image_id=1, category_id=3, bbox=[55, -3, 20, 10]),  # partly outside (x2 > 60, y < 0): clipped
        dict(image_id=1, category_id=1, bbox=[60, 5, 10, 10]),  # entirely outside on the right: dropped
        dict(image_id=1, category_id=1, bbox=[-20, 5, 15, 10]),  # entirely outside on the left: dropped
        dict(image_id=1, category_id=3, bbox=[2, 2, 30, 30], iscrowd=1),  # crowd: not a target
    ]
    ann = make_coco([("a.jpg", 40, 60)], anns)
    ds = coco_builder(ann, test_mode=True)
    s = ds[0]["data_samples"]
    np.testing.assert_allclose(
        s["gt_boxes"].numpy(), [[5, 5, 15, 13], [0, 30, 6, 40], [55, 0, 60, 7]], atol=1e-6
    )
    assert s["gt_labels"].tolist() == [0, 0, 1]
    assert ds.problem_counts() == {
        "boxes with zero/negative size dropped": 2,
        "boxes partly outside the image clipped": 2,
        "boxes entirely outside the image dropped": 2,
        "crowd boxes excluded from training targets": 1,
    }
    assert len(logged) == 5  # a summary line + one line per reason, once per dataset
    assert any("2 boxes partly outside the image clipped (e.g. a.jpg)" in m for m in logged)
    ds[0]
    assert len(logged) == 5


def test_unknown_category_names_file_and_annotation(make_coco, coco_builder):
    anns = [dict(image_id=1, category_id=1, bbox=[1, 1, 5, 5]), dict(image_id=1, category_id=42, bbox=[1, 1, 5, 5])]
    ann = make_coco([("a.jpg", 40, 60)], anns)
    with pytest.raises(ValueError, match=r"ann\.json: annotation id 2 .*category_id 42"):
        coco_builder(ann)


def test_not_a_coco_file(tmp_path, coco_builder):
    (tmp_path / "img").mkdir()
    bad = tmp_path / "ann.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="ann.json: cannot read"):
        coco_builder(bad)
    bad.write_text('{"images": []}')
    with pytest.raises(ValueError, match="ann.json: not a COCO detection file"):
        coco_builder(bad)
