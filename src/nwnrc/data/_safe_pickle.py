"""A restricted unpickler that admits numeric numpy arrays and nothing else.

A pickle is a small program: each global it names is imported, and the opcodes REDUCE,
BUILD and NEWOBJ call what is on the stack. Resolving only safe globals is not enough
for numpy: ``numpy.ndarray(shape, object, buffer=...)`` reads pointers out of raw
bytes, ``numpy.dtype(..., copy=False)`` hands out the process-wide dtype singletons,
and ``dtype.__setstate__`` trusts the flags it is given. :class:`ArrayUnpickler`
therefore checks every call, not only every name:

- GLOBAL resolves only the names numpy writes for an ``ndarray`` (numpy 1.x
  ``numpy.core.*`` and numpy 2.x ``numpy._core.*`` alike); any other global raises
  :class:`~nwnrc.errors.DataError` naming it, before it is imported.
- REDUCE calls only checked stand-ins for ``_reconstruct``, ``_frombuffer``,
  ``numpy.dtype`` (a fresh copy of a numeric dtype: bool, integer, float or complex)
  and ``_codecs.encode`` (``(str, "latin1")`` only) and ``bytes()`` (empty), which
  protocols 0-2 use for byte strings.
- BUILD sets the state of an ``ndarray`` or a ``dtype`` only when that state has the
  exact form numpy writes for a numeric array.
- NEWOBJ, NEWOBJ_EX, INST, OBJ and persistent ids are refused.

Tuples, lists and dicts are built by opcodes that call nothing and pass through; the
loaded object must be such containers of numeric arrays (:func:`check_array_tree`).

Notes
-----
The checks run in the pure-Python unpickler of the standard library
(``pickle._Unpickler``), whose opcode table can be extended; it is slower per opcode
than the C unpickler, which does not matter for array pickles (a few dozen opcodes
around large byte strings).

Limitations: a pickle cannot run code through this unpickler, but it can still ask
for a large allocation and so exhaust memory; load only pickles whose checksum you
know, as the MNIST fetch does. Structured, string, datetime and object arrays and
numpy scalars are refused.
"""

from __future__ import annotations

import codecs
import importlib
import io
import logging
import pickle
from typing import Any, BinaryIO, ClassVar

import numpy as np

from nwnrc.errors import DataError

logger = logging.getLogger(__name__)

__all__ = ["ArrayUnpickler", "check_array_tree", "safe_load", "safe_loads"]

_NUMERIC_KINDS = "biufc"
_BYTE_ORDERS = ("<", ">", "|", "=")


def _numpy_function(name: str, modules: tuple[str, ...]) -> Any:
    """Return numpy's pickle helper ``name`` from the first module that has it."""
    # The numpy 2 name comes first: importing numpy.core under numpy 2 warns.
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"numpy has no {name} in {modules}")  # pragma: no cover


_RECONSTRUCT = _numpy_function(
    "_reconstruct", ("numpy._core.multiarray", "numpy.core.multiarray")
)
_FROMBUFFER = _numpy_function(
    "_frombuffer", ("numpy._core.numeric", "numpy.core.numeric")
)


def _refuse(what: str) -> DataError:
    return DataError(
        f"pickle {what}, which is not admitted: only numeric numpy arrays (in tuples, "
        "lists and dicts) can be loaded. Do not load this file, or convert it to .npz."
    )


def _numeric(dtype: Any, where: str) -> np.dtype[Any]:
    if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS:
        raise _refuse(f"asks for the dtype {dtype!r} in {where}")
    return dtype


def _dtype(obj: Any, align: Any = False, copy: Any = True) -> np.dtype[Any]:
    """Stand-in for ``numpy.dtype``: a fresh copy of a numeric dtype, by name only."""
    if not isinstance(obj, str) or align not in (False, 0):
        raise _refuse(f"calls numpy.dtype({obj!r}, {align!r})")
    try:
        dtype = np.dtype(obj, False, True)  # copy=True: never the shared singleton
    except TypeError as exc:
        raise _refuse(f"calls numpy.dtype({obj!r}): {exc}") from None
    return _numeric(dtype, "numpy.dtype")


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> np.ndarray:
    """Stand-in for ``_reconstruct``: only the empty placeholder numpy writes."""
    if subtype is not np.ndarray or shape != (0,) or typecode not in ("b", b"b"):
        raise _refuse(f"calls _reconstruct({subtype!r}, {shape!r}, {typecode!r})")
    return _RECONSTRUCT(np.ndarray, (0,), b"b")


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """Stand-in for ``_frombuffer`` (protocol 5): numeric dtypes, in-band bytes."""
    _numeric(dtype, "_frombuffer")
    if not isinstance(buffer, (bytes, bytearray, pickle.PickleBuffer)) or order not in (
        "C",
        "F",
    ):
        raise _refuse(f"calls _frombuffer with a {type(buffer).__name__} buffer")
    if not (isinstance(shape, tuple) and all(type(n) is int for n in shape)):
        raise _refuse(f"calls _frombuffer with the shape {shape!r}")
    return _FROMBUFFER(buffer, dtype, shape, order)


def _latin1_encode(text: Any, encoding: Any = "utf-8", *rest: Any) -> bytes:
    """Stand-in for ``_codecs.encode``, which pickle protocols 0-2 use for bytes."""
    if not isinstance(text, str) or rest or encoding not in ("latin1", "latin-1"):
        raise _refuse(
            f"calls _codecs.encode with ({type(text).__name__}, {encoding!r}) instead "
            "of (str, 'latin1')"
        )
    return codecs.encode(text, "latin1")


def _empty_bytes(*args: Any) -> bytes:
    """Stand-in for ``bytes``, which protocols 0-2 call with no argument for b''."""
    if args:
        raise _refuse(f"calls bytes with {len(args)} arguments")
    return b""


_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}
for _core in ("numpy.core", "numpy._core"):
    _GLOBALS[(f"{_core}.multiarray", "_reconstruct")] = _reconstruct
    _GLOBALS[(f"{_core}.numeric", "_frombuffer")] = _frombuffer
_CALLABLE = (_dtype, _reconstruct, _frombuffer, _latin1_encode, _empty_bytes)


def _check_dtype_state(state: Any) -> None:
    # The state numpy writes for a numeric dtype: no subarray, fields or flags.
    if not (
        isinstance(state, tuple)
        and len(state) == 8
        and state[0] == 3
        and state[1] in _BYTE_ORDERS
        and state[2:5] == (None, None, None)
        and state[5:] == (-1, -1, 0)
    ):
        raise _refuse(f"sets the dtype state {state!r}")


def _check_array_state(state: Any) -> None:
    # (version, shape, dtype, is_fortran, data) as numpy writes it.
    if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
        raise _refuse(f"sets an array state of the form {type(state).__name__}")
    _, shape, dtype, is_fortran, data = state
    _numeric(dtype, "an array state")
    if not (isinstance(shape, tuple) and all(type(n) is int for n in shape)):
        raise _refuse(f"sets an array state with the shape {shape!r}")
    if not isinstance(is_fortran, bool) or not isinstance(data, (bytes, str)):
        raise _refuse(f"sets an array state with {type(data).__name__} data")


class ArrayUnpickler(pickle._Unpickler):
    """An unpickler that loads numeric numpy arrays and refuses everything else.

    Parameters
    ----------
    file : binary file
        The pickle stream.
    encoding : str, default "latin1"
        How to decode byte strings written by Python 2; ``"latin1"`` is what numpy
        arrays pickled under Python 2 need.

    Notes
    -----
    See the module documentation for what is admitted and why.

    Examples
    --------
    >>> import io, pickle
    >>> import numpy as np
    >>> data = pickle.dumps((np.arange(3), [np.eye(2)]))
    >>> ArrayUnpickler(io.BytesIO(data)).load()[0]
    array([0, 1, 2])
    """

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)
    stack: list[Any]

    def __init__(self, file: BinaryIO, *, encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)

    def find_class(self, module: str, name: str) -> Any:
        """Return an admitted global, or raise DataError naming the refused one."""
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise _refuse(f"refers to the global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids: no numpy array pickle uses them."""
        raise _refuse(f"holds the persistent id {pid!r}")

    def _load_reduce(self) -> None:
        func = self.stack[-2]
        if not any(func is allowed for allowed in _CALLABLE):
            raise _refuse(f"calls {func!r}")
        pickle._Unpickler.load_reduce(self)  # type: ignore[attr-defined]

    def _load_build(self) -> None:
        state, inst = self.stack[-1], self.stack[-2]
        if type(inst) is np.ndarray:
            _check_array_state(state)
        elif isinstance(inst, np.dtype):
            _check_dtype_state(state)
        else:
            raise _refuse(f"sets the state of a {type(inst).__name__}")
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]

    def _load_refused(self) -> None:
        raise _refuse("creates an object with NEWOBJ, INST or OBJ")

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.BUILD[0]] = _load_build
    for _opcode in (pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.INST, pickle.OBJ):
        dispatch[_opcode[0]] = _load_refused
    del _opcode


def check_array_tree(obj: Any, *, what: str = "pickle") -> None:
    """Raise DataError unless ``obj`` is numeric arrays in tuples, lists and dicts.

    Parameters
    ----------
    obj : object
        The loaded object.
    what : str
        How to name the source in the error message.

    Raises
    ------
    DataError
        If a leaf is not a numeric ``numpy.ndarray`` or a dict key is not a str.
    """
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend((f"{where}[{i}]", sub) for i, sub in enumerate(item))
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise DataError(
                        f"{what} holds a dict key of type {type(key).__name__} at "
                        f"'{where or '.'}'; only str keys are admitted."
                    )
                stack.append((f"{where}[{key!r}]", sub))
        elif type(item) is not np.ndarray or item.dtype.kind not in _NUMERIC_KINDS:
            raise DataError(
                f"{what} holds an object of type {type(item).__name__} at "
                f"'{where or '.'}'; only "
                "numeric numpy arrays in tuples, lists and dicts are admitted."
            )


def safe_load(file: BinaryIO, *, encoding: str = "latin1") -> Any:
    """Load a pickle of numeric numpy arrays from an open binary file.

    Parameters
    ----------
    file : binary file
        The pickle stream (already decompressed).
    encoding : str, default "latin1"
        Decoding of Python 2 byte strings; see :class:`ArrayUnpickler`.

    Returns
    -------
    object
        Numeric numpy arrays, possibly nested in tuples, lists and dicts.

    Raises
    ------
    DataError
        If the pickle names a global or makes a call that is not admitted, is
        corrupt or truncated, or holds anything but numeric arrays in containers.
    """
    try:
        obj = ArrayUnpickler(file, encoding=encoding).load()
    except DataError:
        raise
    except Exception as exc:
        # Whatever else goes wrong inside a foreign pickle is a problem of the file.
        raise DataError(
            f"pickle cannot be loaded ({type(exc).__name__}: {exc}); the file is "
            "corrupt or not a pickle of numpy arrays."
        ) from exc
    check_array_tree(obj)
    return obj


def safe_loads(data: bytes, *, encoding: str = "latin1") -> Any:
    """Load a pickle of numeric numpy arrays from bytes; see :func:`safe_load`.

    Examples
    --------
    >>> import pickle
    >>> import numpy as np
    >>> safe_loads(pickle.dumps([np.zeros(2, np.float32)]))
    [array([0., 0.], dtype=float32)]
    """
    return safe_load(io.BytesIO(data), encoding=encoding)
