"""embtrans: learn maps from one text-embedding model's space to another's, measure them, report them.

The entry points are the Hydra scripts of the checkout (train.py, analyze.py, migrate.py); in Python, a
trained or exported translator loads without Hydra:

    from embtrans import Translator
    translator = Translator.load("exports/minilm-to-mpnet")
"""

from __future__ import annotations

__all__ = ["Translator"]


def __getattr__(name: str):
    # Imported on first use: `import embtrans.<module>` stays as light as that module.
    if name == "Translator":
        from embtrans.translators.artefact import Translator

        return Translator
    raise AttributeError(f"module 'embtrans' has no attribute {name!r}")
