# Quick start:  make demo   (venv + install + demo data + train + evaluate on CPU)
#               make test   (venv + install + test suite)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.densenets-installed

.PHONY: install test demo demo-det demo-seg demo-frcnn clean-demo

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,mobile]'
	@touch $(STAMP)

install: $(STAMP)

# pytest exits 5 when it collected no tests; that is a failure here too.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --timeout=900 tests

# The demo: embedded synthetic data in the real on-disk formats, trained from scratch and evaluated on the CPU.
DEMO_DET_CFG := configs/demo/ssdlite_mbv3_large_demo.py
DEMO_DET_DIR := work_dirs/demo_ssdlite
DEMO_SEG_CFG := configs/demo/lraspp_mbv3_large_demo.py
DEMO_SEG_DIR := work_dirs/demo_lraspp
DEMO_FRCNN_CFG := configs/demo/faster_rcnn_mbv3_small_fpn_demo.py
DEMO_FRCNN_DIR := work_dirs/demo_frcnn

demo: demo-det

data/demo_coco/annotations/instances_val2017.json: | $(STAMP)
	$(PY) tools/make_demo_data.py coco --out data/demo_coco

data/demo_cityscapes/gtFine: | $(STAMP)
	$(PY) tools/make_demo_data.py cityscapes --out data/demo_cityscapes

demo-det: $(STAMP) data/demo_coco/annotations/instances_val2017.json
	$(PY) tools/train.py $(DEMO_DET_CFG) --work-dir $(DEMO_DET_DIR)
	$(PY) tools/test.py $(DEMO_DET_CFG) "$$(cat $(DEMO_DET_DIR)/last_checkpoint)" --work-dir $(DEMO_DET_DIR)/test
	$(PY) tools/infer.py $(DEMO_DET_CFG) "$$(cat $(DEMO_DET_DIR)/last_checkpoint)" \
		data/demo_coco/val2017/000000100001.jpg data/demo_coco/val2017/000000100002.jpg \
		--score-thr 0.5 --out-dir $(DEMO_DET_DIR)/predictions
	@echo "demo predictions drawn in $(DEMO_DET_DIR)/predictions/"

demo-seg: $(STAMP) data/demo_cityscapes/gtFine
	$(PY) tools/train.py $(DEMO_SEG_CFG) --work-dir $(DEMO_SEG_DIR)
	$(PY) tools/test.py $(DEMO_SEG_CFG) "$$(cat $(DEMO_SEG_DIR)/last_checkpoint)" --work-dir $(DEMO_SEG_DIR)/test \
		--show-dir $(DEMO_SEG_DIR)/predictions
	@echo "demo predictions drawn in $(DEMO_SEG_DIR)/predictions/"

demo-frcnn: $(STAMP) data/demo_coco/annotations/instances_val2017.json
	$(PY) tools/train.py $(DEMO_FRCNN_CFG) --work-dir $(DEMO_FRCNN_DIR)
	$(PY) tools/infer.py $(DEMO_FRCNN_CFG) "$$(cat $(DEMO_FRCNN_DIR)/last_checkpoint)" \
		data/demo_coco/val2017/000000100001.jpg data/demo_coco/val2017/000000100002.jpg \
		--score-thr 0.5 --out-dir $(DEMO_FRCNN_DIR)/predictions
	@echo "demo predictions drawn in $(DEMO_FRCNN_DIR)/predictions/"

clean-demo:
	rm -rf data/demo_coco data/demo_cityscapes $(DEMO_DET_DIR) $(DEMO_SEG_DIR) $(DEMO_FRCNN_DIR)
