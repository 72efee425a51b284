# Copyright (c) mmcenternet contributors. All rights reserved.
"""The error types of mmcenternet: problems with the user's input, reported in one line.

Every tool runs its ``main`` through :func:`mmcenternet.utils.cli.run_cli`, which prints these as
``error: <message>`` (exit code 2) instead of a traceback. They sit at the bottom of the package
so that every layer can raise them.
"""

__all__ = ['UserError', 'DatasetFormatError', 'CheckpointReadError']


class UserError(RuntimeError):
    """A problem with the user's input, reported as one line without a traceback."""


class DatasetFormatError(UserError, ValueError):
    """An annotation file that cannot be used as it is (the message names the culprit)."""


class CheckpointReadError(UserError):
    """A checkpoint file exists but cannot be read (truncated, corrupt or not a torch file)."""
