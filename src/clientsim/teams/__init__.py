"""Team simulation (seed 001): roles, memory, the analyst, sessions and what-if, on the
group runner."""

__all__: list[str] = []
