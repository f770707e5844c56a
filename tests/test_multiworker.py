"""One step on two worker processes (`MultiWorkerMirroredStrategy`, a TF_CONFIG cluster on 127.0.0.1)
equals the single-process step on the global batch.

What one machine's MirroredStrategy (tests/test_distribution.py) cannot show: each worker reads its own
share of the stream (`zoo.data` shards by data), the replica ids and the all-reduces span processes, and
the losses are divided by the global batch of the whole cluster, not a worker's: with a loss averaged
per worker and the gradients summed, SGD's update doubles and the comparison fails. SGAN (a GAN's two
optimizers and feature statistics) and M2 (noise per class, the labelled and unlabelled bounds) in one
pair of worker processes, to keep the cost to one start of the cluster.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import zoo
from tests.distributed import GLOBAL_BATCH, assert_same_updates, build, one_batch

MODELS = [
    ("sgan", {"num_classes": 10, "latent_dim": 8, "dropout": 0.0, "input_noise": 0.0, "arch": "mlp"}),
    ("m2", {"num_classes": 10, "latent_dim": 4, "hidden": 16, "width": 0.25, "alpha": 2.6}),
]


def sharded_batch(data):
    """The global batch as a stream sharded by element across workers (rows [8 i, 8 i + 8) on worker i):
    `one_batch` with `zoo.data`'s sharding policy."""
    from zoo.data import _shard_by_data

    return _shard_by_data(one_batch(data).repeat())


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_step_equals_the_single_process_step(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    out = tmp_path / "weights.npz"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    processes = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": root, "CUDA_VISIBLE_DEVICES": "",
               "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen([sys.executable, "-m", "tests.multiworker_worker", str(out)], cwd=root,
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    logs = []
    for p in processes:
        try:
            logs.append(p.communicate(timeout=300)[0])
        except subprocess.TimeoutExpired:
            for q in processes:
                q.kill()
            raise
    assert all(p.returncode == 0 for p in processes), "\n".join(log[-3000:] for log in logs)
    saved = np.load(out)

    data = zoo.data.load("digits", labels=20)
    assert GLOBAL_BATCH % 2 == 0
    for name, kwargs in MODELS:
        single = build(name, {"input_shape": data.input_shape, **kwargs})
        start = single.get_weights()
        for i, w in enumerate(start):  # both built from seed 0: the same initial weights
            np.testing.assert_array_equal(saved[f"{name}/{i}/start"], w)
        single.fit(one_batch(data), epochs=1, verbose=0, shuffle=False)
        assert_same_updates(start, single.get_weights(), [saved[f"{name}/{i}/after"] for i in range(len(start))])
