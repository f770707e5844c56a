"""Name -> method class, and `load` to build a method ready for `fit`."""

from __future__ import annotations

import difflib

import keras

_MODELS: dict[str, type] = {}


def register(name: str):
    """Class decorator: make a `ZooModel` subclass loadable as `zoo.load(name)`.

    The class is also registered with Keras' serialization under the package
    "zoo", so `keras.models.load_model` finds it.
    """

    def decorate(cls):
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(
                f"a model is already registered as {name!r}: {_MODELS[name].__qualname__}"
            )
        cls = keras.saving.register_keras_serializable(package="zoo")(cls)
        cls.registered_name = name
        _MODELS[name] = cls
        return cls

    return decorate


def get(name: str) -> type:
    """The class registered as `name`; an unknown name lists the known ones."""
    try:
        return _MODELS[name]
    except KeyError:
        known = ", ".join(sorted(_MODELS))
        close = difflib.get_close_matches(name, list(_MODELS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {known}.") from None


def list_models() -> dict[str, str]:
    """Every registered name with the first line of its class docstring."""
    return {name: summary(cls) for name, cls in sorted(_MODELS.items())}


def summary(cls) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def load(name: str, *, optimizers: dict | None = None, compile: bool = True, **hparams):
    """Build the method `name` with `hparams` and compile it with its paper's optimizers.

    Args:
        name: a registered name (see `zoo.list_models()`).
        optimizers: optional overrides by role, e.g. `{"d": keras.optimizers.Adam(1e-4)}`.
        compile: set False to get an uncompiled model.
        **hparams: the method's constructor arguments (`input_shape`,
            `num_classes`, ...).

    Example:
        >>> model = zoo.load("sgan", input_shape=(8, 8, 1), num_classes=10)
    """
    model = get(name)(**hparams)
    if compile:
        model.compile(optimizers=optimizers)
    elif optimizers:
        raise ValueError("optimizers were given but compile=False")
    return model


class Registry:
    """Name -> object, for a kind of thing besides the methods (`zoo.nets` keeps its architectures in one).

    `register(name)` is a decorator; `get(name)` raises `unknown_name_error`
    for a name never registered. (The methods' `register` / `get` above also
    register with Keras' serialization.)
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, object] = {}

    def register(self, name: str):
        def decorate(obj):
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"a {self.kind} is already registered as {name!r}: {self._entries[name]!r}")
            self._entries[name] = obj
            return obj

        return decorate

    def get(self, name: str, *, also=()):
        """The object registered as `name`; `also`: other names the caller accepts, listed in the error."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise unknown_name_error(self.kind, name, [*also, *self._entries]) from None

    def names(self) -> tuple[str, ...]:
        """The registered names, in the order they were registered."""
        return tuple(self._entries)

    def __contains__(self, name) -> bool:
        return name in self._entries


def unknown_name_error(kind: str, name, known) -> ValueError:
    """`unknown KIND 'name'. Did you mean 'x'? Known KINDs: a, b.`: the closest known name, if one is close."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1) if isinstance(name, str) else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(sorted(known))}.")
