"""Analyse the finished runs of a sweep: scores, Chroma collections, tables, figures, worked examples,
and the report (index.html and report.md) that reads them.

    python analyze.py                                   # the latest sweep under outputs/train/multiruns
    python analyze.py sweep_dir=outputs/train/multiruns/<time>
    python analyze.py report.placeholder=true           # the report's layout with synthetic numbers

With no sweep yet, it writes the placeholder report.

See conf/analyze.yaml for every option and docs/analysis.md for what is written where.
"""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from embtrans.cli import exit_on_user_error
from embtrans.paths import CONFIG_DIR
from embtrans.sweep.environment import set_project_env

set_project_env()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="analyze")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    from embtrans.analysis.console import print_summary
    from embtrans.analysis.pipeline import analyze, resolve_sweep_dir
    from embtrans.analysis.runs import NoSweepYet
    from embtrans.analysis.wandb_log import log_to_wandb
    from embtrans.config_checks import ANALYZE_RULES, check
    from embtrans.report.build import build_placeholder_report, build_report, describe, study_texts
    from embtrans.report.publish import check_destination

    check(cfg, ANALYZE_RULES)
    if cfg.report.placeholder:
        print(describe(build_placeholder_report(cfg)))
        return
    try:
        sweep_dir = resolve_sweep_dir(cfg)
    except NoSweepYet as missing:
        print(f"{missing}\nuntil then, here is the report's layout with synthetic numbers:")
        print(describe(build_placeholder_report(cfg)))
        return
    if cfg.report.enabled and cfg.report.get("publish"):  # refused now, not after the whole analysis
        check_destination(Path(cfg.report.publish), {"sweep": sweep_dir.resolve()})
    if cfg.report.enabled:
        study_texts(cfg)  # a wrong notes or conclusion file: said now, not after the whole analysis
    analysis = analyze(cfg)
    print_summary(analysis, wandb_dir=log_to_wandb(analysis, cfg))
    if cfg.report.enabled:
        print(describe(build_report(cfg, analysis.output_dir)))


if __name__ == "__main__":
    main()
