"""LLM access: OpenAI-compatible chat completions with budgets, fallbacks and structured output.

:class:`~conveyor.llm.gateway.LLMGateway` is what processors use; it routes a model to a provider
(:mod:`~conveyor.llm.config`), waits on that provider's shared budget (:mod:`~conveyor.llm.budget`),
speaks HTTP (:mod:`~conveyor.llm.client`) and gets schema-valid JSON out of any server
(:mod:`~conveyor.llm.structured`).
"""
