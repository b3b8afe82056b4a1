"""Move a Chroma collection to a new embedding model without re-embedding it: translate its vectors
(mode=corpus), or export a translator that puts the new model's queries into the old space (mode=query).
A quality gate measured on held-out calibration texts decides first; dry_run=true only reports.

    python migrate.py source_collection=docs chroma.path=chroma_db model_a=minilm model_b=mpnet
    python migrate.py source_collection=docs chroma.host=127.0.0.1 chroma.port=8000 dry_run=true
    python migrate.py source_collection=docs chroma.path=chroma_db run_dir=outputs/train/runs/<run>
    python migrate.py mode=query source_collection=docs chroma.path=chroma_db export_dir=exports/q

Exit codes: 0 done, 2 bad input (one line says what), 3 refused by the quality gate (nothing written).
See conf/migrate.yaml for every option and docs/migrate.md.
"""

import hydra
from omegaconf import DictConfig

from embtrans.cli import exit_on_user_error
from embtrans.paths import CONFIG_DIR
from embtrans.sweep.environment import set_project_env

set_project_env()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="migrate")
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    from embtrans.config_checks import MIGRATE_RULES, check
    from embtrans.migrate.run import migrate

    check(cfg, MIGRATE_RULES)
    migrate(cfg)


if __name__ == "__main__":
    main()
