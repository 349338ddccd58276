// Depthwise convolution (groups = C, K = C*m output channels, w (K, 1, kh, kw)): the
// GPU face of minicv/kernels/cpu/depthwise.py. As im2col + GEMM it is thousands of 1-row
// matrix products over a column buffer kh*kw times the input; here each pass is a direct
// loop over the taps.
//
// forward:       one thread per output (n, k, oy, ox), taps in (i, j) order, + bias[k]
// input grad:    one thread per input pixel (n, c, y, x): its m output channels and every
//                tap whose output exists, in a fixed order (a gather: no atomics)
// weight grad:   per (k, i, j) a sum over n, oy, ox, in two steps as batchnorm.cu: one
//                thread per (k*kh*kw + tap, lane) adds the positions lane, lane + L, ...
//                in double, then one thread per weight adds its L partials in order
// Without a bias the wrapper passes a placeholder array and has_bias = 0 (never NULL).
// The geometry is passed as int32 scalars: C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw,
// OH, OW (m = K / C).
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

#define DW_GEOMETRY int C, int H, int W, int K, int kh, int kw, int sh, int sw, int ph, \
                    int pw, int dh, int dw, int OH, int OW
#define DW_ARGS C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW

template <typename T>
__device__ void dw_forward_impl(const T* x, const T* w, const T* bias, int has_bias,
                                DW_GEOMETRY, int total, T* y) {
    int m = K / C;
    for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += blockDim.x * gridDim.x) {
        int ox = o % OW;
        int t = o / OW;
        int oy = t % OH;
        t /= OH;
        int k = t % K;
        int n = t / K;
        const T* img = x + ((long long)n * C + k / m) * H * W;
        const T* wk = w + (long long)k * kh * kw;
        T acc = has_bias ? bias[k] : T(0);
        for (int i = 0; i < kh; ++i) {
            int iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= H) continue;
            for (int j = 0; j < kw; ++j) {
                int ix = ox * sw - pw + j * dw;
                if (ix < 0 || ix >= W) continue;
                acc += img[iy * W + ix] * wk[i * kw + j];
            }
        }
        y[o] = acc;
    }
}

template <typename T>
__device__ void dw_input_grad_impl(const T* gy, const T* w, DW_GEOMETRY, int total, T* gx) {
    int m = K / C;
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < total;
         p += blockDim.x * gridDim.x) {
        int xx = p % W;
        int t = p / W;
        int yy = t % H;
        t /= H;
        int c = t % C;
        int n = t / C;
        T acc = T(0);
        for (int k = c * m; k < (c + 1) * m; ++k) {
            const T* g = gy + ((long long)n * K + k) * OH * OW;
            const T* wk = w + (long long)k * kh * kw;
            for (int i = 0; i < kh; ++i) {
                int ty = yy + ph - i * dh;             // = oy * sh when tap i reads row yy
                if (ty < 0 || ty % sh != 0 || ty / sh >= OH) continue;
                for (int j = 0; j < kw; ++j) {
                    int tx = xx + pw - j * dw;
                    if (tx < 0 || tx % sw != 0 || tx / sw >= OW) continue;
                    acc += g[(ty / sh) * OW + tx / sw] * wk[i * kw + j];
                }
            }
        }
        gx[p] = acc;
    }
}

template <typename T>
__device__ void dw_weight_partial_impl(const T* x, const T* gy, DW_GEOMETRY, int N, int L,
                                       double* part) {
    int m = K / C;
    int taps = kh * kw;
    int count = N * OH * OW;
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < K * taps * L;
         t += blockDim.x * gridDim.x) {
        int lane = t % L;
        int kt = t / L;
        int tap = kt % taps;
        int k = kt / taps;
        int i = tap / kw, j = tap % kw;
        double acc = 0.0;
        for (int q = lane; q < count; q += L) {
            int ox = q % OW;
            int r = q / OW;
            int oy = r % OH;
            int n = r / OH;
            int iy = oy * sh - ph + i * dh;
            int ix = ox * sw - pw + j * dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            acc += (double)gy[(((long long)n * K + k) * OH + oy) * OW + ox]
                   * (double)x[(((long long)n * C + k / m) * H + iy) * W + ix];
        }
        part[t] = acc;
    }
}

template <typename T>
__device__ void dw_weight_reduce_impl(const double* part, int weights, int L, T* gw) {
    for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < weights;
         e += blockDim.x * gridDim.x) {
        double acc = 0.0;
        for (int l = 0; l < L; ++l) acc += part[(long long)e * L + l];
        gw[e] = (T)acc;
    }
}

#define DW_ENTRY_POINTS(T, S)                                                                \
extern "C" __global__ void dw_forward_##S(const T* x, const T* w, const T* bias,              \
        int has_bias, DW_GEOMETRY, int total, T* y) {                                        \
    dw_forward_impl<T>(x, w, bias, has_bias, DW_ARGS, total, y);                             \
}                                                                                            \
extern "C" __global__ void dw_input_grad_##S(const T* gy, const T* w, DW_GEOMETRY, int total, \
        T* gx) {                                                                             \
    dw_input_grad_impl<T>(gy, w, DW_ARGS, total, gx);                                        \
}                                                                                            \
extern "C" __global__ void dw_weight_partial_##S(const T* x, const T* gy, DW_GEOMETRY, int N, \
        int L, double* part) {                                                               \
    dw_weight_partial_impl<T>(x, gy, DW_ARGS, N, L, part);                                   \
}                                                                                            \
extern "C" __global__ void dw_weight_reduce_##S(const double* part, int weights, int L,       \
        T* gw) {                                                                             \
    dw_weight_reduce_impl<T>(part, weights, L, gw);                                          \
}

DW_ENTRY_POINTS(float, f32)
DW_ENTRY_POINTS(double, f64)
