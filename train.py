"""Train a translator from model_a's embedding space to model_b's.

    python train.py model_a=minilm model_b=mpnet arch=linear dataset.limit=2000

See conf/train.yaml for every option; add -m for a sweep.
"""

import hydra
from omegaconf import DictConfig

from src.cli import CONFIG_DIR, exit_on_user_error, set_project_env
from src.training import train

set_project_env()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
@exit_on_user_error
def main(cfg: DictConfig) -> float:
    return train(cfg)["test/mse"]


if __name__ == "__main__":
    main()
