"""Reference learning rates and momenta of PyTorch's schedulers for tst_schedule.

Usage: scheduler_reference.py CASES_JSON OUT_JSON

CASES_JSON is a list of {"name", "total_steps", "optimizer": "sgd" | "adam", "spec": {...}}
with the fields of wb::ScheduleSpec. OUT_JSON maps each name to {"lr": [...],
"momentum": [...]}: param_groups[0]'s lr and momentum (SGD) or beta1 (Adam) as the optimizer
sees them before each of its total_steps steps. A warm-up is
SequentialLR([LinearLR(start_factor, total_iters=w), policy], milestones=[w]).
Exits with status 3 when torch cannot be imported.
"""

import json
import sys
import warnings

try:
    import torch
    from torch.optim import lr_scheduler
except ImportError as error:
    print(f"torch missing: {error}", file=sys.stderr)
    sys.exit(3)


def make_optimizer(kind, spec):
    params = [torch.zeros(1, requires_grad=True)]
    if kind == "adam":
        return torch.optim.Adam(params, lr=spec["lr"], betas=(0.9, 0.999))
    return torch.optim.SGD(params, lr=spec["lr"], momentum=0.9)


def make_policy(optimizer, spec, total_steps):
    policy = spec["policy"]
    if policy == "onecycle":
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=spec["max_lr"], total_steps=total_steps,
            pct_start=spec["pct_start"], anneal_strategy=spec["anneal_strategy"],
            cycle_momentum=spec["cycle_momentum"], base_momentum=spec["base_momentum"],
            max_momentum=spec["max_momentum"], div_factor=spec["div_factor"],
            final_div_factor=spec["final_div_factor"], three_phase=spec["three_phase"])
    if policy == "step":
        return lr_scheduler.StepLR(optimizer, spec["step_size"], spec["gamma"])
    if policy == "multistep":
        return lr_scheduler.MultiStepLR(optimizer, spec["milestones"], spec["gamma"])
    if policy == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, spec["t_max"], spec["eta_min"])
    if policy == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ValueError(f"unknown policy {policy}")


def run(case):
    spec = case["spec"]
    optimizer = make_optimizer(case["optimizer"], spec)
    warmup = spec["warmup_steps"]
    if warmup > 0:
        ramp = lr_scheduler.LinearLR(optimizer, start_factor=spec["warmup_start_factor"],
                                     end_factor=1.0, total_iters=warmup)
        policy = make_policy(optimizer, spec, case["total_steps"])
        scheduler = lr_scheduler.SequentialLR(optimizer, [ramp, policy], milestones=[warmup])
    else:
        scheduler = make_policy(optimizer, spec, case["total_steps"])
    lrs, momenta = [], []
    for step in range(case["total_steps"]):
        group = optimizer.param_groups[0]
        lrs.append(group["lr"])
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
        optimizer.step()
        if step + 1 < case["total_steps"]:
            scheduler.step()
    return {"lr": lrs, "momentum": momenta}


def main():
    warnings.filterwarnings("ignore")
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = {case["name"]: run(case) for case in cases}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
