"""Datasets: synthetic videos written in the real layouts, and loaders for those layouts (docs/method.md sections 5, 6, 8).

- `synthetic`: `generate_all(root, "smoke" | "cpu" | SyntheticConfig)` writes YouTube-VOS,
  DAVIS-2016, FBMS-style sparse, DUTS-TE and VOC 2012 layouts (scene model in `scene`, shapes
  and textures in `shapes`, `textures`).
- loaders: `YouTubeVOSPairs` (training pairs, docs/method.md section 5 transforms in `transforms`),
  `DAVIS2016` / `DAVISLike` (video object segmentation), `DUTSTE` (saliency), `VOC2012`
  (semantic segmentation).
- `io`: image / mask / label reading with documented repairs and `DatasetError` for bad input.
"""

from .davis import DAVIS2016, DAVISLike, VOSSequence
from .duts import DUTSTE, SaliencySample
from .io import DatasetError, DatasetFileNotFoundError, load_frame, load_mask, read_label, read_mask, read_rgb
from .scene import SceneConfig
from .synthetic import PRESETS, SyntheticConfig, SyntheticDatasets, generate, generate_all, generate_more_davis
from .transforms import PairTransform, resize_images
from .voc import VOC2012, VOC_CLASSES, VOC_IGNORE_INDEX, VOC_NUM_CLASSES, SegmentationSample, voc_colormap
from .youtube_vos import PairSample, YouTubeVOSPairs

__all__ = [
    "DAVIS2016", "DAVISLike", "DUTSTE", "PRESETS", "VOC2012", "VOC_CLASSES", "VOC_IGNORE_INDEX",
    "VOC_NUM_CLASSES", "DatasetError", "DatasetFileNotFoundError", "PairSample", "PairTransform", "resize_images",
    "SaliencySample", "SceneConfig", "SegmentationSample", "SyntheticConfig", "SyntheticDatasets",
    "VOSSequence", "YouTubeVOSPairs", "generate", "generate_all", "generate_more_davis", "load_frame", "load_mask",
    "read_label", "read_mask", "read_rgb", "voc_colormap",
]
