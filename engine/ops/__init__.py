"""Differentiable operations. Each op's forward and backward sit together in
one Function subclass; the kernels they call are named after the file in shaders/."""
from . import elementwise, shape, reduce, matmul, loss  # noqa: F401
from . import pool, norm, dropout, cat  # noqa: F401
from . import conv, conv_block  # noqa: F401
