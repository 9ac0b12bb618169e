"""Static-arena firmware runtime over the C kernels (imported as rnnedge.firmware_sim).

Runs an int8 .tflite on the host exactly as a microcontroller build would, and emits that
build as C. One module per stage, data flowing one way:

  operators   the supported-operator table: TFLite op -> prepared C kernel (rnnedge.kernels)
  folding     compile-time evaluation of shape arithmetic (SHAPE/STRIDED_SLICE/PACK)
  program     model + arena plan (rnnedge.planner) -> Program: kernel calls with arena
              offsets, flash constants, in-place rules honoured or refused
  runtime     Program -> one static numpy arena; invoke(), debug checks, per-step counters
  backends    make_backend("c" | "tflite" | "tflite-default" | "tflm", path) -> callable
  isolated    tf.lite / tflite-micro in a child process, so a crash there is one error line
  codegen     Program -> standalone C99 sources, Makefile, Cortex-M start-up and link script
  toolchain   build the generated C (host cc, arm-none-eabi-gcc), section sizes, QEMU runs

    from rnnedge.firmware_sim.program import compile_model
    from rnnedge.firmware_sim.runtime import Runtime
    outputs = Runtime(compile_model("model.tflite", "inplace"), debug=True).invoke(x)

May import: numpy, the standard library, rnnedge.errors, rnnedge.tflite, rnnedge.planner,
rnnedge.kernels, rnnedge.budget and rnnedge.arena_report (the MAC convention); tensorflow and
tflite_micro only in isolated.py's child process. Nothing here imports the CLI.
"""
