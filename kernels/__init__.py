"""C99 int8 reference kernels, built with the system compiler and loaded with ctypes (imported as rnnedge.kernels)."""
