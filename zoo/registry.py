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
