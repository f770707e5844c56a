"""Semi-supervised accuracy and sample-quality metrics, with their feature extractors.

    import zoo
    data = zoo.data.load("digits", labels=50)
    model = zoo.load("vae", input_shape=data.input_shape)
    zoo.metrics.evaluate(model, data, n=2000)   # fid, kid, inception_score, ..., extractor, n_generated, ...

* `accuracy`, `error_rate`: anything with `classify`, batched; `linear_probe`:
  a linear SVM / logistic regression on anything with `encode` (ALI's protocol);
  `cluster_accuracy`: clusters matched one-to-one to classes (InfoGAN's code, AAE clustering).
* `frechet_distance`, `kernel_inception_distance`, `inception_score`,
  `precision_recall`, `mmd`, `parzen_log_likelihood`: pure numpy functions
  of features / probabilities / pixels (`zoo.metrics.sample_quality`).
* `DomainClassifier`, `InceptionV3Features`: feature extractors
  (`zoo.metrics.extractors`); every result records the extractor's name.
* `evaluate`: all of them on one model and dataset, streamed, with the protocol.
* `demographic_parity_gap`, `equalized_odds_gap`, `fairness_report`: group-fairness gaps of
  predictions against a protected attribute (`zoo.metrics.fairness`).
"""

from zoo.metrics.classification import accuracy, cluster_accuracy, error_rate, linear_probe  # noqa: F401
from zoo.metrics.evaluate import METRICS, evaluate  # noqa: F401
from zoo.metrics.fairness import demographic_parity_gap, equalized_odds_gap, fairness_report  # noqa: F401
from zoo.metrics.extractors import (  # noqa: F401
    DomainClassifier,
    ExtractorUnavailableError,
    FeatureExtractor,
    InceptionV3Features,
    get_extractor,
)
from zoo.metrics.sample_quality import (  # noqa: F401
    FeatureStats,
    frechet_distance,
    frechet_distance_from_moments,
    inception_score,
    kernel_inception_distance,
    mmd,
    parzen_log_likelihood,
    precision_recall,
)
