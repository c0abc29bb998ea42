"""Model-side contracts shared by every model: one backbone-from-config builder and a declared ``task``."""
from __future__ import annotations

import pytest
import torch
from mmengine.model import BaseModel
from torch import nn

from densenets.analysis.bench_inputs import task_of
from densenets.deploy.wrappers import task_of as _task
from densenets.models import EncoderDecoder, FasterRCNN, ImageClassifier, SSDLite
from densenets.models.backbones import build_backbone
from densenets.models.builder import backbone_from_config
from densenets.registry import MODELS

TASKS = {"detection", "segmentation", "classification"}


def _bn_eps(module: nn.Module) -> set[float]:
    return {m.eps for m in module.modules() if isinstance(m, nn.BatchNorm2d)}


def test_builder_builds_from_a_config_with_the_models_taps_and_defaults():
    backbone = backbone_from_config(dict(name="mobilenet_v1", width_mult=0.25), ("C4", "C5"), "M", dict(bn_eps=0.01))
    assert backbone.out_taps == ("C4", "C5") and _bn_eps(backbone) == {0.01}
    explicit = backbone_from_config(dict(type="mobilenet_v1", width_mult=0.25, bn_eps=1e-5), ("C5",), "M",
                                    dict(bn_eps=0.01))  # the config's own option wins over the model's default
    assert explicit.out_taps == ("C5",) and _bn_eps(explicit) == {1e-5}


def test_builder_retaps_a_built_backbone():
    built = build_backbone("mobilenet_v1", width_mult=0.25, out_taps=("C5",))
    assert backbone_from_config(built, ("OS8", "C4"), "M") is built and built.out_taps == ("OS8", "C4")


def test_builder_errors_name_the_model():
    with pytest.raises(ValueError, match="FasterRCNN: the backbone config needs a 'name'"):
        backbone_from_config(dict(width_mult=0.5), ("C4",), "FasterRCNN")
    with pytest.raises(ValueError, match="backbone.out_taps is set by ImageClassifier"):
        ImageClassifier("mobilenet_v1", width_mult=0.25, out_taps=("C4",))
    with pytest.raises(KeyError, match="unknown backbone 'resnet50'"):
        backbone_from_config(dict(name="resnet50"), ("C5",), "M")


def test_ssdlite_backbone_takes_the_models_bn_and_its_own_taps():
    model = SSDLite(dict(name="mobilenet_v3_small", out_taps=("OS8", "C5")), num_classes=2, bn_eps=0.002)
    assert model.backbone.out_taps == ("OS8", "C5") and _bn_eps(model.backbone) == {0.002}
    assert list(model.neck.output_shape())[:2] == ["OS8", "C5"]


def test_every_registered_model_declares_its_task():
    models = [cls for cls in MODELS.module_dict.values() if isinstance(cls, type) and cls.__module__.startswith(
        "densenets.") and (issubclass(cls, BaseModel) or cls is ImageClassifier)
        and cls.__name__ not in ("ExportedModel", "QATModel")]  # not the tests' own models; an ExportedModel and
    # a QATModel (densenets/deploy) take the task of the model they stand for
    assert {SSDLite, FasterRCNN, EncoderDecoder, ImageClassifier} <= set(models)
    for cls in models:
        assert cls.task in TASKS, cls.__name__


@pytest.mark.parametrize(
    "build, task, family",
    [
        (lambda: SSDLite(dict(name="mobilenet_v3_small"), num_classes=2), "detection", "ssdlite"),
        (lambda: FasterRCNN(dict(name="mobilenet_v1", width_mult=0.25), num_classes=2), "detection", "faster_rcnn"),
        (lambda: EncoderDecoder(dict(name="mobilenet_v3_small"), dict(type="LRASPPHead", num_classes=3, channels=8)),
         "segmentation", "segmentation"),
        (lambda: ImageClassifier("mobilenet_v1", width_mult=0.25), "classification", "classification"),
        (lambda: build_backbone("mobilenet_v1", width_mult=0.25), None, "other"),
    ],
    ids=["ssdlite", "faster_rcnn", "segmentor", "classifier", "bare_backbone"],
)
def test_tools_read_the_task_attribute(build, task, family):
    torch.manual_seed(0)
    model = build()
    assert getattr(model, "task", None) == task
    assert task_of(model) == family
    assert _task(model) == ("ssdlite" if family == "ssdlite" else task or "other")
