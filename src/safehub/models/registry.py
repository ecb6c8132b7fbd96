"""Provider name -> adapter class: a plain dict, built at import.

The dict holds each adapter's `module:Class` path rather than the class, so a run imports only the
adapters its specs name: the `openai` SDK alone costs about a second of start-up, which `local`,
`scripted`, `hub` and `show` never need.

    >>> adapter_class("scripted").__name__
    'ScriptedModel'
"""

from __future__ import annotations

from importlib import import_module

from safehub.errors import UsageError
from safehub.models.base import ModelAdapter
from safehub.models.presets import PRESETS
from safehub.models.spec import ModelSpec

_OPENAI_COMPAT = "safehub.models.openai_compat:OpenAICompatModel"
ADAPTERS: dict[str, str] = {name: _OPENAI_COMPAT for name in PRESETS}
ADAPTERS.update({"anthropic": "safehub.models.anthropic:AnthropicModel",
                 "local": "safehub.models.local:LocalModel",
                 "scripted": "safehub.models.scripted:ScriptedModel"})


def adapter_class(provider: str) -> type[ModelAdapter]:
    """Import and return the adapter for a provider; an unknown provider raises `KeyError`."""
    module_name, _, class_name = ADAPTERS[provider].partition(":")
    return getattr(import_module(module_name), class_name)


def load_model(spec: str | ModelSpec, **options) -> ModelAdapter:
    """Build the adapter for a spec; bad specs and missing keys raise `UsageError`."""
    parsed = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    if parsed.provider not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        raise UsageError(f"unknown provider {parsed.provider!r} in model spec {parsed.display!r}; known: {known}")
    return adapter_class(parsed.provider)(parsed, **options)
