"""The base class every method of the zoo derives from.

It owns what all methods share, so that a method's module only says what is
particular to it:

* optimizers by role (`"d"`, `"g"`, `"vae"`, ...), created by `compile()` from
  the paper's defaults, overridable by role, built at once so that saving,
  loading and distribution find their variables;
* `minimize(role, loss_fn)`: the single gradient step (one tape per player,
  loss scaling under mixed precision, global-batch averaging under
  `tf.distribute`);
* metric trackers for the logged losses, `metrics` returning exactly those;
* the capabilities `sample`, `classify`, `encode`, `elbo`, `log_prob`, with
  a clear error where a method lacks one, and a `test_step` that reports
  `accuracy` for methods that classify;
* `get_config` from the constructor's signature, `get_compile_config` /
  `compile_from_config` so a loaded model resumes with its optimizer state, and
  an atomic `save`;
* construction deferred until the data is known: `zoo.load("triple_gan")`
  without `input_shape` / `num_classes` gives a model that builds itself from
  the `SSLData` (or the first `tf.data` stream or array) it is fitted on.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import nets

BATCH_KEYS = ("x", "x_labeled", "y_labeled", "x2")
#: The keys of a paired image-to-image batch (DESIGN.md): a source and its target image.
PAIRED_BATCH_KEYS = ("x", "y")
CAPABILITIES = ("sample", "classify", "encode", "elbo", "log_prob")


#: Batch size of `fit(SSLData)` when none is given: the SSL papers' usual minibatch.
DEFAULT_BATCH_SIZE = 100
#: Training images of a data-dependent initialisation (the Improved-GAN and Bad GAN codes use 500).
DATA_INIT_IMAGES = 500
#: The generators' noise distributions (`ZooModel.latent_noise`).
LATENT_DISTRIBUTIONS = ("normal", "uniform", "symmetric_uniform")


class CapabilityError(AttributeError):
    """A capability (sample, classify, ...) was asked of a method that lacks it."""


class NotBuiltError(RuntimeError):
    """The model was created without its data's shape and has not seen data yet."""


class ZooModel(keras.Model):
    """Base class of the zoo's methods (not registered itself).

    Subclasses set `roles` and `log_names`, build their nets in `__init__`,
    implement `role_layers`, `default_optimizers` and `train_step`, and the
    `_*_batch` hooks of the capabilities they have.
    """

    #: Names of the players, each updated by its own optimizer.
    roles: tuple[str, ...] = ()
    #: Keys `train_step` logs, in order.
    log_names: tuple[str, ...] = ()
    #: Keys `test_step` logs besides `accuracy` (which classifiers log).
    eval_log_names: tuple[str, ...] = ()
    #: Whether `sample` takes class labels.
    conditional: bool = False
    #: Role -> optimizer steps per `train_step` where a role steps more than
    #: once (e.g. an AAE's encoder: reconstruction and regularization phases).
    updates_per_step: dict = {}
    #: Further optimizers of a role's weights, one per phase of training that
    #: the paper steps with an optimizer of its own: name -> the role whose
    #: weights it steps (an AAE's "e_regularization": the encoder as the
    #: adversaries' generator; Triple-GAN's "c_pretrain"). Each keeps its own
    #: moments, so one phase's gradients never move another phase's update.
    phase_optimizers: dict = {}
    #: Rank of `input_shape`: 3 for images (height, width, channels); 1 for a method on vectors (the
    #: observations of the imitation methods, `zoo.models.adversarial.imitation`).
    input_rank: int = 3
    #: False for a method that learns by acting in an environment (`model.train(...)`), not by `fit` on
    #: batches (the imitation methods): the batch-stream benchmarks leave it out.
    trains_on_batches: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _deferrable(cls.__dict__["__init__"])

    def __init__(self, input_shape, num_classes=None, seed=None, **kwargs):
        if not self.__dict__.get("_keras_initialised"):  # a deferred construction initialised Keras already
            super().__init__(**kwargs)
        self.image_shape = _check_input_shape(input_shape, self.input_rank)
        if num_classes is not None and (int(num_classes) != num_classes or num_classes < 2):
            raise ValueError(f"num_classes must be an integer >= 2; got {num_classes!r}")
        self.num_classes = None if num_classes is None else int(num_classes)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in dict.fromkeys(self.log_names + self.eval_log_names)
        }
        if self.can("classify"):
            self._accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.role_optimizers = {}

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Every constructor argument, read from the attribute of the same name."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.awaiting_data:
            init, arguments = self._pending_init
            config.update({k: v for k, v in arguments.items() if k != "kwargs"})
            return config
        for param in inspect.signature(type(self).__init__).parameters.values():
            if param.name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            attribute = "image_shape" if param.name == "input_shape" else param.name
            config[param.name] = getattr(self, attribute)
        return config

    def _finish_build(self):
        """Mark the model built once its nets are (they are built eagerly)."""
        for layer in self._flatten_layers(include_self=False, recursive=False):
            if not layer.built:
                raise RuntimeError(f"{type(self).__name__}: sub-layer {layer.name} was not built")
        self.built = True

    # ------------------------------------------------------ deferred building
    @property
    def awaiting_data(self) -> bool:
        """True while the model was created without its data's shape and has seen no data yet."""
        return "_pending_init" in self.__dict__

    def build_from(self, data, num_classes=None):
        """Build a model created without `input_shape` (and `num_classes`) from `data`.

        `data` is an `SSLData` (image shape and classes), a `tf.data.Dataset` of
        DESIGN.md dict batches or of `(x, y)` / `x` batches, an array of images,
        or an image shape `(height, width, channels)`. `fit` calls this itself;
        a compiled model is compiled again with the same arguments once built.
        On a built model it only checks that `data` fits it.
        """
        shape, classes = _shape_and_classes(data)
        classes = num_classes if num_classes is not None else classes
        if not self.awaiting_data:
            if shape is not None and tuple(shape) != self.image_shape:
                raise ValueError(f"{type(self).__name__} was built for images of shape {self.image_shape}; "
                                 f"the data has {tuple(shape)}")
            if classes is not None and self.num_classes is not None and classes != self.num_classes:
                raise ValueError(f"{type(self).__name__} was built for {self.num_classes} classes; "
                                 f"the data has {classes}")
            return self
        init, arguments = self._pending_init
        arguments = dict(arguments)
        if arguments.get("input_shape") is None:
            if shape is None:
                raise NotBuiltError(f"cannot read an image shape from {type(data).__name__}: pass input_shape "
                                    "to zoo.load, or fit on an SSLData, a tf.data stream or an array of images")
            arguments["input_shape"] = tuple(int(d) for d in shape)
        if "num_classes" in inspect.signature(init).parameters and arguments.get("num_classes") is None:
            if classes is None:
                raise NotBuiltError(f"{type(self).__name__} needs num_classes, which {type(data).__name__} does "
                                    "not tell: pass num_classes to zoo.load, or fit on an SSLData")
            arguments["num_classes"] = int(classes)
        extra = arguments.pop("kwargs", {})
        pending_compile = self.__dict__.get("_pending_compile")
        # Variables belong to the strategy the model was created under, as for an eagerly built model.
        with self.distribute_strategy.scope():
            del self.__dict__["_pending_init"]
            init(self, **arguments, **extra)
            if pending_compile is not None:
                del self.__dict__["_pending_compile"]
                self.compile(**pending_compile)
        return self

    def build(self, input_shape=None):
        """Keras' `build(input_shape)`: builds a model created without shapes (see `build_from`)."""
        if self.awaiting_data and input_shape is not None:
            self.build_from(tuple(input_shape)[1:])
        elif self.awaiting_data:
            raise NotBuiltError(f"{type(self).__name__}.build needs the input shape")

    def _require_built(self, what):
        if self.awaiting_data:
            raise NotBuiltError(
                f"{type(self).__name__} was created without an input shape and has not seen data yet, "
                f"so it cannot {what}: fit it first (model.fit(zoo.data.load(...))), call "
                "model.build_from(data), or pass input_shape (and num_classes) to zoo.load")

    # -------------------------------------------------------------- optimizers
    def role_layers(self) -> dict[str, list]:
        """Role -> the layers whose trainable weights that role's optimizer updates."""
        raise NotImplementedError

    def default_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """Role -> a new optimizer with the paper's settings."""
        raise NotImplementedError

    def default_phase_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """Phase name -> a new optimizer, for the phases whose paper settings differ from their role's;
        the others get a fresh copy of their role's optimizer."""
        return {}

    def role_variables(self, role):
        """The trainable weights of `role`, or of the role a phase optimizer steps (`phase_optimizers`)."""
        role = self.phase_optimizers.get(role, role)
        variables = []
        for layer in self.role_layers()[role]:
            variables.extend(layer.trainable_variables)
        return variables

    def compile(self, optimizers=None, *, run_eagerly=False, jit_compile="auto", steps_per_execution=1):
        """Create the optimizers (the paper's defaults, overridden by role).

        Args:
            optimizers: dict role -> optimizer (instance, name or config) that
                replaces the default of that role. Roles: `self.roles`.
            run_eagerly, jit_compile, steps_per_execution: as `keras.Model.compile`.

        On a model still awaiting its data the optimizers are created when it
        is built (`build_from`, or the first `fit`).
        """
        if self.awaiting_data:
            object.__setattr__(self, "_pending_compile", {
                "optimizers": optimizers, "run_eagerly": run_eagerly, "jit_compile": jit_compile,
                "steps_per_execution": steps_per_execution})
            super().compile(optimizer=None, run_eagerly=run_eagerly, jit_compile=jit_compile,
                            steps_per_execution=steps_per_execution)
            return
        chosen = self.default_optimizers()
        if set(chosen) != set(self.roles):
            raise RuntimeError(f"{type(self).__name__}.default_optimizers must cover roles {self.roles}")
        phase_defaults = self.default_phase_optimizers()
        for name, role in self.phase_optimizers.items():  # a phase's own default, else a copy of its role's
            chosen[name] = phase_defaults.get(name) or keras.saving.deserialize_keras_object(
                keras.saving.serialize_keras_object(chosen[role]))
        for role, optimizer in (optimizers or {}).items():
            if role not in chosen:
                raise ValueError(
                    f"{type(self).__name__} has no optimizer role {role!r}; its roles are "
                    f"{list(self.roles) + list(self.phase_optimizers)}"
                )
            chosen[role] = keras.optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16":
            chosen = {
                role: opt
                if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(opt, name=f"{role}_loss_scale_optimizer")
                for role, opt in chosen.items()
            }
        super().compile(
            optimizer=None, run_eagerly=run_eagerly, jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
        self.role_optimizers = chosen
        # Build now: variables must exist before load_model restores them, and
        # must not be created inside a tf.function or a replica context.
        for role, optimizer in chosen.items():
            optimizer.build(self.role_variables(role))
        self._zoo_compile_config = {
            "optimizers": {r: keras.saving.serialize_keras_object(o) for r, o in chosen.items()},
            "run_eagerly": run_eagerly,
            "jit_compile": self.jit_compile,
            "steps_per_execution": steps_per_execution,
        }

    def get_compile_config(self):
        if not self.compiled:
            return {}
        if self.awaiting_data:  # the compile arguments kept for the build, with the overrides serialized
            pending = self._pending_compile
            return {**pending, "optimizers": {r: keras.saving.serialize_keras_object(keras.optimizers.get(o))
                                              for r, o in (pending["optimizers"] or {}).items()}}
        return getattr(self, "_zoo_compile_config", {})

    def compile_from_config(self, config):
        config = dict(config)
        config["optimizers"] = {
            role: keras.saving.deserialize_keras_object(opt)
            for role, opt in config.get("optimizers", {}).items()
        }
        self.compile(**config)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, *args, **kwargs):
        """`keras.Model.fit`, which also takes an `SSLData` and builds a model created without shapes.

        `model.fit(zoo.data.load("mnist", labels=100), epochs=10)` trains on
        `data.train(batch_size)` (batch_size default 100), an epoch being one
        pass over the unlabelled images unless `steps_per_epoch` says
        otherwise; `validation_data` may be an `SSLData` too (its validation
        split). A model created without `input_shape` / `num_classes` builds
        itself from the data first (see `build_from`). A `tf.data.Dataset`
        (already shuffled by zoo.data) is not asked to be shuffled again,
        which Keras would only warn about. `stream=` (with an `SSLData`):
        further arguments of `data.train`, e.g. `{"exclude_labeled": True}`.
        """
        from zoo.data import SSLData

        stream = kwargs.pop("stream", None) or {}
        if stream and not isinstance(x, SSLData):
            raise ValueError("fit(stream=...) shapes the stream of an SSLData; got a ready stream")
        if isinstance(x, SSLData):
            self.build_from(x)
            batch_size = int(batch_size or min(DEFAULT_BATCH_SIZE, len(x.x_train)))
            images_per_step = batch_size * self.unlabeled_batches_per_step
            kwargs.setdefault("steps_per_epoch", max(1, len(x.x_train) // images_per_step))
            if self.needs_data_init:
                self.initialize(x.sample_images(DATA_INIT_IMAGES, self.seed))
            x, batch_size = x.train(images_per_step, **{"second_unlabeled": self.uses_second_unlabeled, **stream}), None
        elif self.awaiting_data:
            self.build_from(x)
        if self.needs_data_init:
            self.initialize(_first_images(x))
        if isinstance(kwargs.get("validation_data"), SSLData):
            kwargs["validation_data"] = kwargs["validation_data"].validation()
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)
        return super().fit(x, y, batch_size, epochs, *args, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras (3.15) learns the batch's shapes from the first distributed batch by all-reducing it with
        # `strategy.reduce("MEAN", batch)`, which under MultiWorkerMirroredStrategy fails on a dict batch
        # (keras-team/keras#20329) and sends a whole batch across the cluster. This replica's own shard has the
        # same shapes and dtypes: it is handed over instead.
        strategy = getattr(self, "_distribute_strategy", None)
        if iterator is not None and strategy is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda v: strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues) else v, next(batches))
                break
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    # ------------------------------------------- data-dependent initialisation
    #: Whether a `train(..., second_unlabeled=True)` stream helps: `fit(SSLData)` then asks for `"x2"`.
    uses_second_unlabeled: bool = False
    #: Unlabelled minibatches one `train_step` consumes, concatenated in `"x"` (a WGAN's critic steps on
    #: n_critic fresh minibatches per generator step): `fit(SSLData, batch_size=m)` then streams m times this.
    unlabeled_batches_per_step: int = 1

    @property
    def needs_data_init(self) -> bool:
        """True while the model has a data-dependent initialisation that has not run yet."""
        flag = getattr(self, "data_initialized", None)
        return flag is not None and not bool(ops.convert_to_numpy(flag))

    def initialize(self, x):
        """Run the method's data-dependent initialisation on the images `x` (once).

        `fit` calls it on its first batch's unlabelled images (500 training
        images for an `SSLData`), so it rarely needs calling by hand. The done
        flag is a weight of the model: a saved, reloaded or resumed model does
        not initialise again. A method without one ignores this.
        """
        self._require_built("be initialised")
        if not self.needs_data_init:
            return self
        x = self.check_images(ops.convert_to_numpy(x))
        self._data_dependent_init(ops.convert_to_tensor(x))
        self.data_initialized.assign(1.0)
        return self

    def _use_data_init(self, wanted, nets_):
        """In `__init__`: whether the method initialises from data (`wanted` and `nets_` have weight-normed
        layers); if so, the done flag (`initialize`) becomes a weight. Returns the decision."""
        from zoo.layers import WeightNormConv2D, WeightNormDense

        use = bool(wanted) and any(isinstance(layer, (WeightNormDense, WeightNormConv2D))
                                   for net in nets_ for layer in net._flatten_layers())
        if use:
            self.data_initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                                    name="data_initialized")
        return use

    def _data_dependent_init(self, x):
        raise NotImplementedError

    # -------------------------------------------------------- weight average
    def evaluation_scope(self):
        """The context the method classifies in: its weight average's scope if it keeps one."""
        average = getattr(self, "weight_average", None)
        return average.scope() if average is not None else contextlib.nullcontext()

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.evaluate`; an `SSLData` is evaluated on its test split."""
        from zoo.data import SSLData

        self._require_built("evaluate")
        if isinstance(x, SSLData):
            self.build_from(x)
            x = x.test()
        return super().evaluate(x, y, *args, **kwargs)

    # --------------------------------------------------------- gradient step
    #: A role weight the loss does not reach is an error (a net left out of a loss), unless a method's step
    #: leaves some weights out by design and sets this: they then get zero gradients (ProGAN's step compiled
    #: for one level, whose graph-mode switch gives the other levels' weights zeros).
    unconnected_weights_get_zero_gradients = False
    #: Under XLA, `fit` compiles one step per level of a growing model (ProGAN, StyleGAN) instead of train_step's
    #: switch over all levels; a loop of its own around train_step would compile the switch.
    compiles_one_step_per_level = False

    def minimize(self, role, loss_fn):
        """One gradient step of `role` on the scalar loss returned by `loss_fn()`.

        `loss_fn` returns `(loss, logs)` where `loss` is a mean over the
        (per-replica) batch. Under a `tf.distribute` strategy the gradients of
        the replicas are summed, so the loss is divided by the number of
        replicas: the step then follows the mean over the global batch, exactly
        as on one device. Under mixed precision the loss is scaled by the
        role's `LossScaleOptimizer`, which unscales the gradients.
        `role` may also be a tuple of roles: one loss, one tape, and each role's
        optimizer steps its own weights (e.g. an autoencoder's reconstruction
        phase updating the encoder "e" and the decoder "g" together).
        Returns `(loss, logs)` unscaled, for logging.
        """
        roles = (role,) if isinstance(role, str) else tuple(role)
        optimizers = [self.role_optimizers[r] for r in roles]
        variables = [self.role_variables(r) for r in roles]
        with tf.GradientTape(persistent=len(roles) > 1) as tape:
            loss, logs = loss_fn()
            replica_loss = loss / _replicas_in_sync()
            scaled = [optimizer.scale_loss(replica_loss) for optimizer in optimizers]
        gradients = [tape.gradient(s, v) for s, v in zip(scaled, variables)]
        del tape
        for r, optimizer, role_variables, role_gradients in zip(roles, optimizers, variables, gradients):
            missing = [v.path for v, g in zip(role_variables, role_gradients) if g is None]
            if missing:
                if not self.unconnected_weights_get_zero_gradients:
                    raise ValueError(f"role {r!r} has no gradient for: {missing}")
                role_gradients = [ops.zeros_like(v) if g is None else g for v, g in zip(role_variables, role_gradients)]
            optimizer.apply(role_gradients, role_variables)
        return loss, logs

    # ----------------------------------------------------------------- noise
    #: The generator's noise: "normal" (N(0, I)), "uniform" (U(0, 1), the Improved-GAN and Triple-GAN codes) or
    #: "symmetric_uniform" (U(-1, 1), the InfoGAN code's).
    latent_distribution = "normal"

    def latent_noise(self, n, seed_generator=None):
        """`n` noise vectors of size `latent_dim` from `latent_distribution`, from the model's seed generator
        (through `normal` / `uniform`, the one place a model draws its noise) or from `seed_generator`."""
        shape = (n, self.latent_dim)
        low = -1.0 if self.latent_distribution == "symmetric_uniform" else 0.0
        if seed_generator is None:
            return self.normal(shape) if self.latent_distribution == "normal" else self.uniform(shape, low, 1.0)
        if self.latent_distribution == "normal":
            return keras.random.normal(shape, seed=seed_generator)
        return keras.random.uniform(shape, minval=low, maxval=1.0, seed=seed_generator)

    def _set_latent_distribution(self, distribution):
        """In `__init__`: check and keep the method's `latent_distribution` argument."""
        if distribution not in LATENT_DISTRIBUTIONS:
            raise ValueError(f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}; got {distribution!r}")
        self.latent_distribution = distribution

    def normal(self, shape):
        """Standard normal noise from the model's own seed generator."""
        return keras.random.normal(shape, seed=self.seed_generator)

    def uniform(self, shape, minval=0.0, maxval=1.0):
        return keras.random.uniform(shape, minval=minval, maxval=maxval, seed=self.seed_generator)

    # --------------------------------------------------------------- batches
    #: The batch keys the method reads (an SSL batch's; a paired method's are `PAIRED_BATCH_KEYS`).
    batch_keys = BATCH_KEYS

    def unpack(self, batch, *keys):
        """Read `keys` of a DESIGN.md batch dict, with clear errors for anything else.

        A bare tensor is accepted as `{"x": tensor}` by methods that need only
        `"x"`, so `vae.fit(images)` works.
        """
        if not isinstance(batch, dict):
            if isinstance(batch, (tuple, list)) and len(batch) == 1:
                batch = batch[0]
            if keys == ("x",) and not isinstance(batch, (tuple, list, dict)):
                return batch
            raise ValueError(
                f"{type(self).__name__} trains on dict batches with keys {list(keys)} "
                "(see zoo.data: data.train(batch_size)); got "
                f"{type(batch).__name__}"
            )
        unknown = set(batch) - set(self.batch_keys)
        if unknown:
            raise ValueError(
                f"unexpected batch keys {sorted(unknown)}: batches carry only {list(self.batch_keys)}, "
                "and the unlabelled stream 'x' carries no labels"
            )
        missing = [k for k in keys if k not in batch]
        if missing:
            raise ValueError(f"{type(self).__name__} needs batch keys {missing}; got {sorted(batch)}")
        values = tuple(batch[k] for k in keys)
        return values[0] if len(values) == 1 else values

    # --------------------------------------------------------------- metrics
    @property
    def metrics(self):
        trackers = list(self._trackers.values())
        if self.can("classify"):
            trackers.append(self._accuracy)
        return trackers

    def track(self, names, values):
        """Update the trackers `names` with `values`; return their results as logs."""
        for name in names:
            self._trackers[name].update_state(values[name])
        return _step_logs({name: self._trackers[name].result() for name in names})

    def test_step(self, data):
        """Evaluate on `(x, y)` batches (or `x` alone for methods that do not classify).

        Classifiers log `accuracy`; methods with a bound log `eval_log_names`.
        """
        if isinstance(data, dict):
            raise ValueError("evaluate() takes (x, y) batches, e.g. data.test(batch_size)")
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        logs = {}
        if self.eval_log_names:
            logs.update(self.track(self.eval_log_names, self.evaluation_terms(x)))
        if self.can("classify"):
            if y is None:
                raise ValueError("evaluate() of a classifier needs labelled (x, y) batches")
            self._accuracy.update_state(y, self._classify_batch(x))
            logs["accuracy"] = self._accuracy.result()
        return _step_logs(logs)

    def evaluation_terms(self, x):
        """Per-batch values of `eval_log_names` (methods with a bound override this)."""
        raise NotImplementedError

    # ----------------------------------------------------------- capabilities
    @classmethod
    def can(cls, capability) -> bool:
        """Whether the method has `capability` (one of CAPABILITIES)."""
        hook = {"sample": "_sample_batch", "classify": "_classify_batch", "encode": "_encode_batch",
                "elbo": "_elbo_batch", "log_prob": "_log_prob_batch"}[capability]
        return getattr(cls, hook) is not getattr(ZooModel, hook)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(c for c in CAPABILITIES if self.can(c))

    def _require(self, capability):
        self._require_built(capability)
        if not self.can(capability):
            raise CapabilityError(
                f"{type(self).__name__} cannot {capability}: its capabilities are "
                f"{list(self.capabilities) or 'none'}"
            )

    def sample(self, n, labels=None, seed=None, batch_size=500):
        """`n` generated images in [-1, 1] as a numpy array.

        Args:
            n: number of images.
            labels: class-conditional methods only: an int, or a sequence of
                ints repeated cyclically to length `n` (`labels=range(10)`);
                None draws classes uniformly.
            seed: an int for reproducible samples; None advances the model's
                own seed generator.
        """
        self._require("sample")
        n = int(n)
        if n < 1:
            raise ValueError(f"n must be >= 1; got {n}")
        labels = self._sample_labels(n, labels, seed)
        generator = self.seed_generator if seed is None else keras.random.SeedGenerator(seed)
        chunks = []
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            chunk_labels = None if labels is None else labels[start:stop]
            chunks.append(ops.convert_to_numpy(self._sample_batch(stop - start, chunk_labels, generator)))
        return np.concatenate(chunks).astype("float32")

    def _sample_labels(self, n, labels, seed):
        if not self.conditional:
            if labels is not None:
                raise ValueError(
                    f"{type(self).__name__} is unconditional: sample() takes no labels"
                )
            return None
        if labels is None:
            return np.random.default_rng(seed).integers(0, self.num_classes, n).astype("int32")
        labels = np.atleast_1d(np.asarray(list(labels) if isinstance(labels, range) else labels))
        if labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers in [0, {self.num_classes}); got {labels!r}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be in [0, {self.num_classes}); got {labels.min()}..{labels.max()}")
        return np.resize(labels.astype("int32"), n)

    def classify(self, x, batch_size=500):
        """Class probabilities, shape (len(x), num_classes)."""
        self._require("classify")
        return self._map_batches(self._classify_batch, x, batch_size)

    def encode(self, x, batch_size=500):
        """Codes of `x` (the posterior mean for stochastic encoders)."""
        self._require("encode")
        return self._map_batches(self._encode_batch, x, batch_size)

    def elbo(self, x, batch_size=500):
        """Per-example evidence lower bound log p(x) >= ELBO, in nats."""
        self._require("elbo")
        return self._map_batches(self._elbo_batch, x, batch_size)

    def log_prob(self, x, k=5000, batch_size=None):
        """Per-example estimate of log p(x) in nats (importance sampled with `k` samples).

        By default `batch_size` images go through the nets k times together with batch_size x k <= 5000
        (one image a batch for k >= 5000): the activations of 50,000 passes of a 28x28 decoder held 19 GB."""
        self._require("log_prob")
        batch_size = batch_size or max(1, 5_000 // int(k))
        return self._map_batches(lambda b: self._log_prob_batch(b, int(k)), x, batch_size)

    def _map_batches(self, fn, x, batch_size):
        x = self.check_images(x)
        outputs = [ops.convert_to_numpy(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs)

    def check_images(self, x):
        """`x` as float32 numpy, with a clear error for a wrong shape or pixel range."""
        x = np.asarray(x, dtype="float32")
        if x.ndim == len(self.image_shape):
            x = x[None]
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"{type(self).__name__} takes images of shape {self.image_shape}; got {x.shape[1:]}")
        if x.size and (x.min() < -1.0 - 1e-3 or x.max() > 1.0 + 1e-3):
            raise ValueError(
                f"pixels must be in [-1, 1] (zoo.data scales them so); got {x.min():.3g}..{x.max():.3g}"
            )
        return x

    # Hooks: a method overrides those of the capabilities it has.
    def _sample_batch(self, n, labels, seed_generator):
        raise NotImplementedError

    def _classify_batch(self, x):
        raise NotImplementedError

    def _encode_batch(self, x):
        raise NotImplementedError

    def _elbo_batch(self, x):
        raise NotImplementedError

    def _log_prob_batch(self, x, k):
        raise NotImplementedError

    # ---------------------------------------------------------------- saving
    def _rng_states(self):
        """State variables of every seed generator in the model (its own, dropout's, ...)."""
        return [v for v in self.non_trainable_variables if v.path.endswith("seed_generator_state")]

    def save_own_variables(self, store):
        """Keras' own variables, plus the seed generators' states.

        Keras leaves random states out of weight files; with them in, a run
        resumed by `BackupAndRestore` (or a reloaded model) draws the same
        noise as an uninterrupted one.
        """
        super().save_own_variables(store)
        for i, state in enumerate(self._rng_states()):
            store[f"rng_{i}"] = state.numpy()

    def load_own_variables(self, store):
        keys = list(store.keys())
        super().load_own_variables({k: store[k] for k in keys if not k.startswith("rng_")})
        saved = [k for k in keys if k.startswith("rng_")]
        states = self._rng_states()
        if saved and len(saved) != len(states):
            raise ValueError(f"the file holds {len(saved)} random states; this model has {len(states)}")
        for i, state in enumerate(states if saved else []):
            state.assign(store[f"rng_{i}"])

    def save(self, filepath, overwrite=True, **kwargs):
        """`keras.Model.save`, written to a temporary file first and then moved
        into place, so an interrupted save never leaves a half-written file
        where a good one was."""
        self._require_built("be saved")
        filepath = os.fspath(filepath)
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(filepath)
        folder = os.path.dirname(os.path.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        suffix = os.path.splitext(filepath)[1] or ".keras"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=suffix)
        os.close(fd)
        try:
            super().save(tmp, overwrite=True, **kwargs)
            os.replace(tmp, filepath)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


class NetClassifier:
    """Mixin: the classifier is `classifier_head(features(x))` (see `zoo.nets.classifier`).

    Gives `logits`, `call` (class probabilities) and the `classify` hook, so the
    methods that share the zoo's classifier net share this code too.
    """

    def logits(self, x, training=False):
        return self.classifier_head(self.features(x, training=training), training=training)

    def call(self, x, training=False):
        """Class probabilities, softmax of `logits`."""
        return ops.softmax(self.logits(x, training))

    def _classify_batch(self, x):
        with self.evaluation_scope():  # the weight average, for a method that keeps one
            return self(x, training=False)

    def _data_dependent_init(self, x):
        """Weight norm's data-dependent init (Salimans & Kingma 2016, Sec. 2.2) of the classifier net: one
        forward pass in training mode, noise on, as the Improved-GAN and Bad GAN codes do it."""
        from zoo.layers import data_dependent_init

        with data_dependent_init([self.features, self.classifier_head]):
            self.logits(x, training=True)


class NoiseGenerator:
    """Mixin: an unconditional generator `generator(z)` of noise z of size `latent_dim`.

    z ~ N(0, I), or U(0, 1) where the method's `latent_distribution` is
    "uniform" (`ZooModel.latent_noise`). Gives `generate` (which a method may
    override, e.g. Improved-GAN's virtual batch norm) and the `sample` hook,
    for the GANs that share this shape.
    """

    def generate(self, z, training=False):
        return self.generator(z, training=training)

    def _sample_batch(self, n, labels, seed_generator):
        return self.generate(self.latent_noise(n, seed_generator), training=False)


class ClassifierGAN(NetClassifier, NoiseGenerator):
    """Mixin: a GAN whose discriminator is the zoo's K-class classifier net.

    D is `classifier_head(features(x))`, G an unconditional `generator(z)`.
    Each batch takes one D step, then one G step, each on fresh noise (the
    alternation of Goodfellow et al. 2014, Alg. 1, with k = 1), then D's
    evaluation average (`weight_average`, a `zoo.averaging.ExponentialAverage`,
    where the method keeps one) takes the new weights. G's step reads
    the batch's second unlabelled images `"x2"` where the stream has them
    (the Improved-GAN and Bad GAN codes), else the D step's. The method
    supplies `discriminator_losses(x, x_labeled, y_labeled, z)` and
    `generator_losses(x, z)`; `log_names` are the logs those return (a
    method with more terms, e.g. Bad GAN, names its own). SGAN (and so
    Improved-GAN and Bad GAN) and CatGAN share this.
    """

    roles = ("d", "g")
    log_names = ("d_loss", "d_supervised", "d_unsupervised", "g_loss")

    def _build_classifier_gan(self, arch, latent_dim, dropout, input_noise):
        """D's features and head, and G, from `zoo.nets` (the same D as the supervised baseline's net)."""
        resolved = nets.resolve_arch(arch, self.image_shape)
        self.features, self.classifier_head = nets.classifier(
            resolved, self.image_shape, self.num_classes, dropout=dropout, input_noise=input_noise, prefix="d")
        self.generator = nets.generator(resolved, latent_dim, self.image_shape)

    def role_layers(self):
        return {"d": [self.features, self.classifier_head], "g": [self.generator]}

    def train_step(self, batch):
        x, x_labeled, y_labeled = self.unpack(batch, "x", "x_labeled", "y_labeled")
        x_generator = batch.get("x2", x)
        n = ops.shape(x)[0]
        _, d_logs = self.minimize(
            "d", lambda: self.discriminator_losses(x, x_labeled, y_labeled, self.latent_noise(n)))
        _, g_logs = self.minimize("g", lambda: self.generator_losses(x_generator, self.latent_noise(n)))
        average = getattr(self, "weight_average", None)  # D's evaluation average, where the method keeps one
        if average is not None:
            average.update()
        return self.track(self.log_names, {**d_logs, **g_logs})


def _first_images(x):
    """The unlabelled images of the first batch of what `fit` was given."""
    if isinstance(x, tf.data.Dataset):
        x = next(iter(x.take(1)))
    if isinstance(x, dict):
        x = x["x"]
    elif isinstance(x, (tuple, list)):
        x = x[0]
    return x[:DATA_INIT_IMAGES]


def _step_logs(logs):
    """A step's scalar logs as Keras' `fit` / `evaluate` can gather them from every replica.

    Across several workers Keras (3.15) averages a step's outputs with `strategy.reduce("MEAN", v, axis=0)`,
    which fails on a scalar (tensorflow/tensorflow#72388); a leading axis of one lets the same reduce return
    the scalar mean over the workers. On one machine the logs stay scalars.
    """
    strategy = tf.distribute.get_strategy()
    if not (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode()):
        return logs
    return {name: ops.reshape(value, (1,)) for name, value in logs.items()}


def _replicas_in_sync():
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def _check_input_shape(shape, rank=3):
    if rank != 3:  # a vector method's (observation_dim,)
        shape = tuple(int(d) for d in shape)
        if len(shape) != rank or min(shape) < 1:
            raise ValueError(f"input_shape must have {rank} positive sizes; got {shape}")
        return shape
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(f"input_shape must be (height, width, channels); got {shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels) with positive sizes; got {shape}")
    return shape


def _deferrable(init):
    """Wrap a method's `__init__` so that `input_shape` (and `num_classes`) may be left out.

    Called without them, the wrapped constructor only initialises the Keras
    model and keeps its arguments; `ZooModel.build_from` (which `fit` calls)
    runs the real constructor once the data says what they are. Keras' own
    idiom defers weights to `build(input_shape)`; the zoo defers the whole
    constructor instead, because each method builds several nets (and their
    optimizers) from the image shape and the number of classes, and every
    method keeps its constructor as its config.
    """
    signature = inspect.signature(init)
    required = [name for name in ("input_shape", "num_classes") if name in signature.parameters]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        arguments = signature.bind_partial(self, *args, **kwargs).arguments
        arguments.pop("self")
        if all(arguments.get(name) is not None for name in required):
            return init(self, *args, **kwargs)
        keras_kwargs = {k: v for k, v in arguments.get("kwargs", {}).items() if k in ("name", "dtype", "trainable")}
        keras.Model.__init__(self, **keras_kwargs)
        # Plain attributes, out of Keras' tracking: they are bookkeeping, not state.
        object.__setattr__(self, "_keras_initialised", True)
        object.__setattr__(self, "_pending_init", (init, dict(arguments)))
        self.role_optimizers = {}

    # Keras' Operation.__new__ reads the constructor's argspec without following `__wrapped__`: with the
    # wrapper's (*args, **kwargs) it fails on a method whose every argument has a default (gail).
    __init__.__signature__ = signature
    return __init__


def _shape_and_classes(data):
    """(image shape or None, number of classes or None) read from what `build_from` accepts."""
    from zoo.data import SSLData

    if isinstance(data, SSLData):
        return data.input_shape, data.num_classes
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if isinstance(spec, dict):
            spec = spec.get("x", spec.get("x_labeled"))
        elif isinstance(spec, tuple):
            spec = spec[0]
        shape = getattr(spec, "shape", None)
        return (tuple(shape[1:]) if shape is not None and shape.rank == 4 else None), None
    if isinstance(data, dict):
        data = data.get("x", data.get("x_labeled"))
    if isinstance(data, (tuple, list)) and len(data) == 3 and all(isinstance(d, (int, np.integer)) for d in data):
        return tuple(int(d) for d in data), None
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) == 4:
        return tuple(int(d) for d in shape[1:]), None
    return None, None
