"""What a checkpoint may build: an allow-list of models and their typed, range-checked arguments.

A checkpoint is untrusted data, so the model it describes is never found by looking a stored
name up in a module. It is one of:
  - a zoo model (`rnnedge.zoo` name) with the build arguments the zoo documents:
      CIFAR models   num_classes (1..MAX_CLASSES), cell, rnn_channels (Cmid, Cout),
                     bayer_conv (rnnedge.sensor_conv.BAYER_CONVS)
      detectors      cell, rnn_channels {head row 18..22: (Cmid, Cout)}, predict_channels
      both           input_format (rnnedge.sensor.FORMATS)
  - one of rnnedge's own image-RNN layers, named "rnnedge.layers.<Class>" (or by its defining
    module, "rnnedge.layers.image_rnn.<Class>"), with its constructor arguments.
`zoo_arguments(name, config)` and `layer_arguments(config)` return the validated keyword
arguments (or raise a one-line RnnedgeError naming the field); `build_checked` builds the
model on the meta device first, so a model whose size is out of bounds or whose weights do
not match is refused before a byte of it is allocated.

May import: torch, rnnedge.errors, rnnedge.layers, rnnedge.zoo.
"""

from rnnedge.errors import RnnedgeError

MAX_CHANNELS = 4096
MAX_CLASSES = 100_000
MAX_PARAMETERS = 64 << 20  # 256 MB of float32 weights: far beyond any microcontroller model
LAYER_MODULES = ("rnnedge.layers", "rnnedge.layers.image_rnn")


def _fail(field, expected, value):
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise RnnedgeError(f"checkpoint field {field}: expected {expected}, got {shown}")


def _int(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(field, f"an integer {low}..{high}", value)
    return int(value)


def _choice(field, value, options):
    if not isinstance(value, str) or value not in options:
        _fail(field, "one of " + ", ".join(map(repr, options)), value)
    return value


def _channels_pair(field, value):
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        _fail(field, f"(Cmid, Cout), two integers 1..{MAX_CHANNELS}", value)
    return tuple(_int(f"{field}[{i}]", v, 1, MAX_CHANNELS) for i, v in enumerate(value))


def _cells():
    from rnnedge.layers import CELLS
    return tuple(CELLS)


def _cifar_arguments():
    return {
        "num_classes": lambda f, v: _int(f, v, 1, MAX_CLASSES),
        "cell": lambda f, v: _choice(f, v, _cells()),
        "rnn_channels": _channels_pair,
        "input_format": _input_format,
        "bayer_conv": _bayer_conv,
    }


def _bayer_conv(field, value):
    from rnnedge.sensor_conv import BAYER_CONVS
    return _choice(field, value, BAYER_CONVS)


def _input_format(field, value):
    from rnnedge.sensor import FORMATS
    return _choice(field, value, FORMATS)


def _detection_arguments():
    from rnnedge.zoo.detection import HEAD_ROWS

    def rnn_channels(field, value):
        if value is None:
            return None
        if not isinstance(value, dict):
            _fail(field, "a dict {head row: (Cmid, Cout)}", value)
        return {_int(f"{field} key", k, HEAD_ROWS[0], HEAD_ROWS[-1]):
                _channels_pair(f"{field}[{k}]", v) for k, v in value.items()}

    return {
        "cell": lambda f, v: _choice(f, v, _cells()),
        "rnn_channels": rnn_channels,
        "predict_channels": lambda f, v: None if v is None else _int(f, v, 1, MAX_CHANNELS),
        "input_format": _input_format,
    }


def _checked(config, checks, where):
    """Validate every key of `config` against `checks` {key: check(field, value)}."""
    if not isinstance(config, dict):
        _fail(where, "a dict of keyword arguments", config)
    out = {}
    for key, value in config.items():
        if key not in checks:
            allowed = ", ".join(checks) or "none"
            raise RnnedgeError(f"checkpoint field {where}: unknown argument {str(key)[:40]!r} "
                               f"(allowed: {allowed})")
        out[key] = checks[key](f"{where}.{key}", value)
    return out


def zoo_arguments(name, config):
    """The validated zoo.build keyword arguments of zoo model `name`."""
    from rnnedge import zoo

    if not isinstance(name, str) or name not in zoo.names():
        _fail("zoo_name", "a zoo model name (" + ", ".join(zoo.names()) + ")", name)
    family = _cifar_arguments if zoo.get(name).num_classes is not None else _detection_arguments
    return _checked(config, family(), "config")


def _layer_checks(class_name):
    from rnnedge.layers import FORMS

    def ch(f, v):
        return _int(f, v, 1, MAX_CHANNELS)

    common = {"cell": lambda f, v: _choice(f, v, _cells()),
              "form": lambda f, v: _choice(f, v, FORMS)}
    layers = {
        "RowRNN": {"c_in": ch, "c_out": ch},
        "WSBiRNN": {"c_in": ch, "c_out": ch},
        "SRNN": {"c_in": ch, "c_mid": ch, "c_out": ch},
        "SWSBiRNN": {"c_in": ch, "c_mid": ch, "c_out": ch},
        "BiRNN": {"c_in": ch, "c_out": ch,
                  "merge": lambda f, v: _choice(f, v, ("sum", "concat"))},
    }
    if class_name not in layers:
        return None, ()
    required = tuple(layers[class_name])
    return {**layers[class_name], **common}, required


def layer_arguments(config):
    """(layer class, validated kwargs) of a {"class": ..., "kwargs": {...}} config."""
    if not isinstance(config, dict):
        _fail("config", "a dict", config)
    extra = set(config) - {"class", "kwargs"}
    if extra:
        first = sorted(map(str, extra))[0][:40]
        raise RnnedgeError(f"checkpoint field config: unknown key {first!r} (a layer config "
                           "holds 'class' and 'kwargs')")
    target = config.get("class")
    if not isinstance(target, str):
        _fail("config.class", "'rnnedge.layers.<Class>'", target)
    module, _, class_name = target.rpartition(".")
    checks, required = _layer_checks(class_name) if module in LAYER_MODULES else (None, ())
    if checks is None:
        raise RnnedgeError(f"checkpoint field config.class: {target[:80]!r} is not a model a "
                           "checkpoint may build; only rnnedge classes load (the zoo's models "
                           "and rnnedge.layers RowRNN, SRNN, WSBiRNN, SWSBiRNN, BiRNN)")
    kwargs = _checked(config.get("kwargs", {}), checks, "config.kwargs")
    missing = [k for k in required if k not in kwargs]
    if missing:
        raise RnnedgeError(f"checkpoint field config.kwargs: missing argument {missing[0]!r} "
                           f"of {class_name}")
    from rnnedge import layers
    return getattr(layers, class_name), kwargs


def check_activation_bytes(model, input_shape, limit):
    """Refuse running `model` on one (C, H, W) input when a single activation map could
    exceed `limit` bytes: float32 maps of H x W times the widest layer of the model (the
    largest first dimension of any weight). A cheap upper bound, computed before any
    forward pass, so a checkpoint asking for 4096 channels at 2048 x 2048 is refused."""
    widest = max([int(p.shape[0]) for p in model.parameters() if p.dim() > 0] + [input_shape[0]])
    nbytes = 4 * widest * int(input_shape[1]) * int(input_shape[2])
    if nbytes > limit:
        raise RnnedgeError(f"input shape {list(input_shape)} with layers up to {widest} channels "
                           f"makes activation maps of up to {nbytes:,} bytes (limit {limit:,})")


def _factory(zoo_name, config):
    """A callable building the checkpoint's model from validated arguments."""
    if zoo_name is not None:
        from rnnedge import zoo
        kwargs = zoo_arguments(zoo_name, config)
        return lambda: zoo.build(zoo_name, **kwargs)
    cls, kwargs = layer_arguments(config)
    return lambda: cls(**kwargs)


def build_checked(zoo_name, config, state_dict):
    """The model a checkpoint describes, with `state_dict` loaded (strict).

    The model is first built on torch's meta device (no memory): its parameter count is
    bounded by MAX_PARAMETERS and every weight name and shape must match `state_dict`,
    so the real model is only allocated for weights the file actually holds."""
    import torch

    make = _factory(zoo_name, config)
    try:
        with torch.device("meta"):
            shadow = make()
    except (ValueError, TypeError, RuntimeError) as exc:
        raise RnnedgeError(f"checkpoint field config: the model cannot be built from it "
                           f"({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})") from None
    count = sum(p.numel() for p in shadow.parameters())
    if count > MAX_PARAMETERS:
        raise RnnedgeError(f"checkpoint field config: the model it describes has {count:,} "
                           f"parameters (limit {MAX_PARAMETERS:,})")
    expected = {k: tuple(v.shape) for k, v in shadow.state_dict().items()}
    for key, tensor in state_dict.items():
        if key not in expected:
            raise RnnedgeError(f"checkpoint field state_dict: weight {key[:80]!r} is not in the "
                               "model the checkpoint names")
        if tuple(tensor.shape) != expected[key]:
            raise RnnedgeError(f"checkpoint field state_dict: weight {key[:80]!r} has shape "
                               f"{list(tensor.shape)}, the model needs {list(expected[key])}")
        if not (tensor.dtype.is_floating_point or key.endswith("num_batches_tracked")):
            raise RnnedgeError(f"checkpoint field state_dict: weight {key[:80]!r} has dtype "
                               f"{tensor.dtype}, not floating point")
    missing = [k for k in expected if k not in state_dict]
    if missing:
        raise RnnedgeError(f"checkpoint field state_dict: weight {missing[0][:80]!r} is missing")
    model = make()
    try:
        model.load_state_dict(state_dict, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise RnnedgeError(f"checkpoint field state_dict: weights do not fit the model: {first}") from None
    return model
