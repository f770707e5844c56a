"""One worker of tests/test_multiworker.py: `python -m tests.multiworker_worker OUT.npz` with TF_CONFIG set.

Trains one step of each model of `MODELS` under `MultiWorkerMirroredStrategy` (one replica per worker) on
the global batch of tests/distributed.py, sharded by `zoo.data`'s `AutoShardPolicy.DATA`, and writes the
weights before and after to OUT (worker 0 only: every worker holds the same weights after the step).
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"  # the suite's numerics (tests/conftest.py)

import json  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
# The strategy before any other TensorFlow work: it starts the cluster's collective runtime.
strategy = tf.distribute.MultiWorkerMirroredStrategy()

import zoo  # noqa: E402
from tests.distributed import build  # noqa: E402
from tests.test_multiworker import MODELS, sharded_batch  # noqa: E402


def main(out):
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    arrays = {}
    for name, kwargs in MODELS:
        data = zoo.data.load("digits", labels=20)
        with strategy.scope():
            model = build(name, {"input_shape": data.input_shape, **kwargs})
        start = model.get_weights()
        model.fit(sharded_batch(data), epochs=1, steps_per_epoch=1, verbose=0)
        for i, (w0, w1) in enumerate(zip(start, model.get_weights())):
            arrays[f"{name}/{i}/start"], arrays[f"{name}/{i}/after"] = w0, w1
    if json.loads(os.environ["TF_CONFIG"])["task"]["index"] == 0:
        np.savez(out, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
