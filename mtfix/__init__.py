"""mtfix: repair synonym-spun or garbled news text back into standard wire phrasing.

    >>> from mtfix import repair
    >>> repair("Russia released a navy intervention in help of Assad.")
"""

from importlib.metadata import PackageNotFoundError, version

from .lattice import Suspicion
from .model import DEFAULT_MODEL_DIR, ModelLoadError, ModelNotFoundError, load_model
from .repairer import Repairer, repair
from .result import Edit, Repair

try:
    __version__ = version("mtfix")  # the one version number is pyproject.toml's
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_MODEL_DIR",
    "Edit",
    "ModelLoadError",
    "ModelNotFoundError",
    "Repair",
    "Repairer",
    "Suspicion",
    "load_model",
    "repair",
    "__version__",
]
