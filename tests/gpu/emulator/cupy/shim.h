// Host stand-ins for the CUDA built-ins that minicv's kernels use, so that g++ compiles a
// .cu file unchanged and the emulator (tests/gpu/emulator/cupy/_kernels.py) runs each
// kernel thread after thread. Kernels that synchronise threads or share memory cannot run
// this way, so those built-ins are left undefined: such a kernel fails to compile here.
#include <cmath>
#include <cstdint>
#include <cstring>

struct dim3 {
    unsigned x, y, z;
};

// The launcher sets these before it calls the kernel body for one thread.
static dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict

inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline int __float_as_int(float v) { int i; std::memcpy(&i, &v, 4); return i; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
inline long long __double_as_longlong(double v) { long long i; std::memcpy(&i, &v, 8); return i; }

// CUDA's min/max are overloaded for each arithmetic type in the global namespace.
#define EMU_MINMAX(T)                                      \
    inline T min(T a, T b) { return b < a ? b : a; }       \
    inline T max(T a, T b) { return a < b ? b : a; }
EMU_MINMAX(int)
EMU_MINMAX(unsigned)
EMU_MINMAX(long long)
EMU_MINMAX(float)
EMU_MINMAX(double)
#undef EMU_MINMAX

// CUDA overloads its math functions for float in the global namespace (sqrt(float) is
// a float sqrt); <cmath> has those overloads in std::
using std::isnan;
using std::isinf;
using std::sqrt;
using std::exp;
using std::log;
using std::fabs;
