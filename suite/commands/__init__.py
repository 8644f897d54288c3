"""Host CLI verbs: one module per verb group, each with ``configure(verb, parser)``."""
