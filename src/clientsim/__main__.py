"""``python -m clientsim``: the same as the ``clientsim`` command.

Example:
    ``python -m clientsim run my-agent/configs/simulation.yaml``
"""

from clientsim.cli import main


if __name__ == "__main__":
    main(prog_name="clientsim")
