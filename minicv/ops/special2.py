"""The special functions of ``torch.special`` that the rest of minicv lacks: polygamma,
multigammaln (mvlgamma), the Hurwitz zeta function, the modified Bessel functions i0, i0e,
i1, i1e, the normal distribution's ndtr, ndtri and log_ndtr, erfcx, entr, xlog1py and
spherical_bessel_j0; and ``histogram``.

Everything is written with ``np.*`` functions, which run on CuPy arrays too through
NumPy's dispatch (``__array_ufunc__``/``__array_function__``; the ``np.errstate`` blocks
silence warnings on the CPU only and do nothing there), computed in float64 and cast back
to the input's dtype, with the algorithms PyTorch takes from Cephes: Chebyshev series for the
Bessel functions, rational approximations for ndtri, the Euler-Maclaurin sum for zeta.
Loops that Cephes ends early run here a fixed number of times, masked, so that no value
is read back from a GPU.
"""
import math
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import get_array_module, scatter_add
from ..factories import linspace
from ..tensor import Tensor, as_tensor_arg
from . import elementwise as E, reduce as R
from .activation import _erf
from .elementwise import _float_operands, _binary, same_module, _arr
from .special import Xlogy, _in_float64, _horner, _digamma, _erfc, lgamma
from .trig import OfInput, OfOutput, floating

_MACHEP = 1.11022302462515654042e-16                 # Cephes' machine epsilon, 2⁻⁵³
_SQRT_2PI = math.sqrt(2 * math.pi)


# ----------------------------------------------------------------------------- zeta, polygamma

# Euler-Maclaurin: the k-th correction term is s(s+1)...(s+2k-2)·w^(1-s-2k)·B₂ₖ/(2k)!,
# written (as Cephes) as a product divided by (2k)!/B₂ₖ, the numbers below.
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def _zeta_positive(s, q):
    """ζ(s, q) = Σₖ (q + k)⁻ˢ for q > 0, s > 1 (float64), by Cephes' method: the first
    ten terms summed, the tail from w = q + 9 by Euler-Maclaurin. Cephes stops as soon as
    a term is below 2⁻⁵³ of the sum; here the later terms are masked out instead."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        total = q ** -s
        a = q
        live = np.ones_like(q, dtype=bool)
        for _ in range(9):
            a = a + 1
            b = a ** -s
            total = np.where(live, total + b, total)
            live = live & ~(np.abs(b) < _MACHEP * total)
        total = np.where(live, total + b * a / (s - 1) - 0.5 * b, total)
        w, fac, k = a, 1.0, 0.0
        for c in _ZETA_A:
            fac = fac * (s + k)
            b = b / w
            t = fac * b / c
            total = np.where(live, total + t, total)
            live = live & ~(np.abs(t / total) < _MACHEP)
            fac = fac * (s + k + 1)
            b = b / w
            k += 2
    return total


def _zeta(s, q):
    """The Hurwitz zeta function ζ(s, q) (float64), with PyTorch's domain: inf for s = 1
    or q a non-positive integer, NaN for s < 1 or for q < 0 with s not an integer. For
    q < 0 (s an integer) the sum over q + k < 0 is folded onto positive arguments:
    with f = q - ⌊q⌋ and g = 1 - f = -q - ⌊-q⌋ (taken from -q, so that a tiny q keeps its
    digits), ζ(s, q) = ζ(s, f) + (-1)ˢ·(ζ(s, g) - ζ(s, 1 - q))."""
    neg = q < 0
    with np.errstate(invalid="ignore"):
        f = q - np.floor(q)
        g = -q - np.floor(-q)
        direct = _zeta_positive(s, np.where(neg, f, q))
        odd = np.fmod(s, 2) == 1
        folded = _zeta_positive(s, g) - _zeta_positive(s, 1 - q)
        z = np.where(neg, direct + np.where(odd, -folded, folded), direct)   # inf - inf: NaN
    z = np.where(neg & (s != np.floor(s)), math.nan, z)
    z = np.where((q <= 0) & (q == np.floor(q)), math.inf, z)
    z = np.where(s < 1, math.nan, np.where(s == 1, math.inf, z))
    return np.where(np.isnan(s) | np.isnan(q) | (q == math.inf), math.nan, z)


def _factorial(k):
    """k! as a float (inf past float64's range)."""
    return float(math.factorial(k)) if k <= 170 else math.inf


def _cot_derivative(n):
    """Coefficients (lowest power first) of the polynomial Pₙ with
    dⁿ/dxⁿ cot(πx) = πⁿ·Pₙ(cot πx): P₀(c) = c, Pₖ₊₁(c) = -(1 + c²)·Pₖ'(c)."""
    p = [0.0, 1.0]                        # floats: they overflow to inf, not to a huge int
    for _ in range(n):
        dp = [i * c for i, c in enumerate(p)][1:] + [0.0, 0.0]
        p = [-(dp[j] + (dp[j - 2] if j >= 2 else 0.0)) for j in range(len(dp))]
    return p


def _polygamma(n, x):
    """ψ⁽ⁿ⁾(x) (float64): digamma for n = 0, else (-1)ⁿ⁺¹·n!·ζ(n + 1, x) for x > 0; for
    x < 0 the reflection ψ⁽ⁿ⁾(x) = (-1)ⁿ·ψ⁽ⁿ⁾(1 - x) - π·dⁿ/dxⁿ cot(πx)."""
    if n == 0:
        return _digamma(x)
    sign = 1.0 if n % 2 else -1.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        neg = x < 0
        z = np.where(neg, 1 - x, x)
        series = sign * _factorial(n) * _zeta(np.full_like(z, n + 1.0), z)
        # z > 1e8: (n-1)!/zⁿ·(1 + n/(2z) + n(n+1)/(12z²)), where the series' z⁻ⁿ⁻¹ underflows
        u = 1 / z
        far = sign * _factorial(n - 1) * u ** n * (1 + u * (n / 2 + u * (n * (n + 1) / 12)))
        psi = np.where(z > 1e8, far, series)
        cot = 1 / np.tan(math.pi * (x - np.round(x)))                # exact reduction
        cot_n = math.pi ** (n + 1) * _horner(cot, _cot_derivative(n)[::-1])
        reflected = (-sign) * psi - cot_n
    y = np.where(neg, reflected, psi)
    return np.where(neg & (x == np.round(x)), sign * math.inf, y)    # the poles, as PyTorch


class Polygamma(OfInput):
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma; d/dx = ψ⁽ⁿ⁺¹⁾(x). Saved: x (n in ctx)."""
    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _in_float64(lambda v: _polygamma(n, v), x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _in_float64(lambda v: _polygamma(ctx.n + 1, v), x), None


# ----------------------------------------------------------------------------- Bessel i0, i1

def _chbevl(x, coefficients):
    """Σ cᵢ·Tᵢ(x) by Clenshaw's recurrence, Cephes' ``chbevl`` (highest order first)."""
    b0, b1, b2 = coefficients[0], 0.0, 0.0
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


# Cephes: exp(-x)·I0(x) on [0, 8] in T(x/2 - 2); exp(-x)·√x·I0(x) on [8, inf) in T(32/x - 2)
_I0_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
         1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
         -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
         9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
         -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
         1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
         -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
         1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
         -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
         1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1)
_I0_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
         3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
         1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
         -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
         7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
         -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
         3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
         2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
         8.04490411014108831608e-1)
# Cephes: exp(-x)·I1(x)/x on [0, 8]; exp(-x)·√x·I1(x) on [8, inf)
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1)


def _i0e(x):
    """exp(-|x|)·I0(x) (float64), even in x."""
    ax = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = _chbevl(32 / ax - 2, _I0_B) / np.sqrt(ax)
    return np.where(ax <= 8, _chbevl(ax / 2 - 2, _I0_A), far)


def _i1e(x):
    """exp(-|x|)·I1(x) (float64), odd in x."""
    ax = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = _chbevl(32 / ax - 2, _I1_B) / np.sqrt(ax)
    return np.copysign(np.where(ax <= 8, _chbevl(ax / 2 - 2, _I1_A) * ax, far), x)


def _i0(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(np.abs(x)) * _i0e(x)


def _i1(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(np.abs(x)) * _i1e(x)


class I0(OfInput):
    """I0(x), the modified Bessel function of the first kind of order 0; d/dx = I1(x)."""
    @staticmethod
    def f(x):
        return _in_float64(_i0, x)

    @staticmethod
    def df(x):
        return _in_float64(_i1, x)


class I0e(OfInput):
    """exp(-|x|)·I0(x); d/dx = i1e(x) - sign(x)·i0e(x)."""
    @staticmethod
    def f(x):
        return _in_float64(_i0e, x)

    @staticmethod
    def df(x):
        return _in_float64(lambda v: _i1e(v) - np.sign(v) * _i0e(v), x)


class I1(OfInput):
    """I1(x), order 1; d/dx = I0(x) - I1(x)/x, and 1/2 at 0."""
    @staticmethod
    def f(x):
        return _in_float64(_i1, x)

    @staticmethod
    def df(x):
        return _in_float64(lambda v: np.where(v == 0, 0.5, _i0(v) - _i1(v) / v), x)


class I1e(OfInput):
    """exp(-|x|)·I1(x); d/dx = i0e(x) - i1e(x)·(sign(x) + 1/x), and 1/2 at 0."""
    @staticmethod
    def f(x):
        return _in_float64(_i1e, x)

    @staticmethod
    def df(x):
        def d(v):
            return np.where(v == 0, 0.5, _i0e(v) - _i1e(v) * (np.sign(v) + 1 / v))
        return _in_float64(d, x)


# ----------------------------------------------------------------------------- normal distribution

def _ndtr(x):
    """Φ(x) = (1 + erf(x/√2))/2 (float64); erfc of |x|/√2 in the tails, as Cephes."""
    y = x * math.sqrt(0.5)
    r = 0.5 * _erfc(np.abs(y))
    return np.where(np.abs(y) < math.sqrt(0.5), 0.5 + 0.5 * _erf(y),
                    np.where(y > 0, 1 - r, r))


# Cephes ndtri: a rational function of (y - 1/2)² in the middle, of 1/√(-2 log y) in the
# tails (two intervals), coefficients highest power first.
_NDTRI_P0 = (-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
             1.39312609387279679503e1, -1.23916583867381258016e0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
             -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
             1.59056225126211695515e1, -1.18331621121330003142e0)
_NDTRI_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
             4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
             -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
             1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
             -3.80806407691578277194e-2, -9.33259480895457427372e-4)
_NDTRI_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
             1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
             3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
             2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
             2.89247864745380683936e-6, 6.79019408009981274425e-9)
_EXP_M2 = 0.13533528323661269189                         # exp(-2)


def _ndtri(p):
    """Φ⁻¹(p) (float64), Cephes' ndtri: -inf at 0, inf at 1, NaN outside [0, 1]."""
    upper = p > 1 - _EXP_M2
    y = np.where(upper, 1 - p, p)
    c = y - 0.5
    c2 = c * c
    middle = (c + c * (c2 * _horner(c2, _NDTRI_P0) / _horner(c2, _NDTRI_Q0))) * _SQRT_2PI
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.sqrt(-2 * np.log(y))
        z = 1 / t
        near = z * _horner(z, _NDTRI_P1) / _horner(z, _NDTRI_Q1)
        far = z * _horner(z, _NDTRI_P2) / _horner(z, _NDTRI_Q2)
        tail = t - np.log(t) / t - np.where(t < 8, near, far)
    x = np.where(y > _EXP_M2, middle, np.where(upper, tail, -tail))
    x = np.where(p == 0, -math.inf, np.where(p == 1, math.inf, x))
    return np.where((p < 0) | (p > 1), math.nan, x)


def _erfcx_positive(x):
    """exp(x²)·erfc(x) for x >= 0 (float64): directly below 4 (relative error ~x²·2⁻⁵³),
    beyond by Laplace's continued fraction 1/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    taken 50 levels deep."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        near = np.exp(x * x) * _erfc(np.minimum(x, 4.0))
        t = x
        for k in range(50, 0, -1):
            t = x + (k / 2) / t
        return np.where(x < 4, near, 1 / (math.sqrt(math.pi) * t))


def _erfcx(x):
    """exp(x²)·erfc(x) (float64); for x < 0 it is 2·exp(x²) - erfcx(-x)."""
    ax = np.abs(x)
    pos = _erfcx_positive(ax)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x < 0, 2 * np.exp(x * x) - pos, pos)


def _log_ndtr(x):
    """log Φ(x) (float64): log(erfcx(-x/√2)/2) - x²/2 below -1, where Φ underflows,
    log1p(-erfc(x/√2)/2) above, as PyTorch (after SciPy)."""
    t = x * math.sqrt(0.5)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = np.log(_erfcx(-t) / 2) - t * t
        high = np.log1p(-_erfc(np.maximum(t, -1.0)) / 2)
    return np.where(x < -1, low, high)


class Ndtr(OfInput):
    """Φ(x), the standard normal CDF; d/dx = φ(x) = exp(-x²/2)/√(2π)."""
    @staticmethod
    def f(x):
        return _in_float64(_ndtr, x)

    @staticmethod
    def df(x):
        return np.exp(-0.5 * x * x) / _SQRT_2PI


class Ndtri(OfOutput):
    """Φ⁻¹(p); d/dp = √(2π)·exp(y²/2) with y = Φ⁻¹(p). Saved: y."""
    @staticmethod
    def f(p):
        return _in_float64(_ndtri, p)

    @staticmethod
    def df(y):
        return _SQRT_2PI * np.exp(0.5 * y * y)


def _mills_inverse(x):
    """φ(x)/Φ(x) = √(2/π) / erfcx(-x/√2) (float64): with Φ(x) = erfcx(-x/√2)·exp(-x²/2)/2
    the exponentials cancel on paper, so nothing cancels in floating point (exp(-x²/2 -
    log Φ(x)) loses every digit in float32 below x ≈ -1e3)."""
    with np.errstate(over="ignore"):
        return math.sqrt(2 / math.pi) / _erfcx(-x / math.sqrt(2))


class LogNdtr(Function):
    """log Φ(x); d/dx = φ(x)/Φ(x) (see :func:`_mills_inverse`), finite for very negative
    x. Saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_float64(_log_ndtr, x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _in_float64(_mills_inverse, x)


class Erfcx(Function):
    """exp(x²)·erfc(x); d/dx = 2x·erfcx(x) - 2/√π. Saved: x and the output."""
    @staticmethod
    def forward(ctx, x):
        y = _in_float64(_erfcx, x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            return gy * (2 * x * y - 2 / math.sqrt(math.pi))


# ----------------------------------------------------------------------------- entr, xlog1py

class Entr(OfInput):
    """-x·log(x) for x > 0, 0 at 0, -inf below; d/dx = -(1 + log x) (inf at 0, NaN below)."""
    @staticmethod
    def f(x):
        y = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0.0, -math.inf))
        return np.where(np.isnan(x), x, y).astype(x.dtype, copy=False)

    @staticmethod
    def df(x):
        return -(1 + np.log(x))


class Xlog1py(Xlogy):
    """a·log1p(b), 0 where a = 0 (unless b is NaN); d/da = log1p(b), but 0 where a = 0 and
    b <= -1 (PyTorch's rule); d/db = a / (1 + b). Saved: a, b."""
    log, pole = staticmethod(np.log1p), -1


# ----------------------------------------------------------------------------- wrappers

def polygamma(n, input):
    """ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ log Γ(x), the n-th derivative of digamma (n = 0 is digamma):
    (-1)ⁿ⁺¹·n!·ζ(n + 1, x) for n >= 1, with ζ the Hurwitz zeta function. ±inf at the poles
    x = 0, -1, -2, ... Integers give the default float dtype; the gradient is
    ψ⁽ⁿ⁺¹⁾(x). Deliberate difference: n = 1 is exact to ~1e-15 (PyTorch's trigamma series
    is good to ~1e-8).

    Args:
        n (int): the order, >= 0.
        input (Tensor): the points x.

    Example::

        mc.polygamma(1, mc.tensor([1., 0.5]))     # tensor([1.6449, 4.9348])  (π²/6, π²/2)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n})")
    return Polygamma.apply(floating(input), int(n))


def polygamma_(self, n):
    """In-place :func:`polygamma` of order ``n`` (a floating ``self``)."""
    return self._update("polygamma_", lambda t: polygamma(n, t).to(self.dtype))


def _tensor_polygamma(self, n):
    """``x.polygamma(n)`` is ``mc.polygamma(n, x)``."""
    return polygamma(n, self)


def multigammaln(input, p):
    """The multivariate log-gamma function with dimension ``p``:
    log Γₚ(x) = p(p-1)/4·log π + Σᵢ₌₀ᵖ⁻¹ lgamma(x - i/2). Its gradient is
    Σᵢ digamma(x - i/2). Defined for x > (p-1)/2 (inf or a meaningless value below, as
    PyTorch 2.13, which no longer checks).

    Shape: as ``input``.

    Example::

        mc.special.multigammaln(mc.tensor([2.5, 3.]), 2)   # tensor([0.8570, 1.5502])
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"multigammaln(): argument 'p' must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1 (got p={p})")
    x = floating(input)
    xp = get_array_module(x.data)
    halves = Tensor(xp.arange(p, dtype=x.dtype) / 2)                 # (p,)
    terms = lgamma(E.sub(x.unsqueeze(-1), halves))                    # (*x.shape, p)
    return E.add(R.sum(terms, dim=-1), p * (p - 1) / 4 * math.log(math.pi))


def mvlgamma_(self, p):
    """In-place :func:`multigammaln` (PyTorch's ``Tensor.mvlgamma_``)."""
    return self._update("mvlgamma_", lambda t: multigammaln(t, p).to(self.dtype))


def i0(input):
    """I0(x) = Σₖ (x²/4)ᵏ/(k!)², the modified Bessel function of the first kind of order 0
    (Cephes' Chebyshev series). Integers give the default float dtype.

    Example::

        mc.i0(mc.tensor([0., 1.]))                # tensor([1.0000, 1.2661])
    """
    return I0.apply(floating(input))


def i0e(input):
    """exp(-|x|)·I0(x), which does not overflow for large |x|.

    Example::

        mc.special.i0e(mc.tensor([0., 1.]))       # tensor([1.0000, 0.4658])
    """
    return I0e.apply(floating(input))


def i1(input):
    """I1(x) = (x/2)·Σₖ (x²/4)ᵏ/(k!(k+1)!), the modified Bessel function of order 1 (odd).

    Example::

        mc.special.i1(mc.tensor([0., 1.]))        # tensor([0.0000, 0.5652])
    """
    return I1.apply(floating(input))


def i1e(input):
    """exp(-|x|)·I1(x).

    Example::

        mc.special.i1e(mc.tensor([0., 1.]))       # tensor([0.0000, 0.2079])
    """
    return I1e.apply(floating(input))


def ndtr(input):
    """Φ(x) = (1 + erf(x/√2))/2, the standard normal distribution function.

    Example::

        mc.special.ndtr(mc.tensor([0., 1.]))      # tensor([0.5000, 0.8413])
    """
    return Ndtr.apply(floating(input))


def ndtri(input):
    """Φ⁻¹(p), the inverse of :func:`ndtr` (the normal quantile): -inf at 0, inf at 1,
    NaN outside [0, 1].

    Example::

        mc.special.ndtri(mc.tensor([0.5, 0.9]))   # tensor([0.0000, 1.2816])
    """
    return Ndtri.apply(floating(input))


def log_ndtr(input):
    """log Φ(x), accurate where Φ(x) underflows (≈ -x²/2 - log(-x√(2π)) for x → -inf).

    Example::

        mc.special.log_ndtr(mc.tensor([0., -40.]))   # tensor([-0.6931, -804.6084])
    """
    return LogNdtr.apply(floating(input))


def erfcx(input):
    """The scaled complementary error function exp(x²)·erfc(x), finite for large x
    (≈ 1/(x√π)); it overflows to inf for x below about -26.6.

    Example::

        mc.special.erfcx(mc.tensor([0., 30.]))    # tensor([1.0000, 0.0188])
    """
    return Erfcx.apply(floating(input))


def entr(input):
    """The elementwise entropy -x·log(x): 0 at x = 0, -inf for x < 0.

    Example::

        mc.special.entr(mc.tensor([0., 0.5]))     # tensor([0.0000, 0.3466])
    """
    return Entr.apply(floating(input))


def xlog1py(input, other):
    """input · log1p(other), and 0 where input == 0 (unless other is NaN). Either may be a
    number, not both; integers give the default float dtype.

    Shape: the broadcast shape of ``input`` and ``other``.

    Example::

        mc.special.xlog1py(mc.tensor([0., 2.]), mc.tensor([-1., 0.5]))   # tensor([0., 0.8109])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlog1py(): expected a Tensor input or other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    return _binary(Xlog1py, *_float_operands(input, other))


def zeta(input, other):
    """The Hurwitz zeta function ζ(x, q) = Σₖ₌₀^∞ (q + k)⁻ˣ (x = ``input``, q = ``other``):
    inf for x = 1 or q = 0, -1, ...; NaN for x < 1 and for q < 0 with x not an integer.
    Either may be a number, not both. Deliberate difference: the result never requires
    grad (PyTorch raises when a backward reaches it).

    Shape: the broadcast shape of ``input`` and ``other``.

    Example::

        mc.special.zeta(mc.tensor([2.]), 1.)      # tensor([1.6449])  (π²/6)
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"zeta(): expected a Tensor input or other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = _float_operands(input, other)
    _, (s, q) = same_module(_arr(a), _arr(b))
    with np.errstate(over="ignore"):
        z = _zeta(s.astype(np.float64, copy=False), q.astype(np.float64, copy=False))
    return Tensor(z.astype(a.dtype, copy=False))


def spherical_bessel_j0(input):
    """j0(x) = sin(x)/x, the spherical Bessel function of the first kind of order 0
    (its Taylor series for |x| < 1/2; 0 at ±inf). Deliberate difference: the result never
    requires grad (PyTorch gives it no gradient either, and raises at backward).

    Example::

        mc.special.spherical_bessel_j0(mc.tensor([0., 3.1416]))   # tensor([1., -0.])
    """
    x = _arr(floating(input))

    def j0(v):
        v2 = v * v
        taylor = 1 + v2 * _horner(v2, (1 / 6227020800, -1 / 39916800, 1 / 362880,
                                       -1 / 5040, 1 / 120, -1 / 6))
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(np.abs(v) < 0.5, taylor, np.sin(v) / v)
        return np.where(np.isinf(v), 0.0, y)
    return Tensor(_in_float64(j0, x))


# ----------------------------------------------------------------------------- histogram

histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins, *, range=None, weight=None, density=False):
    """Histogram of the values of ``input`` (flattened): ``bins`` equal-width bins over
    ``range`` (default [input.min(), input.max()], widened to [v - 0.5, v + 0.5] when
    all values are v, [0, 1] when input is empty), or a 1-D tensor of increasing bin
    edges. A bin holds [left, right) and the last one also its right edge; values outside
    (and NaN) are not counted. Floating input only; not differentiable.

    Args:
        weight: a tensor of input's shape: each value counts with its weight.
        density: divide by the total and by the bin widths, so the histogram integrates
            to 1.

    Returns:
        (hist, bin_edges): shapes (B,) and (B + 1,), input's dtype.

    Example::

        mc.histogram(mc.tensor([1., 2., 1.]), bins=4, range=(0., 3.))
        # (hist=tensor([0., 2., 1., 0.]), bin_edges=tensor([0., 0.75, 1.5, 2.25, 3.]))
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        raise TypeError(f"histogram(): input must be a floating tensor, got {x.dtype}: "
                        f"call .float() first")
    d = _arr(x).reshape(-1)                                           # (N,)
    xp = get_array_module(d)
    edges = _histogram_edges(x, d, bins, range)                       # (B + 1,)
    n_bins = edges.shape[0] - 1
    w = _histogram_weight(x, weight)
    # bin i holds edges[i] <= v < edges[i + 1]; the right edge of the last bin belongs to it
    pos = xp.searchsorted(edges, d, side="right") - 1
    pos = xp.where(d == edges[-1], n_bins - 1, pos)
    inside = (d >= edges[0]) & (d <= edges[-1])                       # False for NaN
    hist = xp.zeros(n_bins, x.dtype)
    values = inside.astype(x.dtype) if w is None else xp.where(inside, w, 0).astype(x.dtype)
    scatter_add(xp, hist, xp.where(inside, pos, 0), values)
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return histogram_result(Tensor(hist), Tensor(edges))


def _histogram_edges(x, d, bins, range):
    """The bin edges: from a count and a range, or the given edges tensor checked."""
    if isinstance(bins, Tensor):
        if bins.ndim != 1:
            raise ValueError(f"histogram(): bins tensor should have one dimension, but got "
                             f"{bins.ndim} dimensions")
        if bins.dtype != x.dtype:
            raise RuntimeError(f"histogram(): input and bins should have the same dtype, "
                               f"but got {x.dtype} and {bins.dtype}: convert with .to()")
        if bins.shape[0] < 1:
            raise ValueError("histogram(): bins tensor should have at least 1 element")
        return same_module(d, _arr(bins))[1][1]
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histogram(): bins must be an int or a 1-D tensor, not "
                        f"{type(bins).__name__}")
    if bins <= 0:
        raise RuntimeError(f"histogram(): bins must be > 0, but got {bins}")
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    elif d.size:
        lo, hi = float(d.min()), float(d.max())          # reads the data (a sync on GPU)
    else:
        lo, hi = 0.0, 1.0
    if lo > hi:
        raise RuntimeError(f"histogram(): min should not exceed max, but got min {lo} "
                           f"max {hi}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"histogram(): range of [{lo}, {hi}] is not finite: pass a finite "
                         f"range= (a NaN or inf in the data spoils the automatic range)")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return _arr(linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device))   # as PyTorch


def _histogram_weight(x, weight):
    if weight is None:
        return None
    w = as_tensor_arg(weight)
    if w.shape != x.shape:
        raise RuntimeError(f"histogram(): weight should have the shape of input "
                           f"{list(x.shape)}, but got {list(w.shape)}")
    return same_module(_arr(x), _arr(w))[1][1].reshape(-1)
