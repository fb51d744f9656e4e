"""TP=2 over gloo (two processes under torchrun) trains like TP=1: same seed, same data, same losses;
a TP=2 run resumes from its sharded checkpoint exactly; the TP-aware gradient clipping equals torch's at TP=1."""
from __future__ import annotations

import pytest

from tests.trainer._launch import run_train

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]

# lr and a clip threshold below the gradient norm (~0.8-1.6) so the updates, and the clipping by the
# norm summed across TP ranks, change the losses of later steps
ARGS = dict(model="tiny", steps=4, lr=1e-2, grad_clip=0.5, seed=1234, device="cpu")
CLI = [f"--{k.replace('_', '-')}={v}" for k, v in ARGS.items()]


@pytest.fixture(scope="module")
def tp2_run(tmp_path_factory):
    """4 steps at TP=2, saving after steps 2 and 4."""
    tmp = tmp_path_factory.mktemp("tp2")
    metrics = run_train([*CLI, "--tp=2", f"--save={tmp / 'ckpt'}", "--save-interval=2"],
                        tmp / "metrics.jsonl", nproc=2)
    return metrics, tmp / "ckpt"


def test_tp2_losses_match_tp1(tp2_run):
    from trainer.train import TrainConfig, train

    tp2, _ = tp2_run
    tp1 = train(TrainConfig(tp=1, **ARGS))  # in this process: the session's world of one
    assert [m["step"] for m in tp2] == [1, 2, 3, 4]
    assert all(m["grad_norm"] > ARGS["grad_clip"] for m in tp2)  # clipping was active
    assert [m["loss"] for m in tp2] == pytest.approx(tp1, abs=1e-4, rel=0)


def test_tp2_resumes_from_its_sharded_checkpoint(tp2_run, tmp_path):
    tp2, ckpt = tp2_run
    assert sorted(p.name for p in (ckpt / "step-0000002" / "optimizer").iterdir()) == \
        ["rank-00000.pt", "rank-00001.pt"]
    resumed = run_train([*CLI, "--tp=2", f"--resume={ckpt / 'step-0000002'}"], tmp_path / "m.jsonl", nproc=2)
    assert [m["step"] for m in resumed] == [3, 4]
    assert [m["loss"] for m in resumed] == [m["loss"] for m in tp2[2:]]  # exactly


def test_clip_grad_norm_matches_torch_at_tp1():
    from trainer.config import get_model_config
    from trainer.model import build_model
    from trainer.train import clip_grad_norm_

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
