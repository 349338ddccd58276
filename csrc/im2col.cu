// im2col / col2im for NCHW images: the GPU face of minicv/kernels/cpu/im2col.py.
//
// Layout (shared with the NumPy reference and the Numba kernels):
//   x    (N, C, H, W), C-contiguous
//   cols (N, C*kh*kw, OH*OW), C-contiguous; row (c*kh + i)*kw + j holds, for every output
//        position (oy, ox), the input pixel x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw]
//        (0 outside the image).
//
// im2col: one thread per element of cols (a pure gather).
// col2im: one thread per element of x, summing every column entry that copied this pixel,
//         in a fixed (i, j) order. No atomics, so the result is bitwise deterministic
//         (Chainer's col2im does the same).
//
// Compiled by NVRTC through cupy.RawModule: no host headers, extern "C" entry points, every
// integer argument is a 32-bit int (the Python wrappers check that sizes fit).

template <typename T>
__device__ void im2col_impl(const T* x, int C, int H, int W, int kh, int kw, int sh, int sw,
                            int ph, int pw, int dh, int dw, int OH, int OW, int total,
                            T* cols) {
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int ox = idx % OW;
        int t = idx / OW;
        int oy = t % OH;
        t /= OH;
        int j = t % kw;
        t /= kw;
        int i = t % kh;
        t /= kh;
        int c = t % C;
        int n = t / C;
        int iy = oy * sh - ph + i * dh;
        int ix = ox * sw - pw + j * dw;
        T v = T(0);
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            v = x[((long long)(n * C + c) * H + iy) * W + ix];
        }
        cols[idx] = v;
    }
}

template <typename T>
__device__ void col2im_impl(const T* cols, int C, int H, int W, int kh, int kw, int sh,
                            int sw, int ph, int pw, int dh, int dw, int OH, int OW, int total,
                            T* x) {
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int xx = idx % W;
        int t = idx / W;
        int yy = t % H;
        t /= H;
        int c = t % C;
        int n = t / C;
        T acc = T(0);
        for (int i = 0; i < kh; ++i) {
            int ty = yy + ph - i * dh;          // = oy * sh when this tap reads pixel yy
            if (ty < 0 || ty % sh != 0) continue;
            int oy = ty / sh;
            if (oy >= OH) continue;
            for (int j = 0; j < kw; ++j) {
                int tx = xx + pw - j * dw;
                if (tx < 0 || tx % sw != 0) continue;
                int ox = tx / sw;
                if (ox >= OW) continue;
                long long row = (long long)n * C * kh * kw + (c * kh + i) * kw + j;
                acc += cols[row * OH * OW + oy * OW + ox];
            }
        }
        x[idx] = acc;
    }
}

extern "C" __global__ void im2col_f32(const float* x, int C, int H, int W, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int dh, int dw, int OH,
                                      int OW, int total, float* cols) {
    im2col_impl<float>(x, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, total, cols);
}

extern "C" __global__ void im2col_f64(const double* x, int C, int H, int W, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int dh, int dw, int OH,
                                      int OW, int total, double* cols) {
    im2col_impl<double>(x, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, total, cols);
}

extern "C" __global__ void col2im_f32(const float* cols, int C, int H, int W, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int dh, int dw, int OH,
                                      int OW, int total, float* x) {
    col2im_impl<float>(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, total, x);
}

extern "C" __global__ void col2im_f64(const double* cols, int C, int H, int W, int kh, int kw,
                                      int sh, int sw, int ph, int pw, int dh, int dw, int OH,
                                      int OW, int total, double* x) {
    col2im_impl<double>(cols, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, total, x);
}

// vol2col / col2vol: the same pair for NCDHW volumes (conv3d). cols (N, C*kd*kh*kw, OD*OH*OW);
// row ((c*kd + a)*kh + i)*kw + j holds x[n, c, oz*sd - pd + a*dd, oy*sh - ph + i*dh,
// ox*sw - pw + j*dw] (0 outside). vol2col: one thread per element of cols; col2vol: one
// thread per voxel of x, summing its taps in a fixed (a, i, j) order.

// Output position o of one axis that reads input position p through tap t, or -1.
__device__ int source_of(int p, int t, int s, int pad, int dil, int out) {
    int q = p + pad - t * dil;
    if (q < 0 || q % s != 0) return -1;
    q /= s;
    return q < out ? q : -1;
}

template <typename T>
__device__ void vol2col_impl(const T* x, const int* g, int total, T* cols) {
    // g: C, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW
    int C = g[0], D = g[1], H = g[2], W = g[3], kd = g[4], kh = g[5], kw = g[6];
    int OD = g[16], OH = g[17], OW = g[18];
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int ox = idx % OW;
        int t = idx / OW;
        int oy = t % OH;
        t /= OH;
        int oz = t % OD;
        t /= OD;
        int j = t % kw;
        t /= kw;
        int i = t % kh;
        t /= kh;
        int a = t % kd;
        t /= kd;
        int c = t % C;
        int n = t / C;
        int iz = oz * g[7] - g[10] + a * g[13];
        int iy = oy * g[8] - g[11] + i * g[14];
        int ix = ox * g[9] - g[12] + j * g[15];
        T v = T(0);
        if (iz >= 0 && iz < D && iy >= 0 && iy < H && ix >= 0 && ix < W) {
            v = x[(((long long)(n * C + c) * D + iz) * H + iy) * W + ix];
        }
        cols[idx] = v;
    }
}

template <typename T>
__device__ void col2vol_impl(const T* cols, const int* g, int total, T* x) {
    int C = g[0], D = g[1], H = g[2], W = g[3], kd = g[4], kh = g[5], kw = g[6];
    int OD = g[16], OH = g[17], OW = g[18];
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int xx = idx % W;
        int t = idx / W;
        int yy = t % H;
        t /= H;
        int zz = t % D;
        t /= D;
        int c = t % C;
        int n = t / C;
        T acc = T(0);
        for (int a = 0; a < kd; ++a) {
            int oz = source_of(zz, a, g[7], g[10], g[13], OD);
            if (oz < 0) continue;
            for (int i = 0; i < kh; ++i) {
                int oy = source_of(yy, i, g[8], g[11], g[14], OH);
                if (oy < 0) continue;
                for (int j = 0; j < kw; ++j) {
                    int ox = source_of(xx, j, g[9], g[12], g[15], OW);
                    if (ox < 0) continue;
                    long long row = (long long)n * C * kd * kh * kw
                                    + ((c * kd + a) * kh + i) * kw + j;
                    acc += cols[(row * OD + oz) * OH * OW + oy * OW + ox];
                }
            }
        }
        x[idx] = acc;
    }
}

extern "C" __global__ void vol2col_f32(const float* x, const int* geometry, int total,
                                       float* cols) {
    vol2col_impl<float>(x, geometry, total, cols);
}

extern "C" __global__ void vol2col_f64(const double* x, const int* geometry, int total,
                                       double* cols) {
    vol2col_impl<double>(x, geometry, total, cols);
}

extern "C" __global__ void col2vol_f32(const float* cols, const int* geometry, int total,
                                       float* x) {
    col2vol_impl<float>(cols, geometry, total, x);
}

extern "C" __global__ void col2vol_f64(const double* cols, const int* geometry, int total,
                                       double* x) {
    col2vol_impl<double>(cols, geometry, total, x);
}
