// Optimizer updates for many parameters in ONE launch (PyTorch's "multi-tensor apply"):
// the GPU face of minicv/optim/sgd.py. A training step updates every parameter; one
// launch per elementwise operation per parameter (six for SGD with momentum and weight
// decay) would cost hundreds of launches a step, so all tensors of one dtype go together.
//
// The tensors are described by a table in device memory, one row of int64 per tensor:
//   row t = (param address, grad address, momentum-buffer address, first element, first)
// "first element" is the tensor's offset in the concatenation of all of them (rows are in
// increasing order, row 0 starts at 0), "first" is 1 on the tensor's first step (the
// buffer takes the gradient instead of being updated). One thread per element of the
// concatenation: it finds its row by binary search, then applies PyTorch's rule
//   g = grad (negated if maximize) + weight_decay * p
//   b = g (first step) or momentum * b + (1 - dampening) * g;  g = nesterov ? g + momentum*b : b
//   p = p - lr * g
// Each element is read and written by one thread only: no atomics, deterministic.
// NVRTC: no host headers, extern "C" entry points, 32-bit int arguments.

#define SGD_ROW 5

__device__ int find_row(const long long* table, int rows, int i) {
    int lo = 0, hi = rows - 1;                  // the last row whose first element <= i
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (table[mid * SGD_ROW + 3] <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
}

template <typename T>
__device__ void sgd_impl(const long long* table, int rows, int total, T lr, T momentum,
                         T dampening, T weight_decay, int nesterov, int maximize) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        const long long* row = table + find_row(table, rows, i) * SGD_ROW;
        T* p = reinterpret_cast<T*>(row[0]);
        const T* grad = reinterpret_cast<const T*>(row[1]);
        T* buf = reinterpret_cast<T*>(row[2]);
        long long k = i - row[3];
        T g = maximize ? -grad[k] : grad[k];
        if (weight_decay != T(0)) g += weight_decay * p[k];
        if (momentum != T(0)) {
            T b = row[4] ? g : momentum * buf[k] + (T(1) - dampening) * g;
            buf[k] = b;
            g = nesterov ? g + momentum * b : b;
        }
        p[k] -= lr * g;
    }
}

extern "C" __global__ void sgd_f32(const long long* table, int rows, int total, float lr,
                                   float momentum, float dampening, float weight_decay,
                                   int nesterov, int maximize) {
    sgd_impl<float>(table, rows, total, lr, momentum, dampening, weight_decay, nesterov,
                    maximize);
}

extern "C" __global__ void sgd_f64(const long long* table, int rows, int total, double lr,
                                   double momentum, double dampening, double weight_decay,
                                   int nesterov, int maximize) {
    sgd_impl<double>(table, rows, total, lr, momentum, dampening, weight_decay, nesterov,
                     maximize);
}
