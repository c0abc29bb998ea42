"""``weights=`` given as a torchvision weight name resolves to the file torchvision's own ``get_state_dict()``
reads from torch.hub's cache (``$TORCH_HOME/hub/checkpoints/<basename of the enum's url>``); nothing is downloaded."""
from __future__ import annotations

import os

import pytest
import torch
import torch.hub
import torchvision
from torchvision.models import MobileNet_V3_Large_Weights

from densenets.models.backbones import build_backbone
from densenets.models.backbones.torchvision_weights import resolve_weights

NAME = "MobileNet_V3_Large_Weights.IMAGENET1K_V1"
FILE = "mobilenet_v3_large-8738ca79.pth"  # torchvision's url for that enum: .../models/mobilenet_v3_large-8738ca79.pth


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch.hub cache under TORCH_HOME, and every download path made to fail loudly."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def no_download(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args[:1]}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    checkpoints = tmp_path / "hub" / "checkpoints"
    return checkpoints


def test_name_resolves_to_torchvision_cache_file(hub) -> None:
    assert MobileNet_V3_Large_Weights.IMAGENET1K_V1.url.endswith("/" + FILE)
    source = resolve_weights(NAME, "mobilenet_v3_large")
    assert source.path == os.path.join(torch.hub.get_dir(), "checkpoints", FILE) == str(hub / FILE)
    assert resolve_weights(MobileNet_V3_Large_Weights.IMAGENET1K_V1).path == source.path  # the enum member itself


def test_cached_file_is_loaded_the_way_torchvision_reads_it(hub) -> None:
    torch.manual_seed(0)
    tv = torchvision.models.mobilenet_v3_large().eval()
    hub.mkdir(parents=True)
    torch.save(tv.state_dict(), hub / FILE)
    # torchvision's own loader finds the same file (the download is patched to fail)
    tv_state = MobileNet_V3_Large_Weights.IMAGENET1K_V1.get_state_dict(progress=False, weights_only=True)
    assert torch.equal(tv_state["features.0.0.weight"], tv.state_dict()["features.0.0.weight"])
    backbone = build_backbone("mobilenet_v3_large", weights=NAME, out_taps=("C5",)).eval()
    assert backbone.load_report.complete and backbone.pending_weights is None
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(backbone(x)["C5"], tv.features(x), rtol=1e-4, atol=1e-5)


def test_missing_file_says_what_to_fetch_and_where(hub) -> None:
    with pytest.warns(UserWarning, match="not in torch.hub's cache"):
        backbone = build_backbone("mobilenet_v3_large", weights=NAME)
    assert backbone.load_report is None
    with pytest.raises(FileNotFoundError) as err:
        backbone.init_weights()
    msg = str(err.value)
    assert MobileNet_V3_Large_Weights.IMAGENET1K_V1.url in msg and str(hub / FILE) in msg
    # once the file is there, init_weights (the Runner calls it before training) loads it
    hub.mkdir(parents=True)
    torch.save(torchvision.models.mobilenet_v3_large().state_dict(), hub / FILE)
    backbone.init_weights()
    assert backbone.load_report.complete and backbone.pending_weights is None


@pytest.mark.parametrize("weights,error", [
    ("MobileNet_V2_Weights.IMAGENET1K_V1", "mobilenet_v2 weights, but this backbone is mobilenet_v3_large"),
    ("MobileNet_V3_Large_Weights.NOPE", "not a torchvision weight name"),
    ("FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1", "only classification weights"),
])
def test_wrong_names_are_refused(hub, weights: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        build_backbone("mobilenet_v3_large", weights=weights)


def test_a_local_path_is_still_a_path(hub, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        build_backbone("mobilenet_v3_large", weights=str(tmp_path / "MobileNet_V3_Large_Weights.pth"))
