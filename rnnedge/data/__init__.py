"""Datasets for training and checking: CIFAR-10/100 pickles, image folders, and the embedded
synthetic default, all as one in-memory `Dataset` (uint8 HWC images, int labels, class names).

`open_dataset(spec, split, image_shape)` is the entry point (see `rnnedge.data.spec`);
`rnnedge.data.torch_adapter` turns a Dataset into normalised, augmented PyTorch batches.
Modules: base (the Dataset type and checks), safe_pickle (restricted unpickler), cifar,
folder, synthetic, spec, torch_adapter. Nothing here imports model code.
"""

from rnnedge.data.base import SPLITS, Augmentation, Dataset
from rnnedge.data.spec import open_dataset

__all__ = ["SPLITS", "Augmentation", "Dataset", "open_dataset"]
