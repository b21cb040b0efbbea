"""Turn policies of the group runner: who speaks next (see :mod:`clientsim.turns.base`)."""

__all__: list[str] = []
