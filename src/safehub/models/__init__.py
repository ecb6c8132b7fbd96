"""Model adapters: `load_model(spec)` gives a `ModelAdapter` whose `generate` returns a `Completion`."""

from safehub.models.base import Completion, GenerateConfig, Message, ModelAdapter, ModelCallError, RetryPolicy
from safehub.models.registry import ADAPTERS, adapter_class, load_model
from safehub.models.spec import ModelSpec

__all__ = ["ADAPTERS", "Completion", "GenerateConfig", "Message", "ModelAdapter", "ModelCallError",
           "ModelSpec", "RetryPolicy", "adapter_class", "load_model"]
