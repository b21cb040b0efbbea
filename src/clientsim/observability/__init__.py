"""Observability: clientsim's runs in the tools teams already watch.

- :mod:`clientsim.observability.otel`: OpenTelemetry spans for runs, conversations,
  turns and model calls (the ``otel`` extra: ``pip install clientsim[otel]``).

Nothing here is imported by ``import clientsim``, and nothing is exported unless it
is switched on.
"""

from __future__ import annotations


__all__: list[str] = []
