"""Background removal: segmentation (embedded U2-Net-p, user ONNX models, a classical fallback), edge
refinement, stroke corrections, replacement backgrounds and batches.

Pure numpy/OpenCV/onnxruntime work on arrays; nothing here imports Jupyter or reaches the network.
"""

from .batch import BATCH_FORMATS, BatchItem, BatchReport, remove_background_batch
from .classical import border_model, classical_matte
from .plate import Plate, fit_plate
from .refine import estimate_foreground, guided_filter, refine_guided, refine_matting, trimap_from_matte
from .removal import METHODS, REFINES, BackgroundResult, remove_background
from .replace import BACKGROUND_TEMPLATES, DEFAULT_SHADOW, drop_shadow, render_background, replace_background
from .segmentation import NORMALIZATIONS, predict_matte, predict_mattes, u2netp_model_path
from .writing import CUTOUT_FORMATS, encode_cutout
from .fusion import studio_matte

__all__ = [
    "BACKGROUND_TEMPLATES",
    "BATCH_FORMATS",
    "CUTOUT_FORMATS",
    "encode_cutout",
    "predict_mattes",
    "BatchItem",
    "BatchReport",
    "DEFAULT_SHADOW",
    "drop_shadow",
    "remove_background_batch",
    "render_background",
    "replace_background",
    "METHODS",
    "NORMALIZATIONS",
    "Plate",
    "REFINES",
    "BackgroundResult",
    "border_model",
    "classical_matte",
    "estimate_foreground",
    "fit_plate",
    "guided_filter",
    "predict_matte",
    "refine_guided",
    "refine_matting",
    "remove_background",
    "studio_matte",
    "trimap_from_matte",
    "u2netp_model_path",
]
