"""Megatron's FLOPs formula against a hand count, and MFU."""
from __future__ import annotations

import math

import pytest

from trainer.config import get_model_config
from trainer.flops import flops_per_iteration, flops_per_token, mfu, peak_tflops_for


def test_flops_match_hand_count_for_tiny():
    cfg = get_model_config("tiny")  # L=2, h=64, 4 heads / 2 kv heads of 16, ffn 176, V=1024, s=64
    # per token and layer, multiply-adds: qkv 64*(64+32+32)=8192, scores+values 2*64*64/2=4096,
    # out proj 64*64=4096, SwiGLU 3*64*176=33792 -> 50176; x2 FLOPs per MAC x3 fwd+bwd -> 301056.
    # two layers 602112, output layer 6*64*1024=393216 -> 995328 per token; 3 x 64 tokens.
    assert flops_per_iteration(cfg, batch_size=3) == 3 * 64 * 995328


def test_flops_equal_6n_plus_attention():
    cfg = get_model_config("llama2-7b")
    h, V, s = cfg.hidden_size, cfg.vocab_size, cfg.seq_length
    n_gemm = cfg.num_params() - V * h - (2 * cfg.num_layers + 1) * h  # no input embedding, no norms
    q = cfg.num_attention_heads * cfg.head_dim
    attention = 6 * cfg.num_layers * q * s  # QK^T and AV over the causal half: 2 x q*s/2 MACs a token
    assert math.isclose(flops_per_token(cfg), 6 * n_gemm + attention)
    assert math.isclose(flops_per_iteration(cfg, 4, 2048), 4 * 2048 * flops_per_token(cfg, 2048))


def test_mfu():
    assert mfu(494.5) == pytest.approx(0.5)
    assert mfu(156, peak_tflops=312) == pytest.approx(0.5)
    assert peak_tflops_for("NVIDIA H100 80GB HBM3") == 989.0
    assert peak_tflops_for("NVIDIA GeForce RTX 4090") is None
