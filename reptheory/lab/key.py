"""The cache key of a probed run (:func:`reptheory.lab.probe`, :func:`reptheory.lab.probe_many`): digests that
are the same in every session and process for the same model, layer and data.

A model is keyed by its printed structure, the plain attributes of its submodules (numbers and strings a
forward pass may read), its parameters and buffers, and the bytecode of the Python methods of its module
classes (those not from ``torch``); a callable layer by its bytecode; an array by its dtype, shape and bytes.

>>> import torch
>>> a, b = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
>>> model_digest(a) == model_digest(a), model_digest(a) == model_digest(b)
(True, False)
"""
from __future__ import annotations

import hashlib
import types

import torch

__all__ = ["code_digest", "function_digest", "class_digest", "array_digest", "attributes", "model_digest",
           "layer_digest"]


def code_digest(h, code: types.CodeType) -> None:
    """Feed ``code``'s bytecode, names and constants (nested code included, file names and line numbers
    left out) to ``h``: the same function hashes the same in every session and process."""
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames)).encode())
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            code_digest(h, c)
        elif isinstance(c, frozenset):     # a set literal: its printed order changes with the hash seed
            h.update(repr(sorted(map(repr, c))).encode())
        else:
            h.update(repr(c).encode())


def function_digest(h, fn) -> None:
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is not None:
        code_digest(h, code)
    elif callable(fn):                  # a callable object: its class's methods
        class_digest(h, type(fn))


def class_digest(h, cls) -> None:
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in ("torch", "builtins"):
            continue
        h.update(klass.__qualname__.encode())
        for name, member in sorted(vars(klass).items()):
            if isinstance(member, (types.FunctionType, staticmethod, classmethod)):
                h.update(name.encode())
                function_digest(h, member)


def array_digest(t: torch.Tensor) -> str:
    a = t.detach().cpu().contiguous().numpy()
    return hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode() + a.tobytes()).hexdigest()


def attributes(model: torch.nn.Module) -> str:
    """The plain attributes of every submodule (those a forward pass may read besides parameters and buffers,
    e.g. a scale or a head count): numbers, strings and their tuples by value, functions by bytecode, other
    objects by type."""
    h = hashlib.sha256()
    for name, m in model.named_modules():
        for k, v in sorted(vars(m).items()):
            if k.startswith("_") or k == "training":
                continue
            h.update(f"{name}.{k}=".encode())
            if v is None or isinstance(v, (bool, int, float, str, tuple, list)):
                h.update(repr(v).encode())
            elif callable(v) and not isinstance(v, torch.nn.Module):
                function_digest(h, v)
            else:
                h.update(type(v).__qualname__.encode())
    return h.hexdigest()


def model_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256(repr(model).encode())
    h.update(attributes(model).encode())
    for cls in sorted({type(m) for m in model.modules()}, key=lambda c: c.__qualname__):
        class_digest(h, cls)
    for name, t in list(model.state_dict().items()):
        h.update(name.encode())
        h.update(array_digest(t).encode())
    return h.hexdigest()


def layer_digest(layer) -> str:
    if isinstance(layer, str):
        return layer
    h = hashlib.sha256()
    function_digest(h, layer)
    return h.hexdigest()
