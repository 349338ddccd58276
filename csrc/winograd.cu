// Winograd F(2x2, 3x3) input and output transforms (Lavin & Gray, arXiv:1509.09308): the
// GPU face of the F(2x2) path of minicv/kernels/cpu/winograd.py, with the same layouts.
//
//   BT = [[1, 0, -1,  0],      AT = [[1, 1,  1,  0],
//         [0, 1,  1,  0],            [0, 1, -1, -1]]
//         [0, -1, 1,  0],
//         [0, 1,  0, -1]]
//
// input:  xp (N, C, TH*2 + 2, TW*2 + 2), already padded -> V (16, C, P), P = N*TH*TW,
//         V[e = 4r + s, c, p] = (BT d B)[r, s] for the 4x4 tile d of tile p,
//         p = (n*TH + ty)*TW + tx.  One thread per (n, c, tile).
// output: M (16, K, P) -> y (N, K, OH, OW) = AT m A per tile, cropped at the right and
//         bottom edges, plus bias[k] when has_bias.  One thread per (n, k, tile).
// The 16 GEMMs M[e] = U[e] @ V[e] between them run in cuBLAS (cupy.matmul).

template <typename T>
__device__ void bt2(T d0, T d1, T d2, T d3, T* o) {
    o[0] = d0 - d2;
    o[1] = d1 + d2;
    o[2] = d2 - d1;
    o[3] = d1 - d3;
}

template <typename T>
__device__ void at2(T m0, T m1, T m2, T m3, T* o) {
    o[0] = m0 + m1 + m2;
    o[1] = m1 - m2 - m3;
}

template <typename T>
__device__ void input_f2_impl(const T* xp, int N, int C, int TH, int TW, T* v) {
    int Hp = TH * 2 + 2;
    int Wp = TW * 2 + 2;
    int P = N * TH * TW;
    int total = N * C * TH * TW;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int tx = idx % TW;
        int t = idx / TW;
        int ty = t % TH;
        t /= TH;
        int c = t % C;
        int n = t / C;
        const T* img = xp + ((long long)(n * C + c) * Hp + 2 * ty) * Wp + 2 * tx;
        T tmp[4][4];
        T col[4];
        for (int s = 0; s < 4; ++s) {           // tmp = BT d, column by column
            bt2<T>(img[s], img[Wp + s], img[2 * Wp + s], img[3 * Wp + s], col);
            for (int r = 0; r < 4; ++r) tmp[r][s] = col[r];
        }
        int p = (n * TH + ty) * TW + tx;
        for (int r = 0; r < 4; ++r) {           // V = tmp B, row by row
            T row[4];
            bt2<T>(tmp[r][0], tmp[r][1], tmp[r][2], tmp[r][3], row);
            for (int s = 0; s < 4; ++s) {
                v[((long long)(4 * r + s) * C + c) * P + p] = row[s];
            }
        }
    }
}

template <typename T>
__device__ void output_f2_impl(const T* m, const T* bias, int has_bias, int N, int K,
                               int TH, int TW, int OH, int OW, T* y) {
    int P = N * TH * TW;
    int total = N * K * TH * TW;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += blockDim.x * gridDim.x) {
        int tx = idx % TW;
        int t = idx / TW;
        int ty = t % TH;
        t /= TH;
        int k = t % K;
        int n = t / K;
        int p = (n * TH + ty) * TW + tx;
        T q[16];
        for (int e = 0; e < 16; ++e) q[e] = m[((long long)e * K + k) * P + p];
        T tmp[2][4];
        T col[2];
        for (int s = 0; s < 4; ++s) {           // tmp = AT m, column by column
            at2<T>(q[s], q[4 + s], q[8 + s], q[12 + s], col);
            tmp[0][s] = col[0];
            tmp[1][s] = col[1];
        }
        T b = has_bias ? bias[k] : T(0);
        for (int r = 0; r < 2; ++r) {           // Y = tmp A, row by row, cropped
            int yy = 2 * ty + r;
            if (yy >= OH) continue;
            T out[2];
            at2<T>(tmp[r][0], tmp[r][1], tmp[r][2], tmp[r][3], out);
            long long base = ((long long)(n * K + k) * OH + yy) * OW;
            int xx = 2 * tx;
            y[base + xx] = out[0] + b;
            if (xx + 1 < OW) y[base + xx + 1] = out[1] + b;
        }
    }
}

extern "C" __global__ void winograd_input_f2_f32(const float* xp, int N, int C, int TH, int TW,
                                                 float* v) {
    input_f2_impl<float>(xp, N, C, TH, TW, v);
}

extern "C" __global__ void winograd_input_f2_f64(const double* xp, int N, int C, int TH,
                                                 int TW, double* v) {
    input_f2_impl<double>(xp, N, C, TH, TW, v);
}

extern "C" __global__ void winograd_output_f2_f32(const float* m, const float* bias,
                                                  int has_bias, int N, int K, int TH, int TW,
                                                  int OH, int OW, float* y) {
    output_f2_impl<float>(m, bias, has_bias, N, K, TH, TW, OH, OW, y);
}

extern "C" __global__ void winograd_output_f2_f64(const double* m, const double* bias,
                                                  int has_bias, int N, int K, int TH, int TW,
                                                  int OH, int OW, double* y) {
    output_f2_impl<double>(m, bias, has_bias, N, K, TH, TW, OH, OW, y);
}
