"""Make ``loader_helpers`` importable by name in this process and in DataLoader workers
(workers receive the parent's sys.path), whatever pytest's import mode."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
