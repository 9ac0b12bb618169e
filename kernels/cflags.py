"""The one set of C compiler flags: the host shared library, its sanitizer variant, the
generated firmware's host build and its Cortex-M builds all start from COMMON.

-ffp-contract=off keeps float32 maths (QUANTIZE, RESIZE_NEAREST_NEIGHBOR) free of fused
multiply-adds so it rounds exactly like TFLM's x86 build.
May import: nothing.
"""

COMMON = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off")
SHARED_LIBRARY = ("-fPIC", "-shared")
SANITIZE = ("-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all")
ARM = ("-mthumb", "-ffunction-sections", "-fdata-sections")
CPU = {"m55": ("-mcpu=cortex-m55", "-mfloat-abi=hard"),
       "m4": ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
       "m7": ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard")}
ARM_LINK = ("-T", "cortex_m.ld", "--specs=rdimon.specs", "-Wl,--gc-sections")
