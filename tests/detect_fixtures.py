"""Small detection datasets written at test time in COCO and YOLO layouts (same scenes).

`scenes(n, size, seed)` draws n images (H, W) with 1-3 filled rectangles each ("person",
category id 1) plus one "car" (category id 3) sometimes; `write_coco` / `write_yolo` write
the same scenes as the two layouts, so loaders and metrics can be compared across them.
"""

import json

import numpy as np
from PIL import Image

CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]


def scenes(n, size=(40, 64), seed=0):
    """[(image uint8 H x W x 3, [(category_id, x, y, w, h, iscrowd)])]."""
    rng = np.random.default_rng(seed)
    height, width = size
    out = []
    for _ in range(n):
        image = np.full((height, width, 3), rng.integers(0, 80), np.uint8)
        objects = []
        for _ in range(int(rng.integers(1, 4))):
            w, h = int(rng.integers(6, width // 2)), int(rng.integers(8, height - 2))
            x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            image[y:y + h, x:x + w] = (220, 200, 40)
            objects.append((1, x, y, w, h, 0))
        if rng.random() < 0.3:
            objects.append((3, 0, 0, 5, 5, 0))
        out.append((image, objects))
    return out


def write_coco(root, splits, crowd_first=False):
    """root/annotations/instances_<split>.json + root/images/<split>/<i>.png."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for split, items in splits.items():
        folder = root / "images" / split
        folder.mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for i, (image, objects) in enumerate(items):
            image_id = 100 + i
            Image.fromarray(image).save(folder / f"{i}.png")
            images.append({"id": image_id, "file_name": f"{i}.png", "height": image.shape[0],
                           "width": image.shape[1]})
            for k, (cat, x, y, w, h, crowd) in enumerate(objects):
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": cat, "bbox": [x, y, w, h], "area": w * h,
                                    "iscrowd": int(crowd or (crowd_first and k == 0))})
        (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(
            {"images": images, "annotations": annotations, "categories": CATEGORIES}))
    return root


def write_yolo(root, splits):
    """root/data.yaml + root/images/<split>/<i>.png + root/labels/<split>/<i>.txt."""
    index = {c["id"]: k for k, c in enumerate(CATEGORIES)}
    lines = [f"{s}: images/{s}" for s in splits]
    lines.append("names: [" + ", ".join(c["name"] for c in CATEGORIES) + "]")
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text("\n".join(lines) + "\n")
    for split, items in splits.items():
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i, (image, objects) in enumerate(items):
            Image.fromarray(image).save(root / "images" / split / f"{i}.png")
            height, width = image.shape[:2]
            rows = [f"{index[c]} {(x + w / 2) / width:.9f} {(y + h / 2) / height:.9f} "
                    f"{w / width:.9f} {h / height:.9f}" for c, x, y, w, h, _ in objects]
            (root / "labels" / split / f"{i}.txt").write_text("\n".join(rows))
    return root
