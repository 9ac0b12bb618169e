"""Detection metrics by the field's own tool: pycocotools' COCOeval.

`coco_metrics(detections, dataset)` maps every detection back to its original image pixels
(undoing the letterbox), builds the ground truth as COCO json in memory (crowd boxes with
iscrowd 1, so COCOeval ignores detections on them as it does for COCO), and runs COCOeval
(bbox, maxDets 100). AP50 is stats[1] and AP50:95 stats[0], in percent.

F1 at the best confidence threshold comes from the same COCOeval matching: its per-image
matches at IoU 0.5 over all areas (evalImgs: dtMatches, dtIgnore, gtIgnore), pooled over
classes and images, sorted by score as COCOeval's accumulate sorts them; precision and
recall at each distinct score give F1, and the threshold that maximises it is reported with
it (micro-averaged over classes). Nothing here computes AP itself.

May import: contextlib, io, numpy, pycocotools.
"""

import contextlib
import io

import numpy as np


def ground_truth(dataset):
    """The dataset's boxes as a COCO ground-truth dict, in original image pixels."""
    images, annotations = [], []
    for i in range(len(dataset)):
        height, width = dataset.original_sizes[i]
        image_id = dataset.image_ids[i]
        images.append({"id": image_id, "width": width, "height": height})
        boxes = dataset.letterboxes[i].to_original(dataset.boxes[i])
        for box, label, crowd in zip(boxes, dataset.labels[i], dataset.crowd[i]):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": int(label) + 1, "iscrowd": int(crowd),
                                "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h})
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(dataset.class_names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def detection_records(detections, dataset):
    """COCO result records from per-image (boxes, scores, classes) in letterboxed pixels."""
    records = []
    for i, (boxes, scores, classes) in enumerate(detections):
        original = dataset.letterboxes[i].to_original(boxes)
        height, width = dataset.original_sizes[i]
        original[:, [0, 2]] = original[:, [0, 2]].clip(0, width)
        original[:, [1, 3]] = original[:, [1, 3]].clip(0, height)
        for box, score, cls in zip(original, scores, classes):
            records.append({"image_id": dataset.image_ids[i], "category_id": int(cls) + 1,
                            "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                     float(box[3] - box[1])], "score": float(score)})
    return records


def run_cocoeval(gt_dict, records):
    """A COCOeval (bbox) evaluated and accumulated on `records`, or None without records.
    pycocotools' prints are swallowed (stdout carries --json)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not records:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_dict
        gt.createIndex()
        dt = gt.loadRes(records)
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def best_f1(evaluator):
    """(F1, threshold, precision, recall) at the score threshold maximising F1, from
    COCOeval's matches at IoU 0.5, all areas, maxDets[-1]."""
    params = evaluator.params
    iou_index = int(np.argmin(np.abs(np.asarray(params.iouThrs) - 0.5)))
    all_area = params.areaRngLbl.index("all")
    max_det = params.maxDets[-1]
    scores, matched, ignored, positives = [], [], [], 0
    for entry in evaluator.evalImgs:
        if entry is None or entry["aRng"] != params.areaRng[all_area] or entry["maxDet"] != max_det:
            continue
        positives += int(np.sum(np.asarray(entry["gtIgnore"]) == 0))
        count = min(len(entry["dtScores"]), max_det)
        scores.append(np.asarray(entry["dtScores"][:count]))
        matched.append(np.asarray(entry["dtMatches"])[iou_index, :count] > 0)
        ignored.append(np.asarray(entry["dtIgnore"])[iou_index, :count].astype(bool))
    if not scores or positives == 0:
        return 0.0, None, 0.0, 0.0
    scores, matched, ignored = (np.concatenate(v) for v in (scores, matched, ignored))
    order = np.argsort(-scores, kind="mergesort")
    scores, matched, ignored = scores[order], matched[order], ignored[order]
    tp = np.cumsum(matched & ~ignored)
    fp = np.cumsum(~matched & ~ignored)
    last = np.r_[scores[1:] != scores[:-1], True]  # a threshold takes every tied score
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / positives
    f1 = np.where(precision + recall > 0, 2 * precision * recall /
                  np.maximum(precision + recall, 1e-12), 0.0)
    f1 = np.where(last, f1, -1.0)
    best = int(np.argmax(f1))
    return (100.0 * float(f1[best]), float(scores[best]), 100.0 * float(precision[best]),
            100.0 * float(recall[best]))


def coco_metrics(detections, dataset):
    """{"ap50", "ap", "f1", "threshold", "precision", "recall", "detections", "objects"}
    (percent) of per-image detections on `dataset`."""
    records = detection_records(detections, dataset)
    evaluator = run_cocoeval(ground_truth(dataset), records)
    result = {"ap50": 0.0, "ap": 0.0, "f1": 0.0, "threshold": None, "precision": 0.0,
              "recall": 0.0, "detections": len(records), "objects": dataset.objects()}
    if evaluator is None:
        return result
    stats = evaluator.stats
    result["ap"], result["ap50"] = (max(0.0, 100.0 * float(v)) for v in stats[:2])
    f1, threshold, precision, recall = best_f1(evaluator)
    result.update(f1=f1, threshold=threshold, precision=precision, recall=recall)
    return result
