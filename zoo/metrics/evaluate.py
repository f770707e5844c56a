"""`evaluate`: every applicable metric of a model on a dataset, with its protocol.

    import zoo
    data = zoo.data.load("digits", labels=50)
    model = zoo.load("sgan", input_shape=data.input_shape, num_classes=10)
    results = zoo.metrics.evaluate(model, data, n=2000)
    results["fid"], results["extractor"], results["n_generated"]

Generated images are streamed: `model.sample` is called `batch_size` images
at a time, each batch goes through the extractor (features, probabilities)
and the Parzen accumulators, and only the features are kept (n x 128 floats
for a domain classifier), never all the images.
"""

from __future__ import annotations

import time

import numpy as np

from zoo.metrics import sample_quality as sq
from zoo.metrics.classification import accuracy as _accuracy
from zoo.metrics.extractors import get_extractor

#: Every metric `evaluate` knows, in the order of its results.
METRICS = ("accuracy", "fid", "kid", "inception_score", "precision_recall", "mmd", "parzen")
REFERENCE_SPLITS = ("test", "train")


def evaluate(model, data, n=10000, extractor="auto", reference="test", seed=0, metrics=None, batch_size=500,
             kid_subsets=100, kid_subset_size=1000, is_splits=10, pr_k=3, mmd_bandwidths=None,
             mmd_max=2000, parzen_sigmas=sq.DEFAULT_PARZEN_SIGMAS, parzen_validation=1000, cache=None):
    """Metrics of `model` on `data` and the protocol that produced them, as one flat dict.

    Args:
        model: what generates: anything with `sample(n, seed=...)` (every
            zoo generator), a callable `f(n, seed) -> images`, or an array of
            images (e.g. `data.x_train`, for the floor of each metric; `n` of
            them are drawn without replacement, never among the Parzen
            validation images). A model with
            `classify` (and `can("classify")` true, if it has `can`) also gets
            `accuracy` / `error_rate` on `data`'s test split.
        data: a `zoo.data.SSLData` (or a dataset name): the reference images,
            the domain classifier's training set and the Parzen validation set.
        n: number of generated images.
        extractor: "auto" (the domain classifier for digits / mnist /
            fashion_mnist and other grey datasets, else InceptionV3), "domain",
            "inception", or a `zoo.metrics.extractors.FeatureExtractor`.
        reference: the real split the samples are compared with, "test"
            (default) or "train".
        seed: seeds the sampling (each batch gets a seed derived from it), the
            KID subsets, the reference subsample of an array source and the
            Parzen validation subset.
        metrics: names from `METRICS` (default: every applicable one).
        kid_subsets, kid_subset_size: KID's subsets (Binkowski et al.: 100 of 1000).
        is_splits: Inception Score's splits (Salimans et al.: 10).
        pr_k: k of the k-NN manifolds of precision / recall (Kynkaanniemi et al.: 3).
        mmd_bandwidths: Gaussian kernel bandwidths in feature space (None: the
            median heuristic times 0.25 .. 4).
        mmd_max: MMD uses at most this many feature vectors of each set (a
            random subset drawn with `seed`; the estimate stays unbiased).
        parzen_sigmas: candidate Parzen bandwidths for pixels in [0, 1].
        parzen_validation: validation images for the Parzen bandwidth: the
            dataset's validation split if it has one, else this many training
            images (at most a fifth of them) drawn with `seed`.
        cache: cache folder of the domain classifiers (default `$ZOO_CACHE_DIR`
            or `~/.cache/zoo`).

    Returns:
        dict: the metrics (`accuracy`, `error_rate`, `fid`, `kid`, `kid_std`,
        `inception_score`, `inception_score_std`, `precision`, `recall`,
        `mmd`, `parzen_log_likelihood`, `parzen_stderr` (nats, pixels in
        [0, 1]), `parzen_sigma`) and the protocol (`extractor`,
        `extractor_test_accuracy`, `dataset`, `n_generated`, `n_reference`,
        `reference_split`, `seed`, the settings of each metric, `seconds`).
    """
    started = time.perf_counter()
    if isinstance(data, str):
        from zoo import data as zoo_data

        data = zoo_data.load(data)
    chosen = _choose_metrics(metrics, model)
    if reference not in REFERENCE_SPLITS:
        raise ValueError(f"reference must be one of {REFERENCE_SPLITS}; got {reference!r}")
    n, batch_size = int(n), int(batch_size)
    if n < 2 or batch_size < 1:
        raise ValueError(f"n must be >= 2 and batch_size >= 1; got n={n}, batch_size={batch_size}")
    results, protocol = {}, {"dataset": data.name, "seed": seed, "reference_split": reference}

    if "accuracy" in chosen:
        results["accuracy"] = _accuracy(model, data.x_test, data.y_test, batch_size=batch_size)
        results["error_rate"] = 1.0 - results["accuracy"]
        protocol["n_accuracy"] = len(data.x_test)

    sample_metrics = [m for m in chosen if m != "accuracy"]
    if sample_metrics:
        real = data.x_test if reference == "test" else data.x_train
        feature_metrics = [m for m in sample_metrics if m != "parzen"]
        ext = get_extractor(extractor, data, cache=cache) if feature_metrics else None
        real_features = real_probabilities = None
        if ext is not None:
            real_features, real_probabilities = ext(real, batch_size)
            protocol.update(ext.protocol)
        parzen, exclude = None, None
        if "parzen" in sample_metrics:
            parzen, exclude = _parzen_accumulators(data, real, parzen_sigmas, parzen_validation, seed)
            # real training images as "samples" (the floor) must not contain the validation images
            exclude = exclude if model is data.x_train else None

        fake_features, fake_probabilities, count = [], [], 0
        for images in _generated_batches(model, n, batch_size, seed, data.input_shape, exclude):
            count += len(images)
            if ext is not None:
                f, p = ext(images, batch_size)
                fake_features.append(f)
                fake_probabilities.append(p)
            if parzen is not None:
                flat = (images.reshape(len(images), -1).astype("float64") + 1.0) / 2.0
                for accumulator in parzen:
                    accumulator.update(flat)
        protocol.update({"n_generated": count, "n_reference": len(real)})
        if ext is not None:
            fake_features = np.concatenate(fake_features)
            fake_probabilities = np.concatenate(fake_probabilities)
            results.update(_feature_metrics(feature_metrics, real_features, fake_features, fake_probabilities,
                                            protocol, seed, kid_subsets, kid_subset_size, is_splits, pr_k,
                                            mmd_bandwidths, mmd_max))
        if parzen is not None:
            scored = sq.parzen_result(*parzen)
            results.update({"parzen_log_likelihood": scored["mean"], "parzen_stderr": scored["stderr"],
                            "parzen_sigma": scored["sigma"]})
            protocol.update({"parzen_space": "pixels in [0, 1]", "parzen_validation": len(parzen[1].points),
                             "parzen_sigmas": [float(s) for s in parzen[0].sigmas]})
    protocol["seconds"] = time.perf_counter() - started
    return {**results, **protocol}


def _choose_metrics(metrics, model):
    can_classify = hasattr(model, "classify") and (not hasattr(model, "can") or model.can("classify"))
    generates = isinstance(model, np.ndarray) or callable(getattr(model, "sample", None)) or \
        (callable(model) and not hasattr(model, "classify"))
    if hasattr(model, "can") and not model.can("sample"):
        generates = False
    if metrics is None:
        chosen = [m for m in METRICS if (m == "accuracy" and can_classify) or (m != "accuracy" and generates)]
        if not chosen:
            raise ValueError(f"{type(model).__name__} neither samples nor classifies: nothing to evaluate")
        return chosen
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {list(METRICS)}")
    if "accuracy" in metrics and not can_classify:
        raise ValueError(f"{type(model).__name__} cannot classify: no accuracy")
    if any(m != "accuracy" for m in metrics) and not generates:
        raise ValueError(f"{type(model).__name__} cannot sample: no sample-quality metrics")
    return [m for m in METRICS if m in metrics]


def _generated_batches(source, n, batch_size, seed, shape, exclude=None):
    """Batches of `n` images from a model, a callable or an array (less the rows `exclude`)."""
    rng = np.random.default_rng(seed)
    if isinstance(source, np.ndarray):
        pool = np.arange(len(source)) if exclude is None else np.setdiff1d(np.arange(len(source)), exclude)
        if len(pool) < n:
            raise ValueError(f"the array holds {len(pool)} usable images; n={n} asked")
        index = np.sort(rng.choice(pool, n, replace=False))
        batches = (source[index[i:i + batch_size]] for i in range(0, n, batch_size))
    else:
        draw = source.sample if callable(getattr(source, "sample", None)) else source
        batches = (draw(min(batch_size, n - i), seed=int(rng.integers(2 ** 31 - 1))) for i in range(0, n, batch_size))
    for images in batches:
        images = np.asarray(images, dtype="float32")
        if images.shape[1:] != tuple(shape):
            raise ValueError(f"generated images have shape {images.shape[1:]}; the dataset's is {tuple(shape)}")
        yield images


def _parzen_accumulators(data, real, sigmas, validation, seed):
    """Accumulators on the reference and validation images, and the training rows used for validation."""
    if data.x_val is not None:
        val, index = data.x_val, None
    else:
        rng = np.random.default_rng(seed + 1)
        index = rng.choice(len(data.x_train), min(int(validation), len(data.x_train) // 5), replace=False)
        val = data.x_train[index]
    flat = lambda x: (x.reshape(len(x), -1).astype("float64") + 1.0) / 2.0  # noqa: E731
    return (sq.ParzenAccumulator(flat(real), sigmas), sq.ParzenAccumulator(flat(val), sigmas)), index


def _feature_metrics(names, real, fake, fake_probabilities, protocol, seed, kid_subsets, kid_subset_size,
                     is_splits, pr_k, mmd_bandwidths, mmd_max):
    results = {}
    if "fid" in names:
        results["fid"] = sq.frechet_distance(real, fake)
    if "kid" in names:
        results["kid"], results["kid_std"] = sq.kernel_inception_distance(real, fake, kid_subsets, kid_subset_size,
                                                                          seed)
        protocol.update({"kid_subsets": kid_subsets, "kid_subset_size": min(kid_subset_size, len(real), len(fake))})
    if "inception_score" in names:
        splits = min(is_splits, len(fake_probabilities))
        results["inception_score"], results["inception_score_std"] = sq.inception_score(fake_probabilities, splits)
        protocol["is_splits"] = splits
    if "precision_recall" in names:
        results["precision"], results["recall"] = sq.precision_recall(real, fake, pr_k)
        protocol["pr_k"] = pr_k
    if "mmd" in names:
        rng = np.random.default_rng(seed + 2)
        subset = lambda x: x[rng.choice(len(x), min(len(x), int(mmd_max)), replace=False)]  # noqa: E731
        real_mmd, fake_mmd = subset(real), subset(fake)
        results["mmd"], bandwidths = sq.mmd(real_mmd, fake_mmd, mmd_bandwidths)
        protocol.update({"mmd_bandwidths": bandwidths, "mmd_n": [len(real_mmd), len(fake_mmd)]})
    return results
