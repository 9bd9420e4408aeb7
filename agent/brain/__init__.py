"""The brain: providers, the agent loop, tools, the prompt and the local fast path."""
