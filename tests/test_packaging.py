"""The package installs as embtrans, with its configs, from a plain (non-editable) install: used from any
folder, it composes the training config and loads a translator without the checkout."""

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from embtrans.paths import ROOT


@pytest.mark.slow
def test_a_plain_install_works_from_another_folder(tmp_path):
    # Built from a copy, so the build leaves nothing in the checkout.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    target = tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(project)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    assert (target / "embtrans" / "conf" / "train.yaml").is_file()
    assert (target / "embtrans" / "conf" / "arch" / "mlp2.yaml").is_file()
    script = (
        "import embtrans, hydra_plugins.embedding_translation.sweeper\n"
        "from embtrans import Translator\n"
        "from embtrans.paths import CONFIG_DIR\n"
        "from hydra import compose, initialize_config_dir\n"
        "with initialize_config_dir(version_base='1.3', config_dir=CONFIG_DIR):\n"
        "    cfg = compose('train', overrides=['arch=mlp2'])\n"
        "print(embtrans.__file__, Translator.__name__, cfg.arch.net._target_, CONFIG_DIR)\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The installed copy first; its dependencies from this environment (not the checkout: no src/ on the path).
    paths = [str(target), sysconfig.get_paths()["purelib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONNOUSERSITE": "1"}
    result = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path[:0] = {paths!r}\n" + script],
                            capture_output=True, text=True, cwd=elsewhere, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    module_file, name, target_class, config_dir = result.stdout.split()
    assert module_file.startswith(str(target)) and config_dir.startswith(str(target))
    assert (name, target_class) == ("Translator", "embtrans.translators.mlp.MLPTranslator")
