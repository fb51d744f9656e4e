"""Gradient plumbing: TP-aware clip_grad_norm_ equals torch's at TP=1; FP32 master weights of a BF16
model take the update and cast it back. (TP=2 and DP=2 training parity: test_train_loop.py.)"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]


def test_clip_grad_norm_matches_torch_at_tp1():
    from trainer.config import get_model_config
    from trainer.model import build_model
    from trainer.optim import clip_grad_norm_

    torch.manual_seed(0)
    a = build_model(get_model_config("tiny"), device="cpu")
    b = build_model(get_model_config("tiny"), device="cpu")
    b.load_state_dict(a.state_dict())
    ids = torch.randint(0, 1024, (2, 16))
    pos = torch.arange(16).expand(2, 16)
    for m in (a, b):
        (m(ids, pos, None, labels=ids).mean() * 100).backward()  # x100: a norm well above 1
    ours = clip_grad_norm_(list(a.parameters()), 1.0)
    theirs = torch.nn.utils.clip_grad_norm_(list(b.parameters()), 1.0)
    assert ours == pytest.approx(theirs.item(), rel=1e-5) and ours > 1.0
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-8)


def test_master_weights_keep_updates_smaller_than_bf16_resolution():
    from trainer.optim import MasterWeights

    weight = torch.nn.Parameter(torch.ones(4, dtype=torch.bfloat16))
    norm = torch.nn.Parameter(torch.ones(4))  # an FP32 parameter is its own master
    master = MasterWeights([weight, norm])
    assert master.params[1] is norm and master.params[0].dtype == torch.float32 and master.distinct()
    opt = torch.optim.SGD(master.params, lr=1e-3)
    for _ in range(10):  # 10 updates of -1e-3: each alone rounds away in BF16 (spacing 2^-7 at 1.0)
        weight.grad = torch.ones(4, dtype=torch.bfloat16)
        norm.grad = torch.ones(4)
        master.grads_to_master()
        opt.step()
        master.master_to_model()
        master.zero_grad()
    assert master.params[0][0].item() == pytest.approx(0.99, abs=1e-6)
    assert weight[0].item() == pytest.approx(0.99, abs=2**-8)  # the sum of the updates did arrive
    assert weight.grad is None and master.params[0].grad is None
