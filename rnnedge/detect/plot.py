"""`rnnedge check --plot` for a detector: true boxes (green) and predicted boxes (red, with
scores) drawn on the first few check images, tiled into one PNG.

Predicted boxes are those scoring at least the F1-maximising threshold (or 0.25 when the
model found nothing), so the picture shows what the reported F1 counts.

May import: numpy, Pillow, rnnedge.files.
"""

import numpy as np

from rnnedge.files import atomic_output

COLUMNS = 4
DEFAULT_SHOWN = 8
SCALE = 2


def plot_detections(dataset, detections, threshold, path, count=DEFAULT_SHOWN):
    """Write the tiled PNG to `path`."""
    from PIL import Image, ImageDraw

    threshold = 0.25 if threshold is None else threshold
    tiles = []
    for i in range(min(count, len(dataset))):
        image = dataset.images[i]
        pil = Image.fromarray(image if image.shape[2] == 3 else image[:, :, 0]).convert("RGB")
        pil = pil.resize((pil.width * SCALE, pil.height * SCALE), Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(pil)
        for box in dataset.boxes[i]:
            draw.rectangle([float(v) * SCALE for v in box], outline=(0, 220, 0), width=2)
        boxes, scores, classes = detections[i]
        for box, score in zip(boxes, scores):
            if score >= threshold:
                corners = [float(v) * SCALE for v in box]
                draw.rectangle(corners, outline=(230, 0, 0), width=1)
                draw.text((corners[0] + 2, corners[1] + 1), f"{score:.2f}", fill=(230, 0, 0))
        tiles.append(np.asarray(pil))
    if not tiles:
        return
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // COLUMNS)
    sheet = np.full((rows * height, min(COLUMNS, len(tiles)) * width, 3), 255, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, COLUMNS)
        sheet[r * height:(r + 1) * height, c * width:(c + 1) * width] = tile
    with atomic_output(path, suffix=".png") as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
