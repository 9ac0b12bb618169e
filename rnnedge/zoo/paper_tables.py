"""The numbers the paper's prints for the zoo models: the spec the tool is checked against.

`ROW_PARAMS[model]` maps each table row name to the paper's parameter count (None where the
table prints "-"). `STATED_TOTALS[model]` is the total the paper states in Tables 3, 4 and 6,
as printed (rounded to K). Table 6's totals are the sums of Table 5's rows; the detection
tables' stated totals are not exactly their rows' sums (see `rnnedge/zoo/detection.py` and
README): the summary reports both. The family's papers print totals only (seed 002 Table 1).
Imports: nothing.
"""

_CIFAR_STEM = {"conv1": 324, "conv2.x": 5280, "conv3.x": 20125, "conv4.x": 83487}

_TABLE_1_BODY = {0: 135, 1: 1160, 2: 2060, 3: 13358, 4: 43852, 5: 22854, 6: 176580, 7: 30090, 8: 87780,
                 9: 16632, 10: 703, 11: 513, 12: 1064, 13: 361, 14: 380, 15: 3268, 16: 380, 17: 3268}
_TABLE_1_CNN = {18: 49432, 19: 13072, 20: 13072, 21: 6536, 22: 3268}
_TABLE_1_CRNN = {18: 27990, 19: 14170, 20: 14170, 21: 14170, 22: 14170}

_TABLE_2_BODY = {0: 216, 1: 2878, 2: 4590, 3: 29938, 4: 101732, 5: 49634, 6: 117480, 7: 19580, 8: 39160,
                 9: 16830, 10: 1653, 11: 638, 12: 2465, 13: 841, 14: 870, 15: 7598, 16: 870, 17: 7598}
_TABLE_2_CNN = {18: 117192, 19: 30392, 20: 30392, 21: 15196, 22: 7598}
_TABLE_2_CRNN = {18: 16640, 19: 4224, 20: 4224, 21: 4224, 22: 4224}


def _rows(*parts):
    merged = {}
    for part in parts:
        merged.update({str(k): v for k, v in part.items()})
    return merged


ROW_PARAMS = {
    "cifar-resnet18": _rows(_CIFAR_STEM, {"conv5.x": 333948, "avgpool": None, "fc": 10300}),
    "cifar-resnet18-rnn": _rows(_CIFAR_STEM, {"sws-birnn": 36822, "avgpool": None, "fc": 10300}),
    "cifar-resnet18-thin": _rows(_CIFAR_STEM, {"conv5.x": 44288, "avgpool": None, "fc": 3300}),
    "cifar-resnet18-short": _rows(_CIFAR_STEM, {"conv6": 46920, "avgpool": None, "fc": 10300}),
    "det-cnn-256": _rows(_TABLE_1_BODY, _TABLE_1_CNN),
    "det-crnn-256": _rows(_TABLE_1_BODY, _TABLE_1_CRNN),
    "det-cnn-480x640": _rows(_TABLE_2_BODY, _TABLE_2_CNN),
    "det-crnn-480x640": _rows(_TABLE_2_BODY, _TABLE_2_CRNN),
}

#: (stated total as printed, where it is printed)
STATED_TOTALS = {
    "cifar-resnet18": ("453K", "Table 6"),
    "cifar-resnet18-rnn": ("156K", "Table 6"),
    "cifar-resnet18-thin": ("156K", "Table 6"),
    "cifar-resnet18-short": ("166K", "Table 6"),
    "det-cnn-256": ("493K", "Table 4"),
    "det-crnn-256": ("493K", "Table 4"),
    "det-cnn-480x640": ("605K", "Table 3"),
    "det-crnn-480x640": ("522K", "Table 3"),
    # seed 002 (DartsReNet) Table 1, parameter size in millions
    "dartsrenet-gru": ("4.8M", "seed 002 Table 1"),
    "dartsrenet-lstm": ("6.0M", "seed 002 Table 1"),
    "dartsrenet-vanilla": ("6.8M", "seed 002 Table 1"),
    "dartsrenet-sw": ("6.8M", "seed 002 Table 1"),
    "dartsrenet-dws": ("4.0M", "seed 002 Table 1"),
}

#: The memory columns of Tables 3, 4 and 6, as printed (parameters, tensor arena, total
#: memory) and the table each row is from. Table 4's title says 480x640 but its models are the
#: 256x256 ones (Table 1's parameter counts; Table 3 holds the 480x640 ones).
STATED_MEMORY = {
    "cifar-resnet18": {"table": "Table 6", "params": "453K", "arena": "24K", "total_memory": "477K"},
    "cifar-resnet18-rnn": {"table": "Table 6", "params": "156K", "arena": "24K", "total_memory": "180K"},
    "cifar-resnet18-thin": {"table": "Table 6", "params": "156K", "arena": "24K", "total_memory": "180K"},
    "cifar-resnet18-short": {"table": "Table 6", "params": "166K", "arena": "24K", "total_memory": "190K"},
    "det-cnn-256": {"table": "Table 4", "params": "493K", "arena": "819K", "total_memory": "1.31M"},
    "det-crnn-256": {"table": "Table 4", "params": "493K", "arena": "819K", "total_memory": "1.31M"},
    "det-cnn-480x640": {"table": "Table 3", "params": "605K", "arena": "1.63M", "total_memory": "2.23M"},
    "det-crnn-480x640": {"table": "Table 3", "params": "522K", "arena": "1.63M", "total_memory": "2.15M"},
}
