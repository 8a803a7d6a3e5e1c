"""Background removal: segmentation (embedded U2-Net-p, user ONNX models, a classical fallback), edge
refinement, stroke corrections, replacement backgrounds and batches.

Pure numpy/OpenCV/onnxruntime work on arrays; nothing here imports Jupyter or reaches the network.
"""

from .classical import border_model, classical_matte
from .refine import estimate_foreground, guided_filter, refine_guided, refine_matting, trimap_from_matte
from .removal import METHODS, REFINES, BackgroundResult, remove_background
from .segmentation import NORMALIZATIONS, predict_matte, u2netp_model_path

__all__ = [
    "METHODS",
    "NORMALIZATIONS",
    "REFINES",
    "BackgroundResult",
    "border_model",
    "classical_matte",
    "estimate_foreground",
    "guided_filter",
    "predict_matte",
    "refine_guided",
    "refine_matting",
    "remove_background",
    "trimap_from_matte",
    "u2netp_model_path",
]
