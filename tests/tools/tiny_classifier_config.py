# A small config for the complexity CLI test: an ImageClassifier built from the MODELS registry.
default_scope = "densenets"
model = dict(type="ImageClassifier", backbone_name="shufflenet_v2", num_classes=10, width_mult=0.5)
