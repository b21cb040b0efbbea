"""Names that moved out of clientsim.experiments still work, with a warning."""

from __future__ import annotations

import pytest

import clientsim.experiments
from clientsim.errors import ClientSimDeprecationWarning
from clientsim.participants.supervisor import LLMSupervisor
from clientsim.render.html import write_html_report
from clientsim.runners.batch import BatchRunner, derive_seed


@pytest.mark.parametrize(
    ("name", "moved_to", "value"),
    [
        ("BatchRunner", "clientsim.runners.batch", BatchRunner),
        ("derive_seed", "clientsim.runners.batch", derive_seed),
        ("write_html_report", "clientsim.render.html", write_html_report),
        ("LLMSupervisor", "clientsim.participants.supervisor", LLMSupervisor),
    ],
)
def test_a_moved_name_warns_and_forwards(name, moved_to, value):
    with pytest.warns(ClientSimDeprecationWarning, match=rf"moved to {moved_to}"):
        assert getattr(clientsim.experiments, name) is value


def test_moved_names_are_not_advertised():
    assert "BatchRunner" not in clientsim.experiments.__all__
    assert "BatchRunner" not in dir(clientsim.experiments)
    assert "run_experiment" in clientsim.experiments.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        clientsim.experiments.Nope  # noqa: B018
