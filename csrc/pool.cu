// Max and average pooling over NCHW planes, forward and backward: the GPU face of
// minicv/kernels/cpu/pool.py, with the same semantics:
//   * PyTorch's output size and ceil_mode rule (computed on the host, passed as OH, OW);
//   * max: padding never wins (it is -inf), ties go to the FIRST maximum in window order
//     (only a strictly larger value, or a NaN, replaces the running maximum), and the
//     forward saves the argmax as a flat index iy*W + ix into its H*W plane (int64);
//   * avg: the divisor of every output cell comes from the host (div, an OH*OW grid), so
//     count_include_pad, ceil_mode and divisor_override follow PyTorch exactly.
// Backward passes are gathers, one thread per INPUT pixel, summing the outputs whose
// window holds it in a fixed order (or, for max pooling without geometry, one thread per
// plane): deterministic, no atomics.
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

template <typename T> __device__ T neg_inf();
template <> __device__ float neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ double neg_inf<double>() {
    return __longlong_as_double(0xfff0000000000000ULL);
}

template <typename T>
__device__ void max_fwd_impl(const T* x, int H, int W, int OH, int OW, int kh, int kw,
                             int sh, int sw, int ph, int pw, int dh, int dw, int total, T* y,
                             long long* idx) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        int plane = t / OH;
        const T* img = x + (long long)plane * H * W;
        T best = neg_inf<T>();
        int arg = -1;
        for (int i = 0; i < kh; ++i) {
            int iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= H) continue;
            for (int j = 0; j < kw; ++j) {
                int ix = ox * sw - pw + j * dw;
                if (ix < 0 || ix >= W) continue;
                T v = img[iy * W + ix];
                if (v > best || isnan(v) || arg < 0) {
                    best = v;
                    arg = iy * W + ix;
                }
            }
        }
        y[o] = best;
        idx[o] = arg;
    }
}

template <typename T>
__device__ void max_bwd_impl(const T* gy, const long long* idx, int H, int W, int OH, int OW,
                             int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                             int total, T* gx) {
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < total;
         p += blockDim.x * gridDim.x) {
        int ix = p % W;
        int t = p / W;
        int iy = t % H;
        int plane = t / H;
        long long base = (long long)plane * OH * OW;
        int flat = iy * W + ix;
        T acc = T(0);
        for (int i = 0; i < kh; ++i) {           // every window tap that can read (iy, ix)
            int ty = iy + ph - i * dh;
            if (ty < 0 || ty % sh != 0) continue;
            int oy = ty / sh;
            if (oy >= OH) continue;
            for (int j = 0; j < kw; ++j) {
                int tx = ix + pw - j * dw;
                if (tx < 0 || tx % sw != 0) continue;
                int ox = tx / sw;
                if (ox >= OW) continue;
                long long o = base + oy * OW + ox;
                if (idx[o] == flat) acc += gy[o];
            }
        }
        gx[p] = acc;
    }
}

// Backward of any max pooling whose indices are flat positions in a plane of Q elements
// (1-D, 2-D, 3-D, adaptive), without the window geometry: one thread per (n, c) plane
// zeroes its plane, then adds its O output gradients in output order. A plane is written
// by one thread only, so there are no races and the sum order is fixed (deterministic,
// the same order as the Numba kernel). The windowed gather above is the faster path when
// the geometry is known.
template <typename T>
__device__ void max_bwd_plane_impl(const T* gy, const long long* idx, int Q, int O,
                                   int planes, T* gx) {
    for (int plane = blockIdx.x * blockDim.x + threadIdx.x; plane < planes;
         plane += blockDim.x * gridDim.x) {
        T* g = gx + (long long)plane * Q;
        long long base = (long long)plane * O;
        for (int q = 0; q < Q; ++q) g[q] = T(0);
        for (int o = 0; o < O; ++o) {
            long long j = idx[base + o];             // -1: a window of padding only
            if (j >= 0) g[j] += gy[base + o];
        }
    }
}

template <typename T>
__device__ void avg_fwd_impl(const T* x, const T* div, int H, int W, int OH, int OW, int kh,
                             int kw, int sh, int sw, int ph, int pw, int total, T* y) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        int plane = t / OH;
        const T* img = x + (long long)plane * H * W;
        int ylo = max(oy * sh - ph, 0);
        int yhi = min(oy * sh - ph + kh, H);
        int xlo = max(ox * sw - pw, 0);
        int xhi = min(ox * sw - pw + kw, W);
        T s = T(0);
        for (int iy = ylo; iy < yhi; ++iy) {
            for (int ix = xlo; ix < xhi; ++ix) s += img[iy * W + ix];
        }
        y[o] = s / div[oy * OW + ox];
    }
}

template <typename T>
__device__ void avg_bwd_impl(const T* gy, const T* div, int H, int W, int OH, int OW, int kh,
                             int kw, int sh, int sw, int ph, int pw, int total, T* gx) {
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < total;
         p += blockDim.x * gridDim.x) {
        int ix = p % W;
        int t = p / W;
        int iy = t % H;
        int plane = t / H;
        const T* g = gy + (long long)plane * OH * OW;
        // windows holding iy: oy*sh - ph <= iy < oy*sh - ph + kh, i.e.
        // (iy + ph - kh) / sh < oy <= (iy + ph) / sh
        int ay = iy + ph - kh;
        int ax = ix + pw - kw;
        int oy0 = ay < 0 ? 0 : ay / sh + 1;
        int ox0 = ax < 0 ? 0 : ax / sw + 1;
        int oy1 = min(OH - 1, (iy + ph) / sh);
        int ox1 = min(OW - 1, (ix + pw) / sw);
        T acc = T(0);
        for (int oy = oy0; oy <= oy1; ++oy) {
            for (int ox = ox0; ox <= ox1; ++ox) acc += g[oy * OW + ox] / div[oy * OW + ox];
        }
        gx[p] = acc;
    }
}

// Adaptive max pooling: output (oy, ox) takes the max over rows hs[oy]:he[oy] and columns
// ws[ox]:we[ox] (PyTorch's bins, computed on the host), same rules as above: the first
// maximum wins ties, a NaN wins over numbers (the last NaN in scan order).
template <typename T>
__device__ void adaptive_max_impl(const T* x, const int* hs, const int* he, const int* ws,
                                  const int* we, int H, int W, int OH, int OW, int total,
                                  T* y, long long* idx) {
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        int plane = t / OH;
        const T* img = x + (long long)plane * H * W;
        T best = neg_inf<T>();
        int arg = -1;
        for (int iy = hs[oy]; iy < he[oy]; ++iy) {
            for (int ix = ws[ox]; ix < we[ox]; ++ix) {
                T v = img[iy * W + ix];
                if (v > best || isnan(v) || arg < 0) {     // a NaN wins: the last one
                    best = v;
                    arg = iy * W + ix;
                }
            }
        }
        y[o] = best;
        idx[o] = arg;
    }
}

#define POOL_ENTRY_POINTS(T, S)                                                              \
extern "C" __global__ void max_pool2d_fwd_##S(const T* x, int H, int W, int OH, int OW,      \
        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int total, T* y,      \
        long long* idx) {                                                                    \
    max_fwd_impl<T>(x, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, total, y, idx);         \
}                                                                                            \
extern "C" __global__ void max_pool2d_bwd_##S(const T* gy, const long long* idx, int H,       \
        int W, int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw, int dh,        \
        int dw, int total, T* gx) {                                                          \
    max_bwd_impl<T>(gy, idx, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, total, gx);       \
}                                                                                            \
extern "C" __global__ void max_pool_bwd_plane_##S(const T* gy, const long long* idx, int Q,   \
        int O, int planes, T* gx) {                                                          \
    max_bwd_plane_impl<T>(gy, idx, Q, O, planes, gx);                                        \
}                                                                                            \
extern "C" __global__ void avg_pool2d_fwd_##S(const T* x, const T* div, int H, int W,         \
        int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw, int total, T* y) {    \
    avg_fwd_impl<T>(x, div, H, W, OH, OW, kh, kw, sh, sw, ph, pw, total, y);                 \
}                                                                                            \
extern "C" __global__ void avg_pool2d_bwd_##S(const T* gy, const T* div, int H, int W,        \
        int OH, int OW, int kh, int kw, int sh, int sw, int ph, int pw, int total, T* gx) {   \
    avg_bwd_impl<T>(gy, div, H, W, OH, OW, kh, kw, sh, sw, ph, pw, total, gx);               \
}

// 3-D max pooling over NCDHW volumes, the 2-D rules with one more axis; flat argmax
// iz*H*W + iy*W + ix. g: D, H, W, OD, OH, OW, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw.
template <typename T>
__device__ void max3d_fwd_impl(const T* x, const int* g, int total, T* y, long long* idx) {
    int D = g[0], H = g[1], W = g[2], OD = g[3], OH = g[4], OW = g[5];
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        t /= OH;
        int oz = t % OD;
        int plane = t / OD;
        const T* vol = x + (long long)plane * D * H * W;
        T best = neg_inf<T>();
        int arg = -1;
        for (int a = 0; a < g[6]; ++a) {
            int iz = oz * g[9] - g[12] + a * g[15];
            if (iz < 0 || iz >= D) continue;
            for (int i = 0; i < g[7]; ++i) {
                int iy = oy * g[10] - g[13] + i * g[16];
                if (iy < 0 || iy >= H) continue;
                for (int j = 0; j < g[8]; ++j) {
                    int ix = ox * g[11] - g[14] + j * g[17];
                    if (ix < 0 || ix >= W) continue;
                    T v = vol[(iz * H + iy) * W + ix];
                    if (v > best || isnan(v) || arg < 0) {
                        best = v;
                        arg = (iz * H + iy) * W + ix;
                    }
                }
            }
        }
        y[o] = best;
        idx[o] = arg;
    }
}

#define ADAPTIVE_ENTRY_POINT(T, S)                                                           \
extern "C" __global__ void adaptive_max_pool2d_fwd_##S(const T* x, const int* hs,              \
        const int* he, const int* ws, const int* we, int H, int W, int OH, int OW, int total, \
        T* y, long long* idx) {                                                              \
    adaptive_max_impl<T>(x, hs, he, ws, we, H, W, OH, OW, total, y, idx);                    \
}

#define POOL3D_ENTRY_POINT(T, S)                                                             \
extern "C" __global__ void max_pool3d_fwd_##S(const T* x, const int* geometry, int total,     \
        T* y, long long* idx) {                                                              \
    max3d_fwd_impl<T>(x, geometry, total, y, idx);                                           \
}

POOL3D_ENTRY_POINT(float, f32)
POOL3D_ENTRY_POINT(double, f64)
ADAPTIVE_ENTRY_POINT(float, f32)
ADAPTIVE_ENTRY_POINT(double, f64)
POOL_ENTRY_POINTS(float, f32)
POOL_ENTRY_POINTS(double, f64)
