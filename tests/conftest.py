"""Test set-up: the same numerics on every machine, two logical CPU devices (for the distribution
tests), quiet logs.

The "it learns" bars are measured on one machine and must hold on another (an Intel Xeon with
AVX-512 and an AMD EPYC with AVX2 only run the same suite). Two TensorFlow defaults make results
depend on the machine, so both are fixed here, before TensorFlow is imported:

* oneDNN picks its kernels by the CPU's instruction set at run time (AVX-512 on one machine,
  AVX2 on the other), and they round differently; after hundreds of training steps that moves
  a test accuracy by points. `ONEDNN_MAX_CPU_ISA=AVX2` caps it at the instruction set both have,
  so both run the same kernels. (Turning oneDNN off, `TF_ENABLE_ONEDNN_OPTS=0`, would do too,
  but measured 1.5-3x slower here: supervised 20 against 13 ms a step, m2 282 against 92; the
  cap costs 10-30 %: 12.5 and 105 ms.)
* Multi-threaded kernels split their reductions by the thread count: one thread per process
  (pytest-xdist runs one process per core) gives one summation order.

The logical devices must be configured before TensorFlow initialises its runtime, hence here too.

XLA compiles at LLVM optimisation level 0 (`XLA_FLAGS`, read at the first compilation): the suite checks
that every method's step compiles and trains under XLA (tests/test_compile_paths.py), not how fast the
compiled code runs, and LLVM's passes are much of XLA's compile time on CPU (measured, one thread: gan
10.5 -> 6.8 s, aae_clustering 23 -> 13 s of CPU for the build, compile and two steps).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


FULL_RUN_TIERS = ("learns", "gpu_paths", "extended")


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true",
                     help=f"also run the long tiers ({', '.join(FULL_RUN_TIERS)}); the default run leaves them out")


def pytest_collection_modifyitems(config, items):
    """The default run leaves out the long tiers (pyproject.toml's markers), unless `--full` or an explicit
    `-m` asks for them: those tests are deselected, and the run's summary line counts them.

    A run without "it learns" tests also turns off Grappler, TensorFlow's graph optimiser: the contract tier
    traces a hundred models and runs each a few steps, and optimising every traced graph is much of its
    time (triple_gan's harness 14.5 -> 7.5 s; biggan's 12.3 -> 11.9). Its passes keep what a graph computes
    but fuse ops into kernels that round differently, so a run with learns tests keeps it on: the bars were
    measured so, as users train. Decided from the whole collection, so every xdist worker decides alike."""
    if not (config.getoption("full") or config.getoption("markexpr")):
        kept, left_out = [], []
        for item in items:
            (left_out if any(item.get_closest_marker(tier) for tier in FULL_RUN_TIERS) else kept).append(item)
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept
            config.stash[_LEFT_OUT] = len(left_out)
    if not any(item.get_closest_marker("learns") for item in items):
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, config):
    left_out = config.stash.get(_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} tests of the long tiers ({', '.join(FULL_RUN_TIERS)}) were left "
                                    "out: `python -m pytest --full` runs them too")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the same seeds and a float32 policy."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def mirrored_strategy():
    """The one MirroredStrategy over the two logical CPUs of a test process: a second one in the same
    process can reuse the collective instance keys of the first and abort the process."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.fixture(scope="session")
def learns_seed():
    """The seed of the "it learns" tests' models and label splits: 0, or ZOO_LEARNS_SEED when
    `python -m tests.measure_bars` measures the bars over several seeds."""
    from tests.measured import learns_seed

    return learns_seed()


@pytest.fixture(scope="session")
def digits50(learns_seed):
    import zoo

    return zoo.data.load("digits", labels=50, seed=learns_seed)


@pytest.fixture(scope="session")
def digits_domain(tmp_path_factory):
    """The digits domain classifier of `zoo.metrics` (the sample-quality tests' feature extractor), trained
    once per run: its cache sits in the run's shared temporary root, so the second xdist worker loads what
    the first trained (a worker that finds no cache yet trains its own; the cache writes are atomic)."""
    import zoo
    from zoo import metrics

    cache = str(tmp_path_factory.getbasetemp().parent / "zoo-cache")
    keras.utils.set_random_seed(0)
    return metrics.DomainClassifier.for_data(zoo.data.load("digits", labels=50, seed=0), cache=cache), cache
