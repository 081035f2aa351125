"""Sphinx's object descriptions (``.. class::``, ``.. method::``, ``.. autoclass::`` with content): what heads them.

On the built page an object's description is its name (a signature) over its content, linked by an id
Sphinx derives from the module and the enclosing class. The reStructuredText reader makes each one a
section of its own (ingest/documents/loaders/rst.py); this module names it and gives its id.
"""

from __future__ import annotations

import re

#: Object descriptions (Sphinx's Python and standard domains): the object's name heads its own content, as on the
#: built page ("Request.meta", "SessionBase › flush()"). ``auto*`` ones head the content written under them, when
#: there is any; the docstring they pull from the code is not in the source.
DESCRIPTIONS = frozenset(
    {
        *(
            f"{prefix}{name}"
            for prefix in ("", "py:")
            for name in (
                "function",
                "data",
                "class",
                "exception",
                "method",
                "classmethod",
                "staticmethod",
                "attribute",
                "property",
                "decorator",
                "decoratormethod",
                "type",
            )
        ),
        *("describe", "object", "envvar", "option", "confval", "std:envvar", "std:option"),
    }
)
#: Descriptions of what is called: the heading names it with "()" as Sphinx's contents do ("flush()").
_CALLABLES = frozenset({"function", "method", "classmethod", "staticmethod", "decorator", "decoratormethod"})
#: ``auto*`` directives that head the content written under them (``automodule`` and the rest stay dropped).
AUTO_DESCRIPTIONS = ("autoclass", "autofunction", "automethod", "autoattribute", "autoexception", "autodata")


#: Descriptions of what is no Python object: headed by their signature as written, linked by their section.
_NOT_PYTHON = ("option", "describe", "object", "envvar", "confval")


def describe(directive: str, signature: str, module: str, scope: list[str]) -> tuple[str, str]:
    """The heading and id of the description ``.. <directive>:: <signature>`` (its first line), in ``module``,
    inside the descriptions whose ids ``scope`` holds: for reStructuredText and MyST alike."""
    kind = directive.removeprefix("auto").split(":")[-1]
    title = description_name((signature.splitlines() or [""])[0], kind)
    return title, python_id(title, kind, module, scope, directive.startswith("auto"))


def description_name(signature: str, kind: str) -> str:
    """The name an object's description is headed by: ``Request.replace([url, ...])`` -> "Request.replace()",
    ``-v, --verbose`` as written, ``Request.meta`` as it is."""
    signature = " ".join(signature.split())
    if kind in _NOT_PYTHON:
        return signature
    name = re.split(r"[\s(\[]", signature.removeprefix("async ").strip(), maxsplit=1)[0].rstrip(":")
    return f"{name}()" if kind in _CALLABLES and name else name


def python_id(name: str, kind: str, module: str, scope: list[str], auto: bool = False) -> str:
    """The id Sphinx gives a Python object's description, to link it by.

    ``Request.meta`` after ``.. currentmodule:: scrapy.http`` is ``scrapy.http.Request.meta``; inside its class's
    description, ``flush`` or ``SessionBase.flush`` is the class's id and ``.flush``; an ``autoclass`` names its
    object by its import path (``scrapy.Request``). Options and generic descriptions get none: their section links
    them.
    """
    if kind in _NOT_PYTHON or not name:
        return ""
    name = name.removesuffix("()")
    if scope and scope[-1]:
        parent = scope[-1]
        prefix, _, last = name.rpartition(".")
        if prefix and (parent == prefix or parent.endswith(f".{prefix}")):  # the class named again
            return f"{parent}.{last}"
        return f"{parent}.{name}"
    if auto and "." in name:
        return name
    return f"{module}.{name}" if module else name
