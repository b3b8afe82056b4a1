"""Train a translator from model_a's embedding space to model_b's.

    python train.py model_a=minilm model_b=mpnet arch=linear dataset.limit=2000
    python train.py -m arch=linear,mlp1,mlp2 width=1,8,32        # the sweep

See conf/train.yaml for every option and docs/getting-started.md for the daily commands.
"""

import hydra
from omegaconf import DictConfig

from embtrans.cli import exit_on_user_error
from embtrans.paths import CONFIG_DIR
from embtrans.sweep.environment import set_project_env
from embtrans.sweep.job import run_job
from embtrans.sweep.summary import summary_when_interrupted

set_project_env()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
@exit_on_user_error
def main(cfg: DictConfig) -> float:
    return run_job(cfg)


if __name__ == "__main__":
    with summary_when_interrupted():
        main()
