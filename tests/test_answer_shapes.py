"""Answer shapes a help channel accepts, on passages cut from real documentation pages.

The shapes are chosen by the question and by what the passage holds: a how-to question gets the
code with the sentence that leads into it, a fact question the decisive sentence first, a
sentence ending in ":" brings the list or code it introduces. Scoring here uses term overlap only
(no embedder), and the answerability model is set to always answer: these tests are about shape.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.answering.evidence import Evidence, ScoredCode, ScoredSentence, gather_evidence
from bot.answering.extractive import WEAK_LEAD, AnswerOptions, compose, extractive_answer
from bot.answering.question import analyse
from bot.retrieval.base import to_passage
from bot.schema import Passage
from bot.text import split_sentences
from ingest.documents.chunking import Chunker, ChunkParams
from ingest.documents.document import passage_parts
from ingest.documents.loaders import load_document
from ingest.embedding.embedder import token_counter
from ingest.index.records import ChunkMeta, StoredChunk
from tests.support import FIXTURES

ALWAYS = AnswerOptions(answer_confidence=0.0, closest_confidence=0.0)
CHUNKER = Chunker(ChunkParams(), token_counter("all-MiniLM-L6-v2"))


def passages_of(name: str, *, containing: str) -> list[Passage]:
    """The chunks of a fixture page that contain ``containing``, as retrieval would return them."""
    doc = load_document(FIXTURES / "docs" / name)
    chunks = [c for c in CHUNKER.chunk(doc, {"source": name}) if containing in c.text]
    assert chunks, f"no chunk of {name} holds {containing!r}"
    return [
        to_passage(
            StoredChunk(f"c{i}", c.text, ChunkMeta(source=name, title=doc.title, section=" › ".join(c.section))),
            score=1.0 / (i + 1),
        )
        for i, c in enumerate(chunks)
    ]


def p(text: str, source: str = "doc.md", section: str = "") -> Passage:
    return Passage(chunk_id=source, source=source, text=text, score=1.0, title="Doc", section=section)


def test_how_to_gets_the_code_after_its_lead_in():
    passages = passages_of("mkdocs-cors.md", containing="fastapi[standard]")
    result = extractive_answer(
        "how do I install fastapi with the standard extras?", passages, embed=None, options=ALWAYS
    )
    assert not result.abstained
    assert '```console\n$ pip install "fastapi[standard]"' in result.text  # the code, fenced, language kept
    assert result.text.index("[1]") < result.text.index("```")  # the cited lead-in comes first
    assert result.citations[0].passage.source == "mkdocs-cors.md"


def test_a_lead_in_ending_with_a_colon_brings_the_code_it_introduces():
    text = (
        "Create a random secret key that will be used to sign the JWT tokens.\n\n"
        "To generate a secure random secret key use the command:\n\n"
        "```console\n$ openssl rand -hex 32\n\n09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7\n```\n\n"
        "And copy the output to the variable SECRET_KEY (don't use the one in the example)."
    )
    result = extractive_answer(
        "what command generates the secret key for signing JWT tokens?", [p(text)], embed=None, options=ALWAYS
    )
    assert "openssl rand -hex 32" in result.text


def test_a_sentence_about_the_example_above_comes_after_that_example_not_before_the_next_block():
    text = (
        "The `apply_async` method takes execution options, such as the queue and the countdown:\n\n"
        "```python\nadd.apply_async((2, 2), queue='lopri', countdown=600)\n```\n\n"
        "In the above example the task is sent to the `lopri` queue and executes ten minutes after the message "
        "was sent.\n\n"
        "Calling the task directly runs it in the current process:\n\n"
        "```python\nadd(2, 2)\n```"
    )
    question = "how do I send a task to the lopri queue so that it executes ten minutes after it was sent?"
    result = extractive_answer(question, [p(text)], embed=None, options=ALWAYS)
    assert "countdown=600" in result.text and "add(2, 2)" not in result.text
    assert result.text.index("countdown=600") < result.text.index("In the above example")


def test_a_field_row_at_the_start_of_a_passage_is_quoted_not_taken_for_a_sentences_tail():
    text = "release-date — 2025-03-31\n\nrelease-by — Tomer Nosrati\n\nCelery v5.5.0 is now available."
    result = extractive_answer(
        "when did celery 5.5.0 come out?", [p(text, "changelog.rst", "5.5.0")], embed=None, options=ALWAYS
    )
    assert "2025-03-31" in result.text


def test_a_list_items_second_sentence_brings_its_first_without_a_second_bullet():
    text = (
        "With pnpm, the dependency will be stored in a content-addressable store, so:\n\n"
        "- If you depend on different versions of the dependency, only the files that differ are added to the "
        "store. For instance, if it has 100 files and a new version changes one of them, `pnpm update` adds 1 new "
        "file to the store.\n\n"
        "- All the files are saved in a single place on the disk."
    )
    question = "how many new files does pnpm update add to the store when a new version changes one file?"
    result = extractive_answer(question, [p(text, "motivation.md")], embed=None, options=ALWAYS)
    assert "\n- If you depend on different versions" in result.text
    assert "- -" not in result.text


def test_a_settings_row_answers_with_its_setting():
    passages = passages_of("sphinx-settings.html", containing="Workers silent")
    result = extractive_answer("what is the default timeout of gunicorn workers?", passages, embed=None, options=ALWAYS)
    assert "timeout — Default: `30` [1]" in result.text


def test_the_decisive_short_sentence_comes_with_its_context():
    text = (
        "There used to be an official FastAPI Docker image: tiangolo/uvicorn-gunicorn-fastapi. "
        "But it is now deprecated. You should probably not use this base Docker image (or any other similar one).\n\n"
        "Docker images are built from a Dockerfile that lists the steps."
    )
    result = extractive_answer(
        "should I use the official FastAPI Docker image?",
        [p(text, section="Deprecated image")],
        embed=None,
        options=ALWAYS,
    )
    assert "There used to be an official FastAPI Docker image" in result.text
    assert "But it is now deprecated." in result.text
    assert result.text.index("official FastAPI Docker image") < result.text.index("deprecated")


def test_a_lead_in_brings_the_list_it_introduces():
    text = (
        "Pydantic has the following optional dependencies:\n\n"
        "- `email`: Email validation provided by the email-validator package.\n\n"
        "- `timezone`: Fallback IANA time zone database provided by the tzdata package.\n\n"
        "Installing them is optional."
    )
    result = extractive_answer("which optional dependencies does pydantic have?", [p(text)], embed=None, options=ALWAYS)
    assert "Pydantic has the following optional dependencies: [1]" in result.text
    assert "- `email`: Email validation" in result.text and "- `timezone`: Fallback" in result.text


def test_the_decisive_sentence_comes_first_and_the_answer_fits_a_message():
    filler = " ".join(f"Sentence {i} talks about release engineering in general terms." for i in range(60))
    text = f"{filler}\n\nPydantic V2.0 was released on 2023-06-30 after a long beta.\n\nThe beta took months."
    result = extractive_answer(
        "when was pydantic v2.0 released?", [p(text, source="HISTORY.md")], embed=None, options=ALWAYS
    )
    assert result.text.startswith("Pydantic V2.0 was released on 2023-06-30")
    assert len(result.text) <= 1900


def test_a_huge_code_block_is_cut_between_lines_and_closed():
    code = "\n".join(f"settings_{i} = load('config-{i}.toml')  # keep this line whole" for i in range(200))
    text = f"Load every configuration file like this:\n\n```python\n{code}\n```"
    result = extractive_answer("how do I load every configuration file?", [p(text)], embed=None, options=ALWAYS)
    assert len(result.text) <= 1900
    assert result.text.rstrip().endswith("```") and result.text.count("```") == 2
    assert "# …" in result.text  # says it was cut
    for line in result.text.split("\n"):
        if line.startswith("settings_"):
            assert line.endswith("# keep this line whole")


def test_a_question_in_a_document_is_not_an_answer():
    text = "When will BlackBerry stop operating in Pakistan? The shutdown takes effect on December 30, 2015."
    result = extractive_answer(
        "When will BlackBerry stop operating in Pakistan?", [p(text)], embed=None, options=ALWAYS
    )
    assert result.text.startswith("The shutdown takes effect on December 30, 2015.")


def test_a_description_under_an_option_heading_is_named_by_the_option():
    text = (
        "Added in: v10.14.0\n\nOverride CPU architecture of native modules to install. "
        "Acceptable values are same as cpu field of package.json, which comes from process.arch."
    )
    result = extractive_answer(
        "can i install native modules built for a different cpu architecture than my machine?",
        [p(text, section="Options › --cpu=<name>")],
        embed=None,
        options=ALWAYS,
    )
    assert "`--cpu=<name>` — Override CPU architecture of native modules to install." in result.text
    plain = extractive_answer(
        "how do i install native modules for a different cpu architecture?",
        [p(text, section="Installing native modules")],
        embed=None,
        options=ALWAYS,
    )
    assert plain.text.startswith("Override CPU architecture")  # a heading that is prose names nothing


def test_a_settings_name_leads_its_sections_quotes_once():
    text = (
        "How many messages to prefetch at a time multiplied by the number of concurrent processes. "
        "The default is 4 (four messages for each process). "
        "To disable prefetching, set it to 1."
    )
    result = extractive_answer(
        "how many messages does each worker process prefetch, and how do I disable prefetching of messages?",
        [p(text, section="Worker › `worker_prefetch_multiplier`")],
        embed=None,
        options=ALWAYS,
    )
    assert result.text.startswith("`worker_prefetch_multiplier` — How many messages to prefetch")
    assert result.text.count("worker_prefetch_multiplier") == 1  # not "`worker_prefetch_multiplier` — " each time
    assert "The default is 4" in result.text or "To disable prefetching" in result.text


def test_a_release_note_is_named_by_its_release():
    notes = (
        "- Fixed AttributeError: list object has no attribute strip with quorum queues and failover brokers (#9657)\n"
        "- Documentation: added a note on prefetch limits (#9660)"
    )
    result = extractive_answer(
        "with quorum queues and failover brokers I get AttributeError list has no attribute strip, which release "
        "fixed it?",
        [p(notes, source="history/changelog-5.5.rst", section="5.5.1 › What's Changed")],
        embed=None,
        options=ALWAYS,
    )
    assert result.text.startswith("5.5.1 — Fixed AttributeError")
    notes_page = p(notes, source="history/changelog-5.5.rst", section="5.5.1 › What's Changed")
    first, second = (split_sentences(line[2:])[0] for line in notes.splitlines())
    shift = len(notes.splitlines()[0]) + 1 + 2
    scored = [
        ScoredSentence(0, replace(first, start=first.start + 2, end=first.end + 2), similarity=0.9, overlap=0.6),
        ScoredSentence(0, replace(second, start=second.start + shift, end=second.end + shift), 0.85, 0.5),
    ]
    twice = compose(Evidence(analyse("what changed in 5.5.1?"), [notes_page], scored), ALWAYS)
    assert "prefetch limits" in twice.text
    assert twice.text.count("5.5.1 —") <= 1  # the release is named once for its section's quotes
    dated = extractive_answer(
        "when did the release that dropped Python 3.7 come out?",
        [p("Dropped support for Python 3.7.", source="changelog.md", section="Changelog › v2.6.0 (2024-01-23)")],
        embed=None,
        options=ALWAYS,
    )
    assert dated.text.startswith("v2.6.0 (2024-01-23) — Dropped support for Python 3.7.")
    news = extractive_answer(
        "how much did sales fall?",
        [p("Sales fell by a third.", source="news-2024.txt", section="Results › 3.5 billion in sales lost")],
        embed=None,
        options=ALWAYS,
    )
    assert news.text.startswith("Sales fell by a third.")  # a figure in a news heading is no release


def test_a_release_note_does_not_pad_an_answer_from_the_docs():
    docs = "To install pydantic with email validation support, add its email extra: pydantic[email]."
    notes = "- Fix pip install of pydantic with the email extra on Windows, #7673 by @dev"
    passages = [p(docs, source="install.md"), p(notes, source="HISTORY.md", section="v1.10.13 (2023-09-27)")]
    how = "how do I install pydantic with email validation support using pip?"
    scored = gather_evidence(how, passages, None).sentences
    assert [s.note for s in scored] == [False, True]  # a how-to: the changelog line is a release note ...
    assert not any(s.note for s in gather_evidence(f"{how} what changed in v1.10.13?", passages, None).sentences)
    # ... which does not come after the docs' sentence, however well it scores (it names "pip", the docs do not)
    strong = [replace(s, similarity=0.9, overlap=0.6) for s in scored]
    result = compose(Evidence(analyse(how), passages, strong), ALWAYS)
    assert "pydantic[email]" in result.text
    assert "#7673" not in result.text and [c.passage.source for c in result.citations] == ["install.md"]
    changed = compose(Evidence(analyse(how), passages, [replace(s, note=False) for s in strong]), ALWAYS)
    assert "#7673" in changed.text  # not a release note (asked what changed): it supports the answer


def test_a_two_part_question_gets_the_sentence_for_its_second_part_before_more_of_the_first():
    news = (
        "This release introduces the initial support for Python 3.13 with Celery. "
        "The test matrix now runs every pull request on Linux and macOS, and the wheels were rebuilt."
    )
    support = "Celery now requires Python 3.8 and above."
    passages = [p(news, source="whatsnew-5.5.rst"), p(support, source="whatsnew-5.3.rst")]
    first, matrix = split_sentences(news)
    scored = [
        ScoredSentence(0, first, similarity=0.9, overlap=0.6),
        ScoredSentence(0, matrix, similarity=0.8, overlap=0.3),  # its neighbour: nothing the question asks
        ScoredSentence(1, split_sentences(support)[0], similarity=0.75, overlap=0.3),
    ]
    question = "does celery 5.5 support python 3.13, and what's the oldest python version it still requires?"
    evidence = Evidence(analyse(question), passages, scored)
    result = compose(evidence, replace(ALWAYS, room_chars=len(news) - 10))
    assert "initial support for Python 3.13" in result.text
    assert "Python 3.8 and above" in result.text  # "oldest ... requires" answered, not crowded out by the matrix
    assert "test matrix" not in result.text


def test_a_sentence_under_an_option_heading_is_found_by_the_option_it_describes():
    add = p(
        "Naming a package manager records which one the project uses instead of installing the npm package.",
        source="cli/add.md",
        section="pnpm add <pkg> › Adding a package manager",
    )
    exact = p(
        "Saved dependencies will be configured with an exact version rather than using the default semver range.",
        source="cli/add.md",
        section="pnpm add <pkg> › Options › --save-exact, -E",
    )
    result = extractive_answer("what does the --save-exact flag do?", [add, exact], embed=None, options=ALWAYS)
    assert result.text.startswith("`--save-exact, -E` — Saved dependencies will be configured with an exact version")


def test_a_how_to_answer_names_the_api_from_the_codes_page_before_the_code_but_nothing_from_another_page():
    page = (
        "Proxies are read from the HTTP_PROXY and HTTPS_PROXY environment variables by default. "
        "Pass `trust_env=False` to the client to ignore them.\n\n"
        "To route requests through a proxy of your own, pass it to the client:\n\n"
        '```python\nclient = httpx.Client(proxy="http://localhost:8030")\n```'
    )
    other = "Requests reads the same variables; set `session.trust_env` to turn that off."
    passages = [p(page, source="advanced/proxies.md"), p(other, source="requests/advanced.rst")]
    sentences = split_sentences(page)
    lead = ScoredSentence(0, sentences[2], similarity=0.6, overlap=0.3)
    scored = [
        ScoredSentence(0, sentences[0], similarity=0.8, overlap=0.5),
        ScoredSentence(1, split_sentences(other)[0], similarity=0.75, overlap=0.5),
        ScoredSentence(0, sentences[1], similarity=0.7, overlap=0.4),
        lead,
    ]
    code = next(part for part in passage_parts(page) if part.kind == "code")
    evidence = Evidence(analyse("how do I make httpx ignore the proxy env vars?"), passages, scored)
    evidence.code = [ScoredCode(0, code, lead, lead.score)]
    result = compose(evidence, ALWAYS)
    shown = re.sub(r" \[\d\]", "", result.text)
    assert shown.startswith("Proxies are read from the HTTP_PROXY and HTTPS_PROXY environment variables by default.")
    assert "Pass `trust_env=False` to the client to ignore them." in shown  # the second best, from the code's page
    assert "Requests" not in shown  # another project's page says nothing before this page's code
    assert shown.index("trust_env=False") < shown.index("```python")


def test_the_section_whose_headings_name_the_question_answers_it():
    overview = p("The site works without a network connection too.", section="Overview")
    offline = p(
        "Set cache to true in the config file and pages load from disk.", section="Configuration › Offline mode"
    )
    result = extractive_answer("how do I turn on offline mode?", [overview, offline], embed=None, options=ALWAYS)
    assert result.text.startswith("Set cache to true in the config file")


def test_a_sentence_that_leans_back_comes_after_the_one_it_answers():
    text = (
        "The worker's default pool runs tasks in child processes. "
        "However, on Windows only the solo pool works reliably, so start the worker with --pool=solo there.\n\n"
        "Queues are declared when the worker starts."
    )
    result = extractive_answer(
        "which pool should the worker use on Windows?", [p(text, section="Pools")], embed=None, options=ALWAYS
    )
    shown = re.sub(r" \[\d\]", "", result.text)
    assert shown.startswith("The worker's default pool runs tasks in child processes. However, on Windows")
    assert "The worker's default pool" in result.citations[0].quote  # what is shown is what is quoted
    alone = "Pools differ.\n\nHowever, on Windows only the solo pool works reliably, so use --pool=solo there."
    result = extractive_answer("which pool should the worker use on Windows?", [p(alone)], embed=None, options=ALWAYS)
    assert result.text.startswith("However, on Windows")  # nothing before it in its paragraph to bring


def test_a_sentence_comes_with_the_one_before_it_names_and_the_one_after_that_goes_on_about_it():
    text = (
        "Sometimes you may want to serve certain files with the original filename. "
        "Examples of such files include `robots.txt`, favicons, and PWA icons.\n\n"
        "You can place these files in the `public` directory under the source directory.\n\n"
        "Assets placed in `public` will be copied to the root of the output directory as-is."
    )
    result = extractive_answer(
        "where do robots.txt and favicons go?", [p(text, section="The Public Directory")], embed=None, options=ALWAYS
    )
    shown = re.sub(r" \[\d\]", "", result.text)
    assert shown.startswith(
        "Sometimes you may want to serve certain files with the original filename. Examples of such files include "
        "`robots.txt`, favicons, and PWA icons. You can place these files in the `public` directory"
    )
    assert "You can place these files" in result.citations[0].quote  # what is shown is what is quoted
    plain = (
        "Examples of files that many sites serve from their root include `robots.txt`, favicons and icons.\n\n"
        "Assets placed in `public` are copied as-is."
    )
    result = extractive_answer("where do robots.txt and favicons go?", [p(plain)], embed=None, options=ALWAYS)
    assert "Assets placed" not in result.text  # a next paragraph that does not go on about it stays out


def test_a_sentence_whose_pronoun_names_nothing_alone_comes_after_the_one_it_refers_to():
    text = (
        "Don't enable options like Auto Minify for HTML code. It will remove comments from output which have "
        "meaning to Vue. You may see hydration mismatch errors if they get removed."
    )
    result = extractive_answer(
        "why do I get hydration mismatch errors?", [p(text, section="Deploying")], embed=None, options=ALWAYS
    )
    shown = re.sub(r" \[\d\]", "", result.text)
    assert "It will remove comments from output which have meaning to Vue. You may see hydration" in shown


def test_a_list_item_quoted_alone_reads_as_prose_not_as_a_stray_bullet():
    text = (
        "Redirects are followed for GET requests.\n\n"
        "- HEAD requests don't follow redirects anymore.\n\n"
        "- Timeouts now apply to each request separately."
    )
    result = extractive_answer("do HEAD requests follow redirects?", [p(text)], embed=None, options=ALWAYS)
    assert "HEAD requests don't follow redirects anymore." in result.text
    assert "- " not in result.text and not result.text.startswith("-")


def test_sentences_of_one_passage_keep_the_documents_order():
    text = (
        "Celery workers prefetch tasks from the broker to keep busy. "
        "The prefetch limit of celery workers is the worker_prefetch_multiplier setting, default 4."
    )
    result = extractive_answer(
        "what is the default prefetch multiplier of celery workers?", [p(text)], embed=None, options=ALWAYS
    )
    assert "worker_prefetch_multiplier" in result.text
    if "keep busy" in result.text:
        assert result.text.index("keep busy") < result.text.index("worker_prefetch_multiplier")


def test_a_weak_reply_links_the_closest_pages_and_cites_nothing():
    first = Passage(
        chunk_id="a",
        source="guide/proxies.md",
        text="Set HTTPS_PROXY before running the installer. The installer reads it on start.",
        score=0.9,
        title="Proxies",
        section="Corporate networks",
        url="https://docs.example.org/guide/proxies#corporate-networks",
    )
    second = p("The installer downloads packages from the registry.", source="guide/install.md", section="Install")
    weak = AnswerOptions(answer_confidence=1.0, closest_confidence=0.0)
    result = extractive_answer("does the installer work behind a proxy?", [first, second], embed=None, options=weak)
    assert result.abstained and result.citations == []
    assert "[1]" not in result.text and "[2]" not in result.text
    lines = result.text.split("\n")
    assert lines[0] == WEAK_LEAD
    assert "- Proxies › Corporate networks (https://docs.example.org/guide/proxies#corporate-networks)" in lines
    assert "- Doc › Install (guide/install.md § Install)" in lines


def test_a_why_answer_brings_the_reason_that_follows_the_restated_fact():
    text = (
        "Unlike `requests`, HTTPX does not follow redirects by default.\n\n"
        "We differ in behaviour here because auto-redirects can easily mask unnecessary network calls being made.\n\n"
        "You can still enable redirect following explicitly:\n\n```python\nclient.get(url, follow_redirects=True)\n```"
    )
    result = extractive_answer(
        "why doesn't httpx follow redirects by default like requests does?",
        [p(text, source="compatibility.md", section="Redirects")],
        embed=None,
        options=ALWAYS,
    )
    assert "does not follow redirects by default" in result.text
    assert "mask unnecessary network calls" in result.text  # the reason, though it shares no word with the question


def test_a_stop_inside_parentheses_does_not_cut_the_sentence_it_answers_with():
    text = (
        "The Zhengde Emperor (r. 1505–1521), who enjoyed the company of lamas at court despite protests from the "
        "censorate, had heard tales of a living Buddha. He sent an envoy to Tibet."
    )
    assert [s.text[:24] for s in split_sentences(text)] == ["The Zhengde Emperor (r. ", "He sent an envoy to Tibe"]
    result = extractive_answer("whose company did the Zhengde Emperor enjoy?", [p(text)], embed=None, options=ALWAYS)
    assert "(r. 1505–1521), who enjoyed the company of lamas" in result.text
    # a bracket that never closes nearby ends nothing early, and stops nothing
    assert len(split_sentences("A note (unclosed. Then more text here. And more.")) == 3


def test_a_help_channel_questions_filler_picks_no_sentence():
    # "what's going on?" names nothing the answer must hold; "going" must not favour the sentence that uses it
    deploy = p("If your site is going to be served at a sub-path, set the `base` option in the config.", "deploy.md")
    install = p(
        "VitePress is an ESM-only package. Don't use `require()` to import it; "
        'make sure your nearest `package.json` contains `"type": "module"`.',
        "install.md",
    )
    result = extractive_answer(
        "my config does require('vitepress') and it blows up, what's going on?",
        [deploy, install],
        embed=None,
        options=ALWAYS,
    )
    assert result.text.startswith("VitePress is an ESM-only package.") or result.text.startswith("Don't use")


def test_a_sentence_brought_along_as_context_is_not_quoted_twice():
    # the short "Refer to ..." follows the first quote; "Also, ..." leans back on it, and it is there already
    text = (
        "VitePress is an ESM-only package. Don't use `require()` to import it, and make sure your nearest "
        '`package.json` contains `"type": "module"`. Refer to the troubleshooting guide for more details. '
        "Also, inside async CJS contexts, you can use `await import('vitepress')` instead."
    )
    result = extractive_answer(
        "my config does require('vitepress') and it blows up, what's going on?",
        [p(text, "getting-started.md", "Prerequisites")],
        embed=None,
        options=ALWAYS,
    )
    assert "Also, inside async CJS contexts" in result.text
    assert result.text.count("Refer to the troubleshooting guide") == 1


def test_an_admonition_is_quoted_without_its_sections_name_but_a_settings_row_keeps_it():
    note = p("Note: VitePress is an ESM-only package. Don't use `require()` to import it.", "start.md", "Prerequisites")
    result = extractive_answer("is vitepress an ESM-only package?", [note], embed=None, options=ALWAYS)
    assert "Note: VitePress is an ESM-only package." in result.text
    assert "Prerequisites —" not in result.text
    row = p("Default: `30`", "settings.md", "Settings › timeout")
    result = extractive_answer("what is the default timeout?", [row], embed=None, options=ALWAYS)
    assert "timeout — Default: `30`" in result.text
    # a row keyed by its own name needs no other: no "TL;DR — `pnpm add -D sax` — Meaning: ..."
    named = p("`pnpm add -D sax` — Meaning: Save to `devDependencies`", "cli/add.md", "TL;DR")
    result = extractive_answer("how do I save sax to devDependencies?", [named], embed=None, options=ALWAYS)
    assert result.text.startswith("`pnpm add -D sax` — Meaning: Save to `devDependencies`")


def test_an_options_default_in_parentheses_stays_with_its_option():
    # a CLI's option list as a PDF manual prints it: each option's default after its description's stop
    text = (
        "redumis [--help] FILE [--seed=<int>] [--time_limit=<double>] [--output=<string>] Options:\n\n"
        "--seed=<int> Seed to use for the PRNG.\n\n"
        "--time_limit=<double> Time limit. (Default: 1000s)\n\n"
        "--output=<string> Path to output file."
    )
    assert "--time_limit=<double> Time limit. (Default: 1000s)" in [s.text for s in split_sentences(text)]
    result = extractive_answer(
        "redumis: what's the time limit if I don't pass --time_limit?", [p(text)], embed=None, options=ALWAYS
    )
    assert "(Default: 1000s)" in result.text
    # an aside that is a sentence of its own in running prose still stands alone
    assert len(split_sentences("He left. (He came back later.) Then he sat down.")) == 3


def test_an_abbreviation_before_a_number_or_in_a_case_name_ends_no_sentence():
    text = (
        "Israel stopped deliveries to Gaza on Oct. 10, 2023, and is preparing an invasion. "
        "He wrote the Ballade No. 2, Op. 38 that winter. Cue testified in US v. Google, the antitrust trial. "
        "We met in Oct. It was cold."
    )
    assert [s.text for s in split_sentences(text)] == [
        "Israel stopped deliveries to Gaza on Oct. 10, 2023, and is preparing an invasion.",
        "He wrote the Ballade No. 2, Op. 38 that winter.",
        "Cue testified in US v. Google, the antitrust trial.",
        "We met in Oct.",  # a month that ends its sentence still ends it
        "It was cold.",
    ]
