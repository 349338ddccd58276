// Batch normalisation over (N, C, M) arrays (M = H*W), training and eval, forward and
// backward: the GPU face of minicv/kernels/cpu/norm.py, in six kernels where the array
// operations of ops/norm.py launch about thirty per layer.
//
// Per-channel sums run in two steps without atomics or shared memory (deterministic):
//   *_partial: one thread per (channel c, lane l), l < L, summing the elements
//              j = l, l + L, l + 2L, ... of channel c (j = n*M + s), so neighbouring
//              threads read neighbouring addresses; results in double, part[(c*L + l)*2]
//   *_reduce:  one thread per channel adds its L partial pairs in lane order.
// Statistics use the shifted sums S1 = sum(x - K), S2 = sum((x - K)^2) with K = x[0, c, 0],
// a value of the channel, so that a large mean does not cancel the variance away:
//   mean = K + S1/m,  var = (S2 - S1^2/m)/m  (biased),  invstd = 1/sqrt(var + eps).
// The reduce step also updates the running statistics (unbiased variance, as PyTorch).
// Backward: sums of dy and dy*xhat (xhat recomputed from x), then
//   dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))   (training)
//   dx = gamma*invstd * dy                                        (eval: constant stats)
// Optional arrays are never NULL pointers (CuPy versions differ in how they pass None):
// the wrappers pass a 1-element placeholder and an int flag says whether it is real.
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

template <typename T>
__device__ void partial_impl(const T* x, const T* gy, const double* mean,
                             const double* invstd, int N, int C, int M, int L, int backward,
                             double* part) {
    int count = N * M;
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < C * L;
         t += blockDim.x * gridDim.x) {
        int c = t / L;
        int lane = t % L;
        double a = 0.0, b = 0.0;
        double shift = backward ? 0.0 : (double)x[(long long)c * M];
        for (int j = lane; j < count; j += L) {
            long long at = ((long long)(j / M) * C + c) * M + j % M;
            if (backward) {                            // sum dy, sum dy*xhat
                double d = (double)gy[at];
                a += d;
                b += d * (((double)x[at] - mean[c]) * invstd[c]);
            } else {                                   // forward: shifted sums
                double v = (double)x[at] - shift;
                a += v;
                b += v * v;
            }
        }
        part[2 * t] = a;
        part[2 * t + 1] = b;
    }
}

template <typename T>
__device__ void stats_impl(const T* x, const double* part, int C, int M, int L, int m,
                           double eps, double momentum, T* running_mean, T* running_var,
                           int update_mean, int update_var, double* mean, double* invstd,
                           T* batch_var) {
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < C; c += blockDim.x * gridDim.x) {
        double s1 = 0.0, s2 = 0.0;
        for (int l = 0; l < L; ++l) {
            s1 += part[2 * (c * L + l)];
            s2 += part[2 * (c * L + l) + 1];
        }
        double mu = (double)x[(long long)c * M] + s1 / m;
        double var = (s2 - s1 * s1 / m) / m;
        if (var < 0.0) var = 0.0;
        mean[c] = mu;
        invstd[c] = 1.0 / sqrt(var + eps);
        batch_var[c] = (T)var;
        if (update_mean) {
            running_mean[c] = (T)((1.0 - momentum) * (double)running_mean[c] + momentum * mu);
        }
        if (update_var) {
            double unbiased = m > 1 ? var * m / (m - 1) : var;
            running_var[c] = (T)((1.0 - momentum) * (double)running_var[c]
                                 + momentum * unbiased);
        }
    }
}

template <typename T>
__device__ void sums_impl(const double* part, int C, int L, double* sums, T* gw, T* gb,
                          int want_gw, int want_gb) {
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < C; c += blockDim.x * gridDim.x) {
        double sdy = 0.0, sdyx = 0.0;
        for (int l = 0; l < L; ++l) {
            sdy += part[2 * (c * L + l)];
            sdyx += part[2 * (c * L + l) + 1];
        }
        sums[2 * c] = sdy;
        sums[2 * c + 1] = sdyx;
        if (want_gw) gw[c] = (T)sdyx;
        if (want_gb) gb[c] = (T)sdy;
    }
}

template <typename T>
__device__ void apply_impl(const T* x, const double* mean, const double* invstd,
                           const T* gamma, const T* beta, int has_gamma, int has_beta, int C,
                           int M, int total, T* y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        int c = (i / M) % C;
        double v = ((double)x[i] - mean[c]) * invstd[c];
        if (has_gamma) v *= (double)gamma[c];
        if (has_beta) v += (double)beta[c];
        y[i] = (T)v;
    }
}

template <typename T>
__device__ void dx_impl(const T* gy, const T* x, const double* mean, const double* invstd,
                        const T* gamma, int has_gamma, const double* sums, int C, int M, int m,
                        int training, int total, T* gx) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        int c = (i / M) % C;
        double scale = invstd[c] * (has_gamma ? (double)gamma[c] : 1.0);
        double d = (double)gy[i];
        if (training) {
            double xhat = ((double)x[i] - mean[c]) * invstd[c];
            d = d - (sums[2 * c] + xhat * sums[2 * c + 1]) / m;
        }
        gx[i] = (T)(scale * d);
    }
}

#define BN_ENTRY_POINTS(T, S)                                                                \
extern "C" __global__ void bn_partial_##S(const T* x, const T* gy, const double* mean,        \
        const double* invstd, int N, int C, int M, int L, int backward, double* part) {      \
    partial_impl<T>(x, gy, mean, invstd, N, C, M, L, backward, part);                        \
}                                                                                            \
extern "C" __global__ void bn_stats_##S(const T* x, const double* part, int C, int M, int L,  \
        int m, double eps, double momentum, T* running_mean, T* running_var,                 \
        int update_mean, int update_var, double* mean, double* invstd, T* batch_var) {       \
    stats_impl<T>(x, part, C, M, L, m, eps, momentum, running_mean, running_var,             \
                  update_mean, update_var, mean, invstd, batch_var);                         \
}                                                                                            \
extern "C" __global__ void bn_sums_##S(const double* part, int C, int L, double* sums, T* gw, \
        T* gb, int want_gw, int want_gb) {                                                   \
    sums_impl<T>(part, C, L, sums, gw, gb, want_gw, want_gb);                                \
}                                                                                            \
extern "C" __global__ void bn_apply_##S(const T* x, const double* mean, const double* invstd, \
        const T* gamma, const T* beta, int has_gamma, int has_beta, int C, int M, int total,  \
        T* y) {                                                                              \
    apply_impl<T>(x, mean, invstd, gamma, beta, has_gamma, has_beta, C, M, total, y);        \
}                                                                                            \
extern "C" __global__ void bn_dx_##S(const T* gy, const T* x, const double* mean,             \
        const double* invstd, const T* gamma, int has_gamma, const double* sums, int C,       \
        int M, int m, int training, int total, T* gx) {                                      \
    dx_impl<T>(gy, x, mean, invstd, gamma, has_gamma, sums, C, M, m, training, total, gx);   \
}

BN_ENTRY_POINTS(float, f32)
BN_ENTRY_POINTS(double, f64)
