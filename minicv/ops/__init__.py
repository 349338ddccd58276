"""Differentiable ops, one module per family. Each op is a ``Function`` subclass with
``forward`` and ``backward`` side by side, followed by a lowercase public wrapper."""
