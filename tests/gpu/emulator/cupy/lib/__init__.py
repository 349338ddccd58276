"""``cupy.lib`` emulated: only ``stride_tricks``."""
from . import stride_tricks                                     # noqa: F401
