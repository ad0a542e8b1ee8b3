"""The service's routes, one module per resource: ``transfer``, ``eval`` and ``info`` (styles, health)."""
