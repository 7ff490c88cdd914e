"""The cache key of a probed run (:func:`reptheory.lab.probe`, :func:`reptheory.lab.probe_many`): digests that are the
same in every session and process for the same model, layer and data, and differ when anything a run reads differs.
A model: its printed structure, parameters (values, which train, tied ones once), buffers, the attributes and hooks
of every submodule, and the methods and class attributes of its classes. A layer, and every value met on the way
(:func:`value_digest`): numbers, strings, containers, tensors and arrays by value; a function by its bytecode (not
its docstring), attributes, closure, defaults and the globals it reads; a library's function or class by name and
version (its closure too); the user's own module by its public contents, a library's by name; another object by its
class and attributes. What cannot be keyed (a generator, an open file, state kept in C, nesting deeper than
:data:`DEPTH`) raises :class:`Unkeyable`, naming it.

>>> import torch
>>> a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
>>> model_digest(a) == model_digest(a), model_digest(a) == model_digest(b)
(True, False)
>>> layers = [lambda m, x, k=k: m[:k](x) for k in (1, 2)]
>>> layer_digest(layers[0]) == layer_digest(layers[1])
False
"""
from __future__ import annotations

import dis
import enum
import fractions
import decimal
import functools
import hashlib
import logging
import pathlib
import sys
import sysconfig
import types
import weakref
from collections import defaultdict, deque

import numpy as np
import torch
import torch.nn.modules.module as _torch_module
from torch.utils.hooks import RemovableHandle

__all__ = ["DEPTH", "Unkeyable", "value_digest", "code_digest", "array_digest",
           "attributes", "model_digest", "layer_digest"]

#: the deepest chain of references followed from a model or layer
DEPTH = 24

# nn.Module's own bookkeeping (parameters, buffers and submodules are keyed by value and name; hooks below)
_BOOKKEEPING = frozenset(vars(torch.nn.Module()))
_HOOKS = (("forward_pre_hooks", "forward_pre_hooks_with_kwargs", None),
          ("forward_hooks", "forward_hooks_with_kwargs", "forward_hooks_always_called"),
          ("backward_pre_hooks", None, None), ("backward_hooks", None, None))
_BY_REPR = (type(None), range, slice, type(Ellipsis), type(NotImplemented), torch.dtype, torch.device,
            torch.layout, torch.memory_format, decimal.Decimal, fractions.Fraction, pathlib.PurePath)
_PLAIN = (bool, int, float, complex, str)
_BUILTIN_CALLABLES = (types.BuiltinFunctionType, types.MethodWrapperType, types.WrapperDescriptorType,
                      types.MethodDescriptorType, types.ClassMethodDescriptorType)
_HEAPTYPE = 1 << 9                  # Py_TPFLAGS_HEAPTYPE: a class not statically defined in C


class Unkeyable(TypeError):
    """A model or layer holds something the cache key cannot cover; the message names it (``where``)."""

    def __init__(self, where: str, value, why: str):
        self.where, self.why = where, why
        super().__init__(f"{where} of type {type(value).__qualname__} cannot be keyed ({why})")


class _Ctx:
    """One digest's state: the path followed (for cycles), the digests made, the model's own modules and tensors."""

    def __init__(self):
        self.path, self.memo, self.known = [], {}, {}       # ids; id -> (object, digest); id -> name


def _at(where: str, step: str) -> str:
    return f"{where} → {step}" if where.endswith("'") else f"{where}'s {step}"


_INSTALLED = tuple(sorted({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}))


def _installed(file: str) -> bool:
    return file.startswith(_INSTALLED) or any(d in file for d in ("site-packages", "dist-packages"))


@functools.lru_cache(maxsize=None)
def _library(module) -> str | None:
    """``"name version"`` of the installed library (stdlib, site-packages) that the module named ``module`` is
    from, else ``None`` (the user's code, and reptheory's however installed: keyed by code, not a version)."""
    top = (module or "__main__").split(".")[0]
    mod = sys.modules.get(top)
    file = getattr(mod, "__file__", None) or ""
    if top not in ("__main__", "reptheory") and (top in sys.builtin_module_names or _installed(file)):
        return f"{top} {getattr(mod, '__version__', '') or sys.version.split()[0]}"
    return None


def _name(obj) -> str:
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _c_state(cls) -> type | None:
    """The first class in ``cls``'s MRO defined in C (whose instances keep state outside ``__dict__``)."""
    for klass in cls.__mro__[:-1]:
        file = getattr(sys.modules.get(klass.__module__), "__file__", None) or ""
        if not klass.__flags__ & _HEAPTYPE or file.endswith((".so", ".pyd")):
            return klass
    return None


def code_digest(h, code: types.CodeType) -> None:
    """Feed ``code``'s bytecode, names and constants to ``h`` (nested code included; file names, line numbers and
    a function's docstring, its first constant in CPython 3.11, left out): the same in every session and process."""
    h.update(code.co_code + repr((code.co_names, code.co_varnames)).encode())     # as two updates: the same digest
    doc = code.co_flags & 1 and code.co_consts and isinstance(code.co_consts[0], str)    # 1: CO_OPTIMIZED, a function
    for c in code.co_consts[1 if doc else 0:]:
        if isinstance(c, types.CodeType):
            code_digest(h, c)
        elif isinstance(c, frozenset):     # a set literal: its printed order changes with the hash seed
            h.update(repr(sorted(map(repr, c))).encode())
        else:
            h.update(repr(c).encode())


def _globals_read(code: types.CodeType) -> set[str]:
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _globals_read(c)
    return names


def array_digest(a, where: str = "a tensor") -> str:
    """A tensor or numpy array by its dtype, shape and bytes (object arrays: use :func:`value_digest`)."""
    if isinstance(a, np.ndarray):
        head = f"numpy|{a.dtype.descr}|{a.shape}|"
        raw = np.ascontiguousarray(a).tobytes()
    elif isinstance(a, torch.nn.parameter.UninitializedTensorMixin):    # a lazy module's: drawn on first use
        return f"uninitialized {a.dtype}"
    else:
        t = a.detach()
        try:
            t = t.to_dense() if t.layout != torch.strided else t
            t = t.resolve_conj().resolve_neg().cpu().contiguous()
            raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        except (RuntimeError, TypeError, NotImplementedError) as exc:
            raise Unkeyable(where, a, f"its bytes cannot be read: {exc}") from None
        head = f"torch|{t.dtype}|{tuple(t.shape)}|"
    return hashlib.sha256(head.encode() + raw).hexdigest()


def _digest(v, where: str, ctx: _Ctx) -> bytes:
    """The digest of ``v`` (``where``: what it is, for :class:`Unkeyable`'s message)."""
    t = type(v)
    if t in _PLAIN or isinstance(v, _BY_REPR + (bytes, bytearray)):
        raw = bytes(v) if isinstance(v, (bytes, bytearray)) else repr(v).encode()
        return hashlib.sha256(f"{t.__qualname__}:".encode() + raw).digest()
    key = id(v)
    if key in ctx.known:                # the model's own submodule, parameter or buffer: keyed by its name
        return ctx.known[key].encode()
    if key in ctx.memo:
        return ctx.memo[key][1]
    if key in ctx.path:                 # a cycle: how many levels up it closes
        return f"cycle {len(ctx.path) - ctx.path.index(key)}".encode()
    if len(ctx.path) >= DEPTH:
        raise Unkeyable(where, v, f"its references nest deeper than {DEPTH} levels")
    ctx.path.append(key)
    try:
        h = hashlib.sha256(_name(t).encode())
        _value(h, v, where, ctx)
    finally:
        ctx.path.pop()
    ctx.memo[key] = (v, h.digest())     # the object is kept alive, so that its id is not reused
    return ctx.memo[key][1]


def _feed(h, v, where: str, ctx: _Ctx) -> None:
    h.update(_digest(v, where, ctx))


def _value(h, v, where: str, ctx: _Ctx) -> None:
    if isinstance(v, enum.Enum):
        h.update(v.name.encode())
        _feed(h, v.value, where, ctx)
    elif isinstance(v, _PLAIN):         # a subclass of a number or string
        h.update(next(b for b in _PLAIN if isinstance(v, b)).__repr__(v).encode())
        _state(h, v, where, ctx)
    elif isinstance(v, (tuple, list, deque)):
        h.update(str(len(v)).encode())
        for i, x in enumerate(v):
            _feed(h, x, f"{where}[{i}]", ctx)
        _state(h, v, where, ctx)
    elif isinstance(v, dict):           # in insertion order: a forward pass may iterate over it
        h.update(str(len(v)).encode())
        for k, x in v.items():
            _feed(h, k, f"{where} key {k!r}", ctx)
            _feed(h, x, f"{where}[{k!r}]", ctx)
        if isinstance(v, defaultdict):
            _feed(h, v.default_factory, f"{where}.default_factory", ctx)
        _state(h, v, where, ctx)
    elif isinstance(v, (set, frozenset)):
        for d in sorted(_digest(x, f"{where} item", ctx) for x in v):
            h.update(d)
    elif isinstance(v, (torch.Tensor, np.ndarray)) and not (isinstance(v, np.ndarray) and v.dtype.hasobject):
        h.update(array_digest(v, where).encode())
    elif isinstance(v, np.ndarray):     # of Python objects: item by item
        _feed(h, (v.shape, v.tolist()), where, ctx)
    elif isinstance(v, np.generic):
        h.update(f"{v.dtype.descr}:{v!r}".encode())
    elif isinstance(v, torch.nn.Module):
        _model(h, v, where, ctx)
    elif isinstance(v, type):
        _class(h, v, where, ctx)
    elif isinstance(v, types.ModuleType):    # a library by name and version; the user's own by its contents
        h.update(v.__name__.encode())
        if _library(v.__name__) is None:
            for k, x in sorted(vars(v).items()):
                if not k.startswith("_") and not isinstance(x, (types.ModuleType, type)):
                    h.update(f"{k}=".encode())
                    _feed(h, x, f"{where}.{k}", ctx)
    elif isinstance(v, types.FunctionType):
        _function(h, v, where, ctx)
    elif isinstance(v, types.MethodType):
        _feed(h, v.__func__, where, ctx)
        _feed(h, v.__self__, _at(where, "object"), ctx)
    elif isinstance(v, _BUILTIN_CALLABLES):
        h.update(_name(v).encode())
        owner = getattr(v, "__self__", None)
        if owner is not None and not isinstance(owner, (types.ModuleType, type)):
            _feed(h, owner, _at(where, "object"), ctx)
    elif isinstance(v, functools.partial):
        _feed(h, v.func, where, ctx)
        _feed(h, v.args, _at(where, "arguments"), ctx)
        _feed(h, v.keywords, _at(where, "keyword arguments"), ctx)
        _state(h, v, where, ctx)
    elif isinstance(v, (staticmethod, classmethod, functools.cached_property)):
        _feed(h, v.__func__ if hasattr(v, "__func__") else v.func, where, ctx)
    elif isinstance(v, property):
        _feed(h, (v.fget, v.fset, v.fdel), where, ctx)
    elif type(v).__name__ == "_lru_cache_wrapper" and hasattr(v, "__wrapped__"):
        _feed(h, v.__wrapped__, where, ctx)
        _feed(h, v.cache_parameters(), where, ctx)
    elif isinstance(v, weakref.ref):
        _feed(h, v(), _at(where, "referent"), ctx)
    elif isinstance(v, logging.Logger):     # what it writes is not a result
        h.update(v.name.encode())
    elif isinstance(v, RemovableHandle):
        pass                            # a hook's handle: the hooks themselves are keyed with their module
    elif isinstance(v, types.SimpleNamespace):
        _feed(h, vars(v), where, ctx)
    else:
        _object(h, v, where, ctx)


def _state(h, v, where: str, ctx: _Ctx) -> None:
    """The attributes of an instance (``__dict__`` and ``__slots__``), by name."""
    state = dict(getattr(v, "__dict__", {}))
    for klass in type(v).__mro__:
        slots = vars(klass).get("__slots__", ())
        for s in (slots,) if isinstance(slots, str) else slots:
            if s not in ("__dict__", "__weakref__") and hasattr(v, s):
                state.setdefault(s, getattr(v, s))
    for k in sorted(state):
        h.update(f"{k}=".encode())
        _feed(h, state[k], f"{where}.{k}", ctx)


def _object(h, v, where: str, ctx: _Ctx) -> None:
    c_class = _c_state(type(v))
    if c_class is not None:
        why = ("it is not a number, string, container, array, function, class or object with attributes"
               if not hasattr(v, "__dict__") else f"its class {_name(c_class)} keeps state outside its attributes")
        raise Unkeyable(where, v, why)
    _feed(h, type(v), _at(where, "class"), ctx)
    _state(h, v, where, ctx)


def _function(h, fn, where: str, ctx: _Ctx) -> None:
    """A function: its bytecode, closure variables, defaults and the globals its code reads."""
    lib = _library(fn.__module__)
    library = lib is not None or _installed(fn.__code__.co_filename) and not _name(fn).startswith("reptheory.")
    if library:                         # its code by name and version; a wrapper by the function it wraps
        h.update(f"{_name(fn)} {lib}".encode())
        if hasattr(fn, "__wrapped__"):
            _feed(h, fn.__wrapped__, where, ctx)
    else:
        code_digest(h, fn.__code__)
    for k, x in sorted(vars(fn).items()):      # attributes set on the function (fn.k = 3)
        if k != "__wrapped__":
            h.update(f"attribute {k}=".encode())
            _feed(h, x, _at(where, f"attribute '{k}'"), ctx)
    code = fn.__code__                  # the closure's values, a library's wrapper's too (autocast's dtype)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        h.update(f"closure {name}=".encode())
        try:
            value = cell.cell_contents
        except ValueError:              # an empty cell (a variable not yet assigned)
            h.update(b"empty")
            continue
        _feed(h, value, _at(where, f"closure variable '{name}'"), ctx)
    _feed(h, fn.__defaults__, _at(where, "defaults"), ctx)
    _feed(h, fn.__kwdefaults__, _at(where, "keyword defaults"), ctx)
    if library:
        return
    for name in sorted(_globals_read(code)):
        if name in fn.__globals__:      # else a builtin, or not defined yet
            h.update(f"global {name}=".encode())
            _feed(h, fn.__globals__[name], _at(where, f"global '{name}'"), ctx)


def _class(h, cls, where: str, ctx: _Ctx) -> None:
    """A class: its name; for the user's own classes (not from a library), the methods and class attributes of
    every class in its MRO."""
    h.update(_name(cls).encode())
    lib = _library(cls.__module__)
    if lib is not None or issubclass(cls, enum.Enum):
        h.update(str(lib).encode())
        return
    for klass in cls.__mro__:
        if _library(klass.__module__) is not None:
            h.update(_name(klass).encode())
            continue
        h.update(klass.__qualname__.encode())
        for name, member in sorted(vars(klass).items()):
            routine = isinstance(member, (types.FunctionType, staticmethod, classmethod, property))
            if (name.startswith("__") and name.endswith("__") and not routine) or name == "_abc_impl":
                continue
            h.update(name.encode())
            _feed(h, member, _at(where, f"class attribute '{klass.__qualname__}.{name}'"), ctx)


def _hooks(m, prefix: str = "") -> dict:
    """``m``'s forward and backward hooks (``"_global"``: torch's module's global ones), in order, with flags."""
    out = {}
    for name, with_kwargs, always in _HOOKS:
        hooks = getattr(m, f"{prefix}_{name}", None) or {}
        flags = [getattr(m, f"{prefix}_{f}", None) or {} for f in (with_kwargs, always) if f]
        if hooks:
            out[f"{prefix}_{name}"] = [(hook, *(k in f for f in flags)) for k, hook in hooks.items()]
    if getattr(m, f"{prefix}_is_full_backward_hook", None) is not None:
        out[f"{prefix}_is_full_backward_hook"] = getattr(m, f"{prefix}_is_full_backward_hook")
    return out


def _attributes(h, model: torch.nn.Module, where: str, ctx: _Ctx) -> None:
    for kind, named in (("module", model.named_modules), ("parameter", model.named_parameters),
                        ("buffer", model.named_buffers)):
        for name, x in named():
            ctx.known.setdefault(id(x), f"{kind} {'' if where == 'model' else where + '/'}{name}")
    for name, m in model.named_modules():
        state = {k: v for k, v in vars(m).items() if k not in _BOOKKEEPING} | _hooks(m)
        for k in sorted(state):
            label = f"{name}.{k}" if name else k
            h.update(f"{label}=".encode())
            _feed(h, state[k], f"model attribute '{label}'" if where == "model" else _at(where, f"attribute '{label}'"),
                  ctx)


def _model(h, model: torch.nn.Module, where: str, ctx: _Ctx) -> None:
    h.update(repr(model).encode())
    _attributes(h, model, where, ctx)
    for cls in dict.fromkeys(type(m) for m in model.modules()):   # in order of first appearance
        _feed(h, cls, _at(where, f"class {cls.__qualname__}"), ctx)
    for name, p in model.named_parameters():
        h.update(f"{name}:{p.requires_grad}:{array_digest(p, _at(where, f'parameter {name!r}'))}".encode())
    for name, b in model.named_buffers():
        h.update(f"{name}:{array_digest(b, _at(where, f'buffer {name!r}'))}".encode())
    for name, m in model.named_modules():
        if type(m).get_extra_state is not torch.nn.Module.get_extra_state:
            _feed(h, m.get_extra_state(), _at(where, f"extra state of '{name}'"), ctx)


def value_digest(value, where: str = "value") -> str:
    """The digest of any value a run may read (see the module's docstring); raises :class:`Unkeyable`, naming
    ``where`` and the path from it, for what cannot be keyed."""
    return _digest(value, where, _Ctx()).hex()


def attributes(model: torch.nn.Module) -> str:
    """The attributes of every submodule besides parameters, buffers, submodules and ``nn.Module``'s
    bookkeeping (those a forward pass may read: a scale, a head count, a tensor, a function), and its hooks,
    by value."""
    h = hashlib.sha256()
    _attributes(h, model, "model", _Ctx())
    return h.hexdigest()


def model_digest(model: torch.nn.Module) -> str:
    """The digest of a model: structure, attributes, hooks, code, parameters and buffers."""
    h = hashlib.sha256()
    ctx = _Ctx()
    _model(h, model, "model", ctx)
    _feed(h, _hooks(_torch_module, "_global"), "torch's global module hooks", ctx)
    return h.hexdigest()


def layer_digest(layer) -> str:
    """A layer: its dotted name, or the digest of the callable."""
    if isinstance(layer, str):
        return layer
    return _digest(layer, "layer", _Ctx()).hex()
