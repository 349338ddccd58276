// Element-wise activation backward passes that array operations would split into several
// launches: the GPU face of minicv/kernels/cpu/activation.py.
//
// relu_bwd: gx = 0 where y <= 0, else gy (a select, as PyTorch's threshold_backward, so a
// NaN gradient does not leak through a zero output and y = NaN passes gy); one thread per
// element. As array
// operations it is two launches (y > 0, then a product or a select).
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

template <typename T>
__device__ void relu_bwd_impl(const T* gy, const T* y, int total, T* gx) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        gx[i] = y[i] <= T(0) ? T(0) : gy[i];
    }
}

extern "C" __global__ void relu_bwd_f32(const float* gy, const float* y, int total,
                                        float* gx) {
    relu_bwd_impl<float>(gy, y, total, gx);
}

extern "C" __global__ void relu_bwd_f64(const double* gy, const double* y, int total,
                                        double* gx) {
    relu_bwd_impl<double>(gy, y, total, gx);
}
