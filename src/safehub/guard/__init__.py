"""The guard: an OpenAI-compatible gateway that screens requests and answers in front of any model."""
