"""mmengine registries for densenets (children of mmengine's root registries).

Only what the Runner builds from a config is registered: models, datasets, transforms, metrics, hooks.
Inside a model, layers are plain Python. mmengine finds these registries through ``default_scope='densenets'``
(it imports ``densenets.registry``), and the ``locations`` make it import the modules that register into them.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

MODELS = Registry("model", parent=MMENGINE_MODELS, locations=["densenets.models"])
MODEL_WRAPPERS = Registry("model_wrapper", parent=MMENGINE_MODEL_WRAPPERS, locations=["densenets.engine"])
WEIGHT_INITIALIZERS = Registry("weight initializer", parent=MMENGINE_WEIGHT_INITIALIZERS)
DATASETS = Registry("dataset", parent=MMENGINE_DATASETS, locations=["densenets.datasets"])
DATA_SAMPLERS = Registry("data sampler", parent=MMENGINE_DATA_SAMPLERS, locations=["densenets.datasets"])
TRANSFORMS = Registry("transform", parent=MMENGINE_TRANSFORMS, locations=["densenets.datasets"])
METRICS = Registry("metric", parent=MMENGINE_METRICS, locations=["densenets.evaluation"])
EVALUATOR = Registry("evaluator", parent=MMENGINE_EVALUATOR, locations=["densenets.evaluation"])
HOOKS = Registry("hook", parent=MMENGINE_HOOKS, locations=["densenets.engine"])
LOOPS = Registry("loop", parent=MMENGINE_LOOPS, locations=["densenets.engine"])
RUNNERS = Registry("runner", parent=MMENGINE_RUNNERS, locations=["densenets.engine"])
OPTIMIZERS = Registry("optimizer", parent=MMENGINE_OPTIMIZERS, locations=["densenets.engine"])
OPTIM_WRAPPERS = Registry("optim_wrapper", parent=MMENGINE_OPTIM_WRAPPERS, locations=["densenets.engine"])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    "optimizer wrapper constructor", parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, locations=["densenets.engine"]
)
PARAM_SCHEDULERS = Registry("parameter scheduler", parent=MMENGINE_PARAM_SCHEDULERS, locations=["densenets.engine"])
LOG_PROCESSORS = Registry("log_processor", parent=MMENGINE_LOG_PROCESSORS, locations=["densenets.engine"])
VISBACKENDS = Registry("vis_backend", parent=MMENGINE_VISBACKENDS, locations=["densenets.engine"])
VISUALIZERS = Registry("visualizer", parent=MMENGINE_VISUALIZERS, locations=["densenets.engine"])
