"""The FPN form against torchvision's ``fasterrcnn_mobilenet_v3_large_320_fpn``: parameter count and, with shared
weights, the same features, proposals and detections."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

from realistic_model import calibrate_torchvision_detector

from densenets.analysis import count_complexity
from densenets.models.detectors.faster_rcnn import FasterRCNN, load_torchvision_detector

TV_NUM_PARAMS = 19_386_354  # torchvision's weights meta: counted with the backbone's BN frozen (buffers, not params)


def _ours(**kwargs) -> FasterRCNN:
    return FasterRCNN(
        dict(name="mobilenet_v3_large", bn_eps=1e-5), num_classes=90, neck="fpn", roi_head="two_mlp",
        fpn_taps=("block13.out", "C5"), **kwargs,
    )


def test_parameter_count_matches_torchvision():
    torch.manual_seed(0)
    model = _ours()
    tv = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None)
    total = sum(p.numel() for p in model.parameters())
    assert total == sum(p.numel() for p in tv.parameters())  # both with trainable BN: 19,410,754
    backbone_bn = sum(p.numel() for m in model.backbone.modules() if isinstance(m, nn.BatchNorm2d)
                      for p in m.parameters())
    assert total - backbone_bn == TV_NUM_PARAMS
    # the paper's C4 (bneck-13 expansion, 672 ch, OS 16) as the FPN's fine level would be a different model
    c4 = FasterRCNN(dict(name="mobilenet_v3_large"), num_classes=90, neck="fpn", roi_head="two_mlp")
    assert sum(p.numel() for p in c4.parameters()) - total == (672 - 160) * 256


@pytest.mark.parametrize("frozen_bn", [False, True], ids=["batchnorm", "frozen_bn"])
def test_shared_weights_give_torchvision_outputs(tmp_path, frozen_bn):
    """``frozen_bn``: the checkpoint layout of torchvision's trained detectors (its COCO weights), whose backbone BN is
    ``FrozenBatchNorm2d``, without ``num_batches_tracked`` buffers."""
    torch.manual_seed(0)
    settings = dict(rpn_pre_nms_top_n_test=150, rpn_post_nms_top_n_test=150, rpn_score_thresh=0.05,
                    box_score_thresh=0.0)
    tv = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, min_size=150, max_size=640,
                                               box_score_thresh=0.0).eval()
    # already at min_size (torchvision won't resize) and not a multiple of 32 (both pad to 160 x 224 with zeros)
    image = torch.randint(0, 256, (3, 150, 213), dtype=torch.uint8)
    calibrate_torchvision_detector(tv, [image])
    path = tmp_path / "tv_frcnn.pth"
    state = tv.state_dict()
    if frozen_bn:
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        assert len(state) < len(tv.state_dict())
    torch.save(state, path)
    model = _ours(**settings).eval()
    load_torchvision_detector(model, str(path))

    with torch.no_grad():
        expected = tv([image.float() / 255])[0]
        data = model.data_preprocessor(dict(inputs=[image], data_samples=[dict(
            img_shape=(150, 213), ori_shape=(150, 213), scale_factor=(1.0, 1.0))]))
        feats_tv = tv.backbone(tv.transform([image.float() / 255])[0].tensors)
        feats = model.extract_feat(data["inputs"])
        got = model(**data, mode="predict")[0]
    assert list(feats) == ["block13.out", "C5", "pool"]
    for ours, theirs in zip(feats.values(), feats_tv.values()):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    k = min(20, len(expected["boxes"]))
    assert k > 0 and len(got["pred_boxes"]) == len(expected["boxes"])
    torch.testing.assert_close(got["pred_boxes"][:k], expected["boxes"][:k], rtol=1e-3, atol=1e-2)
    torch.testing.assert_close(got["pred_scores"][:k], expected["scores"][:k], rtol=1e-3, atol=1e-4)
    assert torch.equal(got["pred_labels"][:k], expected["labels"][:k] - 1)


def test_torchvision_loader_rejects_other_checkpoints(tmp_path):
    path = tmp_path / "bad.pth"
    torch.save({"rpn.head.conv.0.0.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="bad.pth"):
        load_torchvision_detector(_ours(), str(path))


def test_image_madds_match_torchvision_ops_figure():
    """torchvision's weights meta gives 0.719 GFLOPS for the 320 model: the network up to the RPN outputs at
    320 x 320 (the box head is not counted there); in tensor mode with no RoIs we count exactly that."""
    model = _ours(tensor_num_rois=0)
    assert round(count_complexity(model, (320, 320)).madds / 1e9, 3) == 0.719
