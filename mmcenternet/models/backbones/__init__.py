# Copyright (c) mmcenternet contributors. All rights reserved.
from .dla import DLA

__all__ = ['DLA']
