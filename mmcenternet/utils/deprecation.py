# Copyright (c) mmcenternet contributors. All rights reserved.
"""Old module paths kept importable after the package was reorganised."""
import importlib
import sys
from typing import Dict

__all__ = ['alias_modules']


def alias_modules(package: str, aliases: Dict[str, str]) -> None:
    """Make ``package.<old>`` import the module ``<new>`` for each ``{old: new}`` entry.

    Used by the deprecated packages (``mmcenternet.pose``, ``mmcenternet.tta``) and module names,
    so that user code written against an earlier layout keeps working unchanged.
    """
    for old, new in aliases.items():
        sys.modules.setdefault(f'{package}.{old}', importlib.import_module(new))
