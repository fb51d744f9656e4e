"""Run under torchrun with 2 processes (gloo): import an HF directory at TP=2 through `trainer.hf`'s
command line, then save the full-vocabulary logits of each given checkpoint loaded at TP=2.

    torchrun --nproc-per-node 2 -m tests.trainer._hf_tp_worker OUT.pt HF_DIR NEW_CKPT [CKPT ...]
"""
from __future__ import annotations

import sys
import warnings

import torch


def gathered_logits(model, ids):
    from megatron.core import parallel_state

    pos = torch.arange(ids.shape[1]).expand_as(ids)
    with torch.no_grad():
        local = model(ids, pos, None)  # [b, s, vocab / tp]: this rank's vocabulary block
    group = parallel_state.get_tensor_model_parallel_group()
    parts = [torch.empty_like(local) for _ in range(torch.distributed.get_world_size(group))]
    torch.distributed.all_gather(parts, local, group=group)
    return torch.cat(parts, dim=-1)


def main(out, hf_dir, new_ckpt, *checkpoints):
    from tests.trainer.test_hf_interop import token_ids
    from trainer import hf
    from trainer.parallel import destroy_distributed, init_distributed

    init_distributed("cpu", tensor_parallel_size=2)
    try:
        hf.main(["import", "--hf", hf_dir, "--output", new_ckpt, "--tp", "2"])
        results = [gathered_logits(hf.load_checkpoint_model(c)[0].eval(), token_ids())
                   for c in (new_ckpt, *checkpoints)]
        if torch.distributed.get_rank() == 0:
            torch.save(results, out)
    finally:
        destroy_distributed()


if __name__ == "__main__":  # dist_checkpointing's saver spawns processes that re-import __main__
    warnings.simplefilter("ignore")
    main(*sys.argv[1:])
