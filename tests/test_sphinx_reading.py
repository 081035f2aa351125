"""A Sphinx page read as its built page shows it: no table of contents, a glossary, references by title."""

from __future__ import annotations

from pathlib import Path

from ingest.documents.loaders import load_document
from ingest.documents.loaders.sphinx_names import section_labels

FIXTURE = Path(__file__).parent / "fixtures" / "sphinx-engines.rst"


def test_a_sphinx_page_reads_as_built():
    doc = load_document(FIXTURE)
    got = [(b.kind, b.text) for b in doc.blocks if b.kind != "heading"]
    assert got[0] == (
        "paragraph",
        "Call `create_engine` with a URL; see Creating an engine and the pooling guide. The `QueuePool` is the "
        "default; `Engine.dispose` closes it. tutorial has more.",
    )  # a label reads as its section's title, a document as its name; role prefixes as Sphinx shows them
    assert ("paragraph", "engine — The starting point for any SQLAlchemy application.") in got  # the glossary
    assert ("paragraph", "dialect — The system SQLAlchemy uses to talk to various databases.") in got
    code = [b for b in doc.blocks if b.kind == "code"]
    assert (code[-1].text, code[-1].language) == ("SELECT 1 \nSELECT 2", "sql")  # build markers gone
    assert not any(kind == "list_item" and text == "Creating an engine" for kind, text in got)  # no contents
    assert doc.metadata["dropped"][0].startswith(".. contents::")


def test_labels_are_found_before_underlined_and_overlined_titles_only():
    text = (
        ".. _first:\n.. _also-first:\n\nFirst part\n==========\n\n"
        ".. _over:\n\n=======\n Over\n=======\n\n"
        ".. _figure-label:\n\n.. figure:: x.png\n"
    )
    assert section_labels(text) == {"first": "First part", "also-first": "First part", "over": "Over"}


def test_a_myst_page_reads_as_built():
    doc = load_document(Path(__file__).parent / "fixtures" / "myst-configuration.md")
    got = [(b.kind, b.text) for b in doc.blocks]
    assert got == [
        ("heading", "Timeouts"),
        (
            "paragraph",
            "Set the timeout with `format_str` or see Timeouts and usage. "
            "Use line length for wrapping; press `Ctrl+C` to stop.",
        ),
        ("admonition", "Note: The default is 88 characters."),
        ("code", "black.format_str(src, mode=black.Mode())"),
        ("paragraph", "line length — How many characters a line may hold."),
    ]
    assert doc.blocks[0].anchor == "config-timeouts"  # the (label)= target is the section's id
    assert doc.blocks[3].language == "python"
    assert doc.metadata["dropped"] == ["{contents}", "{include} ../README.md", "{toctree}"]


DJANGO_STYLE = """\
=====================================
Writing your first app, part 1
=====================================

Let's learn by example.

The development server
======================

Change into the outer :file:`mysite` directory and run the following command:

.. code-block:: console

    $ python manage.py runserver

Set :setting:`ALLOWED_HOSTS` when ``DEBUG`` is off::

    ALLOWED_HOSTS = ["example.com"]
"""


def test_a_sphinx_source_kept_as_txt_reads_as_restructuredtext_and_plain_text_stays_text(tmp_path):
    page = tmp_path / "tutorial01.txt"  # Django keeps its docs as .txt
    page.write_text(DJANGO_STYLE)
    doc = load_document(page)
    assert doc.metadata["title"] == "Writing your first app, part 1"
    got = [(b.kind, b.text) for b in doc.blocks if b.kind != "heading"]
    assert ("paragraph", "Change into the outer `mysite` directory and run the following command:") in got
    assert ("code", "$ python manage.py runserver") in got
    assert ("paragraph", "Set `ALLOWED_HOSTS` when `DEBUG` is off:") in got
    assert ("code", 'ALLOWED_HOSTS = ["example.com"]') in got
    assert all(b.section == ("The development server",) for b in doc.blocks[1:])
    # an article with an underlined headline, and Markdown kept as .txt, are no reStructuredText
    for text in (
        "Markets rally\n=============\n\nStocks rose on Monday.\n\nTraders cheered: the index gained 2%.\n",
        "Setup\n=====\n\nRun ``make``:\n\n```sh\nmake\n```\n",
    ):
        page.write_text(text)
        blocks = load_document(page).blocks
        assert not any(b.kind in ("code", "heading") for b in blocks)  # read as plain paragraphs
        assert any(b.text.startswith(("Stocks rose", "Run ``make``")) for b in blocks)


API_PAGE = """\
Requests and responses
======================

Request objects
---------------

.. currentmodule:: gadgets.http

.. autoclass:: gadgets.Request

    :param url: the URL of this request
    :type url: str
    :raises ValueError: if the URL is invalid

    .. attribute:: Request.meta
       :value: {}

        A dictionary of arbitrary metadata for the request.

    .. method:: Request.replace([url, method, headers])

       Return a Request object with the same members, except for those given new values.

.. autoclass:: gadgets.FormRequest

.. function:: fetch(url, *, timeout=None)

   Download ``url`` and return its response.

Requests are scheduled in the order they are yielded.
"""


def test_an_api_description_heads_its_own_content_as_on_the_built_page(tmp_path):
    page = tmp_path / "request-response.rst"
    page.write_text(API_PAGE)
    doc = load_document(page)
    got = {b.text: (b.section, b.anchor) for b in doc.blocks if b.kind != "heading"}
    # what was written under autoclass, attribute and method is read, under the object's name and its id
    assert got["`url` (str) — the URL of this request"] == (("Request objects", "gadgets.Request"), "gadgets.Request")
    assert "Raises `ValueError` — if the URL is invalid" in got  # fields as Sphinx shows them
    assert got["A dictionary of arbitrary metadata for the request."] == (
        ("Request objects", "gadgets.Request", "Request.meta"),
        "gadgets.Request.meta",
    )
    replace = "Return a Request object with the same members, except for those given new values."
    assert got[replace][0][-1] == "Request.replace()" and got[replace][1] == "gadgets.Request.replace"
    assert got["Download `url` and return its response."] == (
        ("Request objects", "fetch()"),
        "gadgets.http.fetch",
    )
    # after a description the page's own section goes on; an autoclass with nothing written is an API stub
    assert got["Requests are scheduled in the order they are yielded."][0] == ("Request objects",)
    assert ".. autoclass:: gadgets.FormRequest" in doc.metadata["dropped"]


def test_tabs_cards_grids_html_only_parts_and_code_blocks_of_sphinx_extensions_keep_their_content():
    # sphinx-design and sphinx-tabs directives were unknown to docutils, which dropped them with their content
    doc = load_document(Path(__file__).parent / "fixtures" / "sphinx-design.rst")
    got = [(b.kind, b.text, b.language) for b in doc.blocks]
    assert got == [
        ("admonition", "Windows: Run the installer and tick Add to PATH.", ""),  # a tab's label leads it in
        ("admonition", "macOS: Install with Homebrew:", ""),
        ("code", "$ brew install gadget", "console"),
        ("code", "import gadget", "python"),  # a code tab is code in its language
        ("admonition", "Linux: Use your package manager.", ""),
        ("admonition", "Quick start: Build your first gadget in five minutes.", ""),
        ("admonition", "Why is the build slow? The first build compiles the native parts.", ""),  # no "?:"
        ("list_item", "alpha", ""),
        ("list_item", "beta", ""),
        ("paragraph", "Read the online changelog.", ""),  # what the HTML build shows, not what a PDF would
        ("code", "$ python -m pip install gadget", "console"),  # Django's console block
        ("code", ">>> gadget.version()\n'2.0'", "pycon"),  # a doctest block is shown as code
    ]


def test_myst_colon_fences_are_directives_and_nest(tmp_path):
    page = tmp_path / "install.md"
    page.write_text(
        "# Install\n\n- Step one:\n\n  :::{note}\n  A note inside a list.\n\n      indented code\n  :::\n\n"
        "::::{tab-set}\n:::{tab-item} Windows\n:sync: win\nRun the installer.\n\n```console\n$ gadget --install\n```\n"
        ":::\n:::{tab-item} macOS\nUse Homebrew.\n:::\n::::\n\n"
        "::: tip\nA VitePress container is not a MyST fence.\n:::\n"
    )
    got = [(b.kind, b.text, b.language) for b in load_document(page).blocks]
    assert got[1:] == [
        ("admonition", "Note: A note inside a list.", ""),
        ("code", "indented code", ""),  # the body keeps its indentation, less the fence's
        ("admonition", "Windows: Run the installer.", ""),  # ":sync: win" is an option, never text
        ("code", "$ gadget --install", "console"),
        ("admonition", "macOS: Use Homebrew.", ""),
        ("admonition", "Tip: A VitePress container is not a MyST fence.", ""),
    ]


def test_a_myst_object_description_heads_its_content_like_an_rst_one():
    doc = load_document(Path(__file__).parent / "fixtures" / "myst-api.md")
    got = [(b.section, b.anchor, b.text) for b in doc.blocks if b.kind != "heading"]
    assert got == [
        (("Request objects", "gadgets.Request"), "gadgets.Request", "Extra words about requests."),
        (("Request objects", "gadgets.Request", "Request.meta"), "gadgets.Request.meta", "A dictionary of metadata."),
        (("Request objects", "fetch()"), "fetch", "Download `url`."),  # a colon fence too
        (("Request objects",), "", "Requests are scheduled in order."),  # the page's section goes on
    ]
    assert doc.metadata["dropped"] == ["{autoclass} gadgets.FormRequest"]  # nothing written under it: a stub


def test_celerys_app_shorthand_in_a_role_reads_as_the_name():
    from ingest.documents.loaders.sphinx_names import role_text

    assert role_text("class", "@AsyncResult") == ("AsyncResult", True)  # not "`@AsyncResult`"
    assert role_text("meth", "~@Celery.send_task") == ("send_task", True)
    assert role_text("ref", "@mentions") == ("@mentions", False)  # only API roles
