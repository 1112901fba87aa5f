"""mtfix: repair synonym-spun or garbled news text back into standard wire phrasing.

    >>> from mtfix import repair
    >>> repair("Russia released a navy intervention in help of Assad.")
"""

from .model import DEFAULT_MODEL_DIR, ModelLoadError, ModelNotFoundError, load_model
from .repairer import Repairer, repair
from .result import Edit, Repair

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL_DIR",
    "Edit",
    "ModelLoadError",
    "ModelNotFoundError",
    "Repair",
    "Repairer",
    "load_model",
    "repair",
    "__version__",
]
