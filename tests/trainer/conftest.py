"""One megatron-core import and one gloo process group (world of one, CPU shim active) per test session:
importing megatron.core alone costs 5-13 s here."""
from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def mcore_cpu():
    pytest.importorskip("torch")
    pytest.importorskip("megatron.core")
    from trainer.parallel import destroy_distributed, init_distributed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Apex/TransformerEngine not installed" fallbacks
        init_distributed("cpu", tensor_parallel_size=1, seed=1234)
    yield
    destroy_distributed()


@pytest.fixture
def tiny_cfg():
    from trainer.config import get_model_config

    return get_model_config("tiny")
