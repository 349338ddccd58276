// Resampling of NCHW planes (PyTorch's F.interpolate, adaptive average pooling), forward
// and backward: the GPU face of minicv/kernels/cpu/resample.py.
//
// The index and weight tables are computed once on the host by the helpers of
// minicv/kernels/reference.py and minicv/kernels/gpu/tables.py and copied to the GPU, so
// the rounding rules live in one place. Nearest and bilinear forward kernels gather, one
// thread per output.
//
// Everything else is one separable gather, one thread per DESTINATION pixel (r, c):
//   y[r, c] = sum_{k in rows[r]} a[k] * sum_{l in cols[c]} b[l] * x[src_r[k], src_c[l]]
// where rows[r] lists (source row, weight) pairs (CSR: row_ptr has H + 1 offsets, H the
// destination height), and cols[c] likewise for columns. Forward of bicubic (4 taps) and
// of adaptive average pooling (each bin, weight 1/length) use per-output lists; every
// backward pass uses the transposed lists (per input index: the outputs that read it and
// their weights). Each pixel sums its terms in a fixed order: deterministic, no atomics.
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

template <typename T>
__device__ void nearest_fwd_impl(const T* x, const int* iy, const int* ix, int H, int W,
                                 int OH, int OW, int total, T* y) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        int plane = t / OH;
        y[o] = x[((long long)plane * H + iy[oy]) * W + ix[ox]];
    }
}

template <typename T>
__device__ void bilinear_fwd_impl(const T* x, const int* h0, const int* h1, const T* a0,
                                  const T* a1, const int* w0, const int* w1, const T* b0,
                                  const T* b1, int H, int W, int OH, int OW, int total, T* y) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        int plane = t / OH;
        const T* r0 = x + ((long long)plane * H + h0[oy]) * W;
        const T* r1 = x + ((long long)plane * H + h1[oy]) * W;
        y[o] = a0[oy] * (b0[ox] * r0[w0[ox]] + b1[ox] * r0[w1[ox]])
             + a1[oy] * (b0[ox] * r1[w0[ox]] + b1[ox] * r1[w1[ox]]);
    }
}

// H, W: destination size (of gx); OH, OW: source size (of gy).
template <typename T>
__device__ void separable_impl(const T* gy, const int* row_ptr, const int* row_src,
                               const T* row_wt, const int* col_ptr, const int* col_src,
                               const T* col_wt, int H, int W, int OH, int OW, int total,
                               T* gx) {
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < total;
         p += blockDim.x * gridDim.x) {
        int c = p % W;
        int t = p / W;
        int r = t % H;
        int plane = t / H;
        const T* g = gy + (long long)plane * OH * OW;
        T acc = T(0);
        for (int k = row_ptr[r]; k < row_ptr[r + 1]; ++k) {
            const T* grow = g + (long long)row_src[k] * OW;
            T inner = T(0);
            for (int l = col_ptr[c]; l < col_ptr[c + 1]; ++l) {
                inner += col_wt[l] * grow[col_src[l]];
            }
            acc += row_wt[k] * inner;
        }
        gx[p] = acc;
    }
}

#define RESAMPLE_ENTRY_POINTS(T, S)                                                          \
extern "C" __global__ void nearest_fwd_##S(const T* x, const int* iy, const int* ix, int H,   \
        int W, int OH, int OW, int total, T* y) {                                            \
    nearest_fwd_impl<T>(x, iy, ix, H, W, OH, OW, total, y);                                  \
}                                                                                            \
extern "C" __global__ void bilinear_fwd_##S(const T* x, const int* h0, const int* h1,         \
        const T* a0, const T* a1, const int* w0, const int* w1, const T* b0, const T* b1,     \
        int H, int W, int OH, int OW, int total, T* y) {                                     \
    bilinear_fwd_impl<T>(x, h0, h1, a0, a1, w0, w1, b0, b1, H, W, OH, OW, total, y);         \
}                                                                                            \
extern "C" __global__ void separable_##S(const T* gy, const int* row_ptr,                     \
        const int* row_src, const T* row_wt, const int* col_ptr, const int* col_src,          \
        const T* col_wt, int H, int W, int OH, int OW, int total, T* gx) {                   \
    separable_impl<T>(gy, row_ptr, row_src, row_wt, col_ptr, col_src, col_wt, H, W, OH, OW,  \
                      total, gx);                                                            \
}

RESAMPLE_ENTRY_POINTS(float, f32)
RESAMPLE_ENTRY_POINTS(double, f64)
