"""Analyse the finished runs of a sweep: scores, Chroma collections, tables, figures, worked examples.

    python analyze.py                                   # the latest sweep under outputs/train/multiruns
    python analyze.py sweep_dir=outputs/train/multiruns/<time>

See conf/analyze.yaml for every option and the README for what is written where.
"""

import hydra
from omegaconf import DictConfig

from src.cli import CONFIG_DIR, exit_on_user_error, set_project_env

set_project_env()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="analyze")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    from src.analysis.pipeline import analyze
    from src.analysis.report_console import print_summary
    from src.analysis.wandb_log import log_to_wandb

    analysis = analyze(cfg)
    print_summary(analysis, wandb_dir=log_to_wandb(analysis, cfg))


if __name__ == "__main__":
    main()
