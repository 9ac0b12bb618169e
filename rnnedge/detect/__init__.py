"""Object detection, end to end: the paper's CNN/CRNN detectors (Tables 1-4) as a task.

Modules, in the order data flows:
  anchors    k-means anchors on the training boxes, the default anchors, the heads' strides
  boxes      IoU / CIoU of x1 y1 x2 y2 boxes (torch and numpy)
  decode     raw prediction maps -> boxes (sigmoid, grid offsets, anchor scaling) + class-aware
             NMS, one implementation for the float model and the dequantised int8 .tflite
  loss       YOLOv5-style loss: CIoU box, BCE objectness and class, anchors matched on 5 heads
  augment    box-aware flip / scale / translate jitter and the detection batches
  evaluate   AP50, AP50:95 by pycocotools' COCOeval, F1 at its best confidence threshold
  metadata   what the .tflite carries about the detector (anchors, strides, classes)
  task       DetectionTask: what training needs from a detector (loss, evaluate, collate)
  train      `rnnedge train det-...`: build, fit, save the best epoch (validation AP50)
  check      `rnnedge check` for a detector: float vs int8 AP/F1 on every backend
  plot       predicted and true boxes drawn on a few images
  firmware   C decode + NMS emitted beside the firmware
  pipeline   `rnnedge pipeline --task detect`: Tables 3/4 measured
Nothing here is imported by the classification stages; the CLI dispatches to it.
"""
