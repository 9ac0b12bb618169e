"""Static-arena firmware runtime over the C kernels (imported as rnnedge.firmware_sim)."""
