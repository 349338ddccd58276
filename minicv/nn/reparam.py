"""Weight reparametrisations applied by a forward pre-hook, PyTorch's ``nn.utils.weight_norm``
and ``nn.utils.spectral_norm`` (with ``remove_weight_norm`` / ``remove_spectral_norm``).

Both replace a parameter ``weight`` by others from which the weight is recomputed before
every forward, so the optimizer trains the new parameters and gradients flow through the
recomputation:

* **weight norm** (Salimans & Kingma, 2016): ``weight = g · v / ‖v‖``, the norm taken over
  every dimension but ``dim`` (per output channel by default): direction and length are
  learnt separately. Parameters ``weight_g`` (shape 1 except along ``dim``) and
  ``weight_v``.
* **spectral norm** (Miyato et al., 2018): ``weight = W / σ(W)``, σ the largest singular
  value of W seen as a matrix (``dim`` first, the rest flattened), estimated by power
  iteration on buffers ``weight_u``, ``weight_v`` (one step per training forward); keeps
  a GAN discriminator 1-Lipschitz. Parameter ``weight_orig``.

The state-dict keys are PyTorch's, so checkpoints carry over.
"""
from ..autograd import no_grad
from ..ops.elementwise import div, mul
from ..ops.linalg import dot, mv
from ..ops.reduce import norm
from .parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v, dim):
    """‖v‖₂ over every dimension but ``dim``, kept with size 1 (shape broadcasts to v);
    ``dim=None`` (or -1 in PyTorch's spelling): the norm of the whole tensor."""
    if dim is None:
        return norm(v)
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return norm(v, 2, dim=axes, keepdim=True) if axes else v.abs()


class _WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: sets ``module.<name>`` from g and v."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return mul(v, div(g, _norm_except_dim(v, self.dim)))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _find_hook(module, kind, name):
    for hid, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return hid, hook
    return None, None


def _check_parameter(module, name, what):
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{what}: {type(module).__name__} has no parameter `{name}` "
                         f"(or it is None) to reparametrise")
    return weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as ``g · v / ‖v‖`` (see the module docstring);
    returns the module.

    Args:
        dim: the dimension that keeps its own norm (0: one per output channel); ``None``
            normalises the whole tensor at once.

    Example::

        conv = nn.utils.weight_norm(nn.Conv2d(3, 8, 3))     # parameters weight_g, weight_v
    """
    if _find_hook(module, _WeightNorm, name)[1] is not None:
        raise RuntimeError(f"cannot register two weight_norm hooks on the same parameter "
                           f"{name}")
    weight = _check_parameter(module, name, "weight_norm")
    dim = None if dim is None or dim == -1 else dim % weight.ndim
    fn = _WeightNorm(name, dim)
    with no_grad():
        g = Parameter(_norm_except_dim(weight, dim).detach().clone())
        v = Parameter(weight.detach().clone())
    del module._parameters[name]
    module.register_parameter(name + "_g", g)
    module.register_parameter(name + "_v", v)
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``module.<name>`` becomes a plain parameter again, holding
    the current ``g · v / ‖v‖``."""
    hid, fn = _find_hook(module, _WeightNorm, name)
    if fn is None:
        raise ValueError(f"weight_norm of '{name}' not found in {type(module).__name__}")
    with no_grad():
        weight = fn.compute_weight(module).detach()
    del module._forward_pre_hooks[hid]
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    object.__getattribute__(module, "__dict__").pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module


def _weight_as_matrix(weight, dim):
    """The weight with ``dim`` first and the other dimensions flattened: (h, w)."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def _unit(x, eps):
    """x / max(‖x‖₂, eps) for a vector (``F.normalize(x, dim=0, eps=eps)``)."""
    return div(x, norm(x).clamp(min=eps))


class _SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: sets ``module.<name>`` to
    W / σ, first refining the singular vectors u, v in training mode."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n_power_iterations, self.dim, self.eps = (
            name, n_power_iterations, dim, eps)

    def as_matrix(self, weight):
        return _weight_as_matrix(weight, self.dim)

    def _unit(self, x):
        return _unit(x, self.eps)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        w = self.as_matrix(weight)                                      # (h, w)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(self._unit(mv(w.t(), u)))                   # in place: the
                    u.copy_(self._unit(mv(w, v)))                       # buffers update
            u, v = u.clone(), v.clone()
        sigma = dot(u, mv(w, v))                                        # uᵀ W v ≈ σ_max
        return div(weight, sigma)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value, estimated by
    ``n_power_iterations`` power-iteration steps per training forward (see the module
    docstring); returns the module.

    Args:
        dim: the dimension that becomes the matrix's rows: 0, or 1 for the transposed
            convolutions (their output channels), when None.

    Example::

        disc = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(3, 64, 4, 2, 1)), ...)
    """
    if _find_hook(module, _SpectralNorm, name)[1] is not None:
        raise RuntimeError(f"cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    if n_power_iterations <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")
    weight = _check_parameter(module, name, "spectral_norm")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = _SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        h, w = fn.as_matrix(weight).shape
        u = fn._unit(weight.new_empty(h).normal_(0, 1))
        v = fn._unit(weight.new_empty(w).normal_(0, 1))
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a plain parameter holding
    the current W / σ (no further power iteration)."""
    hid, fn = _find_hook(module, _SpectralNorm, name)
    if fn is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {type(module).__name__}")
    with no_grad():
        weight = fn.compute_weight(module, do_power_iteration=False).detach()
    del module._forward_pre_hooks[hid]
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"], module._buffers[name + "_v"]
    object.__getattribute__(module, "__dict__").pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
