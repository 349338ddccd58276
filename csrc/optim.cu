// Optimizer updates for many parameters in ONE launch (PyTorch's "multi-tensor apply"):
// the GPU face of minicv/optim/sgd.py and adam.py. A training step updates every parameter; one
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
#define ADAM_ROW 8

// The row of element i: the last row whose first element (column ``col`` of a
// ``width``-wide table) is <= i, found by binary search.
__device__ const long long* row_of(const long long* table, int width, int col, int rows,
                                   int i) {
    int lo = 0, hi = rows - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (table[mid * width + col] <= i) lo = mid; else hi = mid - 1;
    }
    return table + (long long)lo * width;
}

// Constants such as 1 - dampening come from the host, computed in double and rounded once,
// as the CPU path's array operations round them.
template <typename T>
__device__ void sgd_impl(const long long* table, int rows, int total, T lr, T momentum,
                         T undamped, T weight_decay, int nesterov, int maximize) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        const long long* row = row_of(table, SGD_ROW, 3, rows, i);
        T* p = reinterpret_cast<T*>(row[0]);
        const T* grad = reinterpret_cast<const T*>(row[1]);
        T* buf = reinterpret_cast<T*>(row[2]);
        long long k = i - row[3];
        T g = maximize ? -grad[k] : grad[k];
        if (weight_decay != T(0)) g += weight_decay * p[k];
        if (momentum != T(0)) {
            T b = row[4] ? g : momentum * buf[k] + undamped * g;
            buf[k] = b;
            g = nesterov ? g + momentum * b : b;
        }
        p[k] -= lr * g;
    }
}

extern "C" __global__ void sgd_f32(const long long* table, int rows, int total, float lr,
                                   float momentum, float undamped, float weight_decay,
                                   int nesterov, int maximize) {
    sgd_impl<float>(table, rows, total, lr, momentum, undamped, weight_decay, nesterov,
                    maximize);
}

extern "C" __global__ void sgd_f64(const long long* table, int rows, int total, double lr,
                                   double momentum, double undamped, double weight_decay,
                                   int nesterov, int maximize) {
    sgd_impl<double>(table, rows, total, lr, momentum, undamped, weight_decay, nesterov,
                     maximize);
}

// Adam / AdamW. Row t = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad, else
// 0), first element, step size lr/(1 - beta1^t), sqrt(1 - beta2^t)); the last two are
// doubles stored bit for bit (each parameter counts its own steps). PyTorch's rule:
//   g = grad (negated if maximize); AdamW: p *= 1 - lr*wd, Adam: g += wd*p
//   m += (1 - beta1)*(g - m);  v = beta2*v + (1 - beta2)*g*g;  amsgrad: vmax = max(vmax, v)
//   p -= step_size * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
// c1 = 1 - beta1, c2 = 1 - beta2, decay = 1 - lr*weight_decay: rounded once on the host.
template <typename T>
__device__ void adam_impl(const long long* table, int rows, int total, T beta2, T c1, T c2,
                          T eps, T weight_decay, T decay, int decoupled, int amsgrad,
                          int maximize) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += blockDim.x * gridDim.x) {
        const long long* row = row_of(table, ADAM_ROW, 5, rows, i);
        T* p = reinterpret_cast<T*>(row[0]);
        const T* grad = reinterpret_cast<const T*>(row[1]);
        T* m = reinterpret_cast<T*>(row[2]);
        T* v = reinterpret_cast<T*>(row[3]);
        T* vmax = reinterpret_cast<T*>(row[4]);
        T step_size = (T)__longlong_as_double(row[6]);
        T bias2_sqrt = (T)__longlong_as_double(row[7]);
        long long k = i - row[5];
        T g = maximize ? -grad[k] : grad[k];
        T w = p[k];
        if (weight_decay != T(0)) {
            if (decoupled) w *= decay;
            else g += weight_decay * w;
        }
        T mk = m[k] + c1 * (g - m[k]);
        T vk = beta2 * v[k] + c2 * (g * g);
        m[k] = mk;
        v[k] = vk;
        if (amsgrad) {
            if (!(vk <= vmax[k])) vmax[k] = vk;     // a NaN propagates, as np.maximum
            vk = vmax[k];
        }
        p[k] = w - step_size * (mk / (sqrt(vk) / bias2_sqrt + eps));
    }
}

extern "C" __global__ void adam_f32(const long long* table, int rows, int total,
                                    float beta2, float c1, float c2, float eps,
                                    float weight_decay, float decay, int decoupled,
                                    int amsgrad, int maximize) {
    adam_impl<float>(table, rows, total, beta2, c1, c2, eps, weight_decay, decay, decoupled,
                     amsgrad, maximize);
}

extern "C" __global__ void adam_f64(const long long* table, int rows, int total,
                                    double beta2, double c1, double c2, double eps,
                                    double weight_decay, double decay, int decoupled,
                                    int amsgrad, int maximize) {
    adam_impl<double>(table, rows, total, beta2, c1, c2, eps, weight_decay, decay, decoupled,
                      amsgrad, maximize);
}
