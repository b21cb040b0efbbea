"""Configuration plumbing: the one cattrs converter, and reading config files.

Every value and every config file clientsim reads goes through one strict converter
(``converter()``), so every error says which key, what it got and what it
expected. A config family registers what it needs beyond the defaults per class
(:func:`register_structure_overrides`, :func:`register_unstructure_overrides`).

* :func:`to_dict`, :func:`from_dict`, :func:`to_json`, :func:`from_json`: values to
  and from plain data (also exported by :mod:`clientsim.models`).
* :func:`parse_text`, :func:`read_text`: YAML, TOML or JSON files to plain data,
  errors with the line.
* :func:`structure_file`, :func:`explain_file_error`: plain data from a file to a
  config class, every problem a line ``key.path: expected ...; got ...``.

This package imports only ``clientsim.errors`` and ``clientsim._validators`` from
clientsim; cattrs and PyYAML load on first use.
"""

from clientsim.config.converter import (
    WrongType,
    converter,
    expected_words,
    omitted_fields,
    register_structure_overrides,
    register_unstructure_overrides,
)
from clientsim.config.explain import (
    explain_file_error,
    explain_value_error,
    structure_file,
)
from clientsim.config.files import (
    CONFIG_SUFFIXES,
    MAX_VALUES,
    check_text_data,
    lone_surrogate,
    parse_text,
    read_text,
)
from clientsim.config.values import from_dict, from_json, to_dict, to_json


__all__ = [
    "CONFIG_SUFFIXES",
    "MAX_VALUES",
    "WrongType",
    "check_text_data",
    "converter",
    "expected_words",
    "explain_file_error",
    "explain_value_error",
    "from_dict",
    "from_json",
    "lone_surrogate",
    "omitted_fields",
    "parse_text",
    "read_text",
    "register_structure_overrides",
    "register_unstructure_overrides",
    "structure_file",
    "to_dict",
    "to_json",
]
