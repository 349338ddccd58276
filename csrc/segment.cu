// Max and min over runs of equal keys: the GPU face of NumPy's ``maximum.at`` (scatter
// with repeated positions) and ``maximum.reduceat`` (reduce runs of rows), which CuPy
// lacks (reduceat) or gets wrong (CuPy 14.2's maximum.at on float64 writes float32).
//
//   target (T, D), keys (M,) sorted ascending, values (M, D):
//   target[keys[i], d] = op(target[keys[i], d], op over the rows j of i's run of values[j, d])
//
// One thread per (row, column): the thread of a run's first row walks the run in order
// and writes once; the others return. Each place is written by one thread only: no
// atomics, deterministic. ``op`` is NumPy's maximum / minimum: a NaN wins (integers have
// none). Keys are int64 row numbers of target, in [0, T).
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

template <typename T>
__device__ T maximum_op(T a, T b) {
    if (a != a) return a;          // NaN propagates, as np.maximum
    if (b != b) return b;
    return a < b ? b : a;
}

template <typename T>
__device__ T minimum_op(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    return b < a ? b : a;
}

template <typename T, bool IS_MAX>
__device__ void runs_reduce(T* target, const long long* keys, const T* values, int m, int d) {
    int total = m * d;
    for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < total;
         t += blockDim.x * gridDim.x) {
        int i = t / d, col = t - i * d;
        long long key = keys[i];
        if (i > 0 && keys[i - 1] == key) continue;           // not the first row of a run
        T acc = values[(long long)i * d + col];
        for (int j = i + 1; j < m && keys[j] == key; ++j) {
            T v = values[(long long)j * d + col];
            acc = IS_MAX ? maximum_op(acc, v) : minimum_op(acc, v);
        }
        T* out = target + key * d + col;
        *out = IS_MAX ? maximum_op(*out, acc) : minimum_op(*out, acc);
    }
}

#define RUNS(NAME, T, IS_MAX)                                                          \
    extern "C" __global__ void NAME(T* target, const long long* keys, const T* values, \
                                    int m, int d) {                                    \
        runs_reduce<T, IS_MAX>(target, keys, values, m, d);                            \
    }

RUNS(runs_max_f32, float, true)
RUNS(runs_max_f64, double, true)
RUNS(runs_max_i64, long long, true)
RUNS(runs_min_f32, float, false)
RUNS(runs_min_f64, double, false)
RUNS(runs_min_i64, long long, false)
