"""Answerability by subject: what a question names, and whether the passages explain it or only mention it.

The passages are cut from the kinds of page a help channel's docs hold (a changelog, a page of
integrations, a settings reference); term rarity and chunk counts come from a small index of
those same texts, as the keyword index would give them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from bot.answering.evidence import SentenceWeights, gather_evidence
from bot.answering.extractive import NOT_FOUND, AnswerOptions, extractive_answer
from bot.answering.focus import assess_focus, focus_terms, is_release_notes
from bot.answering.names import unseen_names
from bot.answering.subject import with_subject_sections
from bot.schema import Passage
from bot.text import content_terms

ALWAYS = AnswerOptions(answer_confidence=0.0, closest_confidence=0.0)

CHANGELOG = (
    "- Added a note on scrapy-playwright to the dynamic content page. (#6620)\n\n"
    "- Fixed `DOWNLOAD_TIMEOUT` being ignored by the HTTP/2 handler. (#6588)"
)
WAITING = (
    "Some pages load their content with JavaScript after the first response. To wait for an element, "
    "use a headless browser and poll the page until the element is present.\n\n"
    "If you need the rendered page, render it in a browser before parsing it; the response then holds the "
    "final HTML."
)
INTEGRATIONS = (
    "Editors with Black support:\n\n- emacs-python-black\n\n- vim-black, the official plugin\n\n- Sublime Text"
)
PLAYWRIGHT_PAGE = (
    "scrapy-playwright renders pages in a real browser. Enable scrapy-playwright by adding its download "
    "handler to DOWNLOAD_HANDLERS, then set `playwright_page_methods` in the request meta to wait for a selector."
)
#: The rest of a small docs folder: what makes the project's own name common.
FILLER = [f"Scrapy spider number {i} crawls pages and parses responses with selectors." for i in range(40)]


def page(text: str, source: str = "topics/dynamic-content.rst", section: str = "Waiting for elements") -> Passage:
    return Passage(chunk_id=f"{source}#{section}", source=source, text=text, score=1.0, title="Docs", section=section)


def index_of(texts: Sequence[str]):
    """Rarity (IDF) and chunk counts over ``texts``, the way the keyword index reports them."""
    docs = [set(content_terms(t)) for t in texts]

    def counts(terms: Sequence[str]) -> dict[str, int]:
        return {t: n for t in terms if (n := sum(t in d for d in docs))}

    def rarity(terms: Sequence[str]) -> dict[str, float]:
        return {t: math.log(1 + len(docs) / n) for t, n in counts(terms).items()}

    return rarity, counts


def test_focus_is_what_the_question_names_not_words_every_page_uses_nor_words_the_index_lacks():
    rarity, _ = index_of([CHANGELOG, WAITING, INTEGRATIONS, PLAYWRIGHT_PAGE, *FILLER])
    names = [f.text for f in focus_terms("Using scrapy-playwright with Scrapy: how do I wait for a selector?", rarity)]
    assert names == ["scrapy-playwright"]  # "Using" starts the sentence; "Scrapy" is in most chunks
    assert focus_terms("my Flask form rejects the address", rarity) == []  # never indexed: left to "unseen"
    names = [f.text for f in focus_terms("Which DOWNLOAD_TIMEOUT applies to HTTP/2?", rarity)]
    assert "DOWNLOAD_TIMEOUT" in names and not any(n.startswith("Which") for n in names)


@pytest.mark.parametrize(
    ("source", "section", "notes"),
    [
        (
            "guide/user_guide.pdf",
            "KaMIS v2.0 – Karlsruhe Maximum Independent Sets › 4 User Interface › 4.1 ReduMIS",
            False,
        ),
        ("manual.pdf", "2 Installation › 2.3 Building from source", False),
        ("docs/versions.md", "Python 3.13 support", False),
        ("docs/upgrading.md", "Scrapy 2.13.0 (2025-05-08)", True),
        ("docs/index.md", "5.5.1 › What's Changed", True),
        ("HISTORY.rst", "Usage", True),
    ],
)
def test_release_notes_are_told_by_their_file_or_a_release_heading_not_by_any_number(source, section, notes):
    assert is_release_notes(page("Some text.", source, section)) is notes


def test_one_covered_name_of_two_offered_as_alternatives_is_enough():
    rdb = (
        "`celery.contrib.rdb` is an extended version of `pdb` that enables remote debugging. "
        "Call `set_trace` in your task to set a break-point at the current location. The `set_trace` call opens "
        "a socket you can telnet into."
    )
    notes = "- Fixed a crash when a task called breakpoint() in the solo pool."
    passages = [page(rdb, "userguide/debugging.rst", "Debugging tasks remotely"), page(notes, "changelog.rst", "5.3")]
    rarity, counts = index_of([rdb, notes, *FILLER])
    for question, declined in [
        ("I put a breakpoint()/pdb.set_trace() in my task and never get a prompt. how do I debug it?", False),
        ("I put a breakpoint() in my task and never get a prompt. how do I debug it?", True),
    ]:
        report = assess_focus(question, passages, rarity, counts=counts)
        assert (report.mentioned > 0) is declined, question


def test_a_focus_only_in_a_changelog_line_is_a_mention_cited_as_such():
    rarity, counts = index_of([CHANGELOG, WAITING, INTEGRATIONS, *FILLER])
    passages = [page(WAITING), page(CHANGELOG, "news.rst", "Scrapy 2.13.0 (2025-05-08)")]
    assert is_release_notes(passages[1]) and not is_release_notes(passages[0])
    question = "using scrapy-playwright: how do I make it wait until a css selector has shown up?"
    report = assess_focus(question, passages, rarity, counts=counts)
    assert report.mentioned == 1.0 and report.mentions[0].place == "release notes"
    assert report.barely_documented(2)
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained  # not the nearest sentences about waiting
    assert result.text.startswith("The documents don't cover scrapy-playwright; they mention it only in the release")
    assert result.citations == [] and "[1]" not in result.text  # a decline cites nothing: it claims nothing
    where = result.text.split("\n")[1]
    assert where.startswith("- ") and "news.rst" in where and "scrapy-playwright" in where  # the page, the mention


def test_an_entry_of_a_link_list_is_a_mention_not_an_explanation():
    rarity, counts = index_of([INTEGRATIONS, WAITING, *FILLER])
    passages = [page(INTEGRATIONS, "integrations/editors.md", "Emacs")]
    question = "I use emacs-python-black. how do I format on save only in some projects?"
    report = assess_focus(question, passages, rarity, counts=counts)
    assert report.mentions and report.mentions[0].place == "a list"
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and "only in a list:" in result.text and "integrations/editors.md" in result.text


def test_a_quoted_mention_covers_its_subject_only_if_it_speaks_to_the_question_proper():
    bundles = (
        "`gadgets[redis]` — for using Redis as a message transport.\n\n"
        "`gadgets[slmq]` — for using the SoftLayer message queue transport (experimental)."
    )
    rarity, counts = index_of([bundles, WAITING, *FILLER])
    passages = [page(bundles, "getting-started/introduction.rst", "Bundles")]
    quoted = ["`gadgets[slmq]` — for using the SoftLayer message queue transport (experimental)."]
    # the setting names the transport, the question proper asks what the entry never says
    question = "trying the SoftLayer message queue transport — which credentials does it need in the broker url?"
    report = assess_focus(question, passages, rarity, quoted, counts)
    assert [m.term for m in report.mentions] == ["SoftLayer"] and report.mentioned == 1.0
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and "they mention it only in passing" in result.text
    # the same entry answers a question proper that it speaks to, and one that asks only about the name
    for question in (
        "we run rabbitmq today. which transport does the SoftLayer bundle add?",
        "is there a SoftLayer message queue bundle?",
    ):
        assert not assess_focus(question, passages, rarity, quoted, counts).mentions


def test_a_section_that_only_links_elsewhere_names_its_subject_without_covering_it():
    link = "You can deploy your project with Stormkit by following these instructions."
    rarity, counts = index_of([link, WAITING, *FILLER])
    passages = [page(link, "guide/deploy.md", "Platform Guides › Stormkit")]
    question = "deploying to Stormkit: which build command and output directory do I enter?"
    report = assess_focus(question, passages, rarity, counts=counts)
    assert report.mentions and report.mentions[0].place == "a link"
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and "only with a link elsewhere:" in result.text
    # a heading over a real explanation, however short, covers it
    explained = [
        page("Set the output directory to `dist` in the Stormkit app settings.", "guide/deploy.md", "Stormkit")
    ]
    assert not assess_focus(question, explained, rarity, counts=counts).mentions


def test_a_page_that_explains_the_focus_is_answered():
    rarity, counts = index_of([CHANGELOG, WAITING, PLAYWRIGHT_PAGE, PLAYWRIGHT_PAGE, *FILLER])
    passages = [page(PLAYWRIGHT_PAGE, "topics/playwright.rst", "Waiting for a selector"), page(WAITING)]
    question = "using scrapy-playwright: how do I wait until a css selector has shown up?"
    assert assess_focus(question, passages, rarity, counts=counts).mentioned == 0.0  # two sentences name it
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert not result.abstained and "playwright_page_methods" in result.text


def test_a_question_about_what_changed_is_answered_from_the_changelog():
    rarity, counts = index_of([CHANGELOG, WAITING, *FILLER])
    passages = [page(CHANGELOG, "news.rst", "Scrapy 2.13.0 (2025-05-08)")]
    question = "since which version is DOWNLOAD_TIMEOUT honoured by the HTTP/2 handler?"
    assert not assess_focus(question, passages, rarity, counts=counts).barely_documented(2)
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert not result.abstained and result.text != NOT_FOUND


def test_the_sentence_naming_the_api_beats_the_one_announcing_the_section():
    text = (
        "In this section you will see how to validate a field before or after pydantic's own validation runs. "
        "To validate before pydantic does, decorate a classmethod with `@field_validator('name', mode='before')`."
    )
    question = "how do I validate a field before pydantic's own validation runs?"
    plain = SentenceWeights(release_notes=0.0, navigation=0.0, names_api=0.0)
    best = gather_evidence(
        question, [page(text, "concepts/validators.md", "Field validators")], None, weights=plain
    ).best
    assert best is not None and best.sentence.text.startswith("In this section")  # overlap alone prefers it
    weights = AnswerOptions().weights
    assert weights.navigation > 0 and weights.names_api > 0
    best = gather_evidence(
        question, [page(text, "concepts/validators.md", "Field validators")], None, weights=weights
    ).best
    assert best is not None and "field_validator" in best.sentence.text


def test_a_changelog_line_gives_way_to_the_reference_unless_the_question_asks_what_changed():
    reference = page(
        "The amount of time (in seconds) that the downloader will wait before timing out. "
        "Set `DOWNLOAD_TIMEOUT` in your settings, or the `download_timeout` spider attribute.",
        "topics/settings.rst",
        "DOWNLOAD_TIMEOUT",
    )
    notes = page(
        "- The download timeout can now be set per request with the download_timeout meta key. (#1234)",
        "news.rst",
        "Scrapy 1.0.0 (2015-06-19)",
    )
    weights = SentenceWeights(release_notes=0.2)
    question = "how do I set the download timeout for a slow site?"
    best = gather_evidence(question, [notes, reference], None, weights=weights).best
    assert best is not None and best.passage_rank == 1  # the reference page, not the changelog line
    best = gather_evidence(
        "when did the download timeout become settable per request?", [notes, reference], None, weights=weights
    ).best
    assert best is not None and best.passage_rank == 0


def test_a_well_documented_name_is_never_called_uncovered_because_these_passages_only_mention_it():
    # scrapy-playwright is explained on three pages of the index; the passages found hold only its changelog line.
    rarity, counts = index_of([CHANGELOG, WAITING, *[PLAYWRIGHT_PAGE] * 3, *FILLER, *FILLER])  # 4 of 85 chunks
    passages = [page(WAITING), page(CHANGELOG, "news.rst", "Scrapy 2.13.0 (2025-05-08)")]
    question = "using scrapy-playwright: how do I make it wait until a css selector has shown up?"
    assert assess_focus(question, passages, rarity, counts=counts).mentioned == 1.0
    own = page(PLAYWRIGHT_PAGE, "topics/playwright.rst", "Using scrapy-playwright")
    passages = with_subject_sections(question, passages, lambda name, n: [own], rarity, counts)  # as answer() does
    assert assess_focus(question, passages, rarity, counts=counts).mentioned == 0.0
    never = AnswerOptions(answer_confidence=1.0, closest_confidence=0.0)  # the evidence model declines
    result = extractive_answer(question, passages, embed=None, options=never, rarity=rarity, counts=counts)
    assert result.abstained and "don't cover" not in result.text


def test_a_subject_the_passages_miss_is_looked_up_in_its_own_section_before_declining():
    rarity, counts = index_of([CHANGELOG, WAITING, PLAYWRIGHT_PAGE, *FILLER])
    question = "using scrapy-playwright: how do I wait until a css selector has shown up?"
    retrieved = [page(WAITING), page(CHANGELOG, "news.rst", "Scrapy 2.13.0 (2025-05-08)")]
    own = page(PLAYWRIGHT_PAGE, "topics/playwright.rst", "Using scrapy-playwright")
    looked: list[str] = []

    def lookup(name: str, n: int) -> list[Passage]:
        looked.append(name)
        return [retrieved[1], own]  # the release note ranks first for the name: it only mentions it

    passages = with_subject_sections(question, retrieved, lookup, rarity, counts)
    assert looked == ["scrapy-playwright"]
    assert [p.source for p in passages] == ["topics/dynamic-content.rst", "topics/playwright.rst"]
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert not result.abstained and "playwright_page_methods" in result.text

    looked.clear()
    assert with_subject_sections(question, [own, retrieved[0]], lookup, rarity, counts) == [own, retrieved[0]]
    assert looked == []  # covered already: nothing looked up
    assert with_subject_sections(question, retrieved, lambda name, n: [retrieved[1]], rarity, counts) == retrieved


def test_a_subject_many_changelog_lines_mention_and_no_section_covers_is_not_answered():
    lines = [f"- Fixed scrapy-playwright request {i} being retried twice. (#{6600 + i})" for i in range(3)]
    rarity, counts = index_of([*lines, WAITING, *FILLER, *FILLER])  # 3 of 84 chunks: more than "barely"
    question = "using scrapy-playwright: how do I wait until a css selector has shown up?"
    passages = [page(WAITING), page("\n\n".join(lines[:2]), "news.rst", "Scrapy 2.13.0 (2025-05-08)")]
    report = assess_focus(question, passages, rarity, counts=counts)
    assert report.mentioned == 1.0 and not report.barely_documented(2)  # too many chunks for the rarity rule
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and result.text.startswith("The documents don't cover scrapy-playwright")
    off = AnswerOptions(answer_confidence=0.0, closest_confidence=0.0, mentioned_share=0.0)
    assert not extractive_answer(question, passages, embed=None, options=off, rarity=rarity, counts=counts).abstained


def test_a_subject_only_release_notes_name_is_shown_there_when_no_passage_says_it():
    # sphinx-click is only a dependency bump in the changelogs: the passages retrieved never say it, so the
    # lookup finds no section of its own, and the line that names it is shown to say where it is mentioned
    lines = [f"- Update sphinx-click to 5.{i}.0 (#90{i}5)" for i in range(3)]
    commands = page(
        "New commands can be added to the `celery` umbrella command of the CLI by using setuptools entry-points.",
        "userguide/extending.rst",
        "Adding new celery sub-commands",
    )
    rarity, counts = index_of([*lines, commands.text, WAITING, *FILLER, *FILLER])  # 3 chunks: not "barely"
    notes = [page(line, "history/changelog-5.5.rst", f"5.5.{i}") for i, line in enumerate(lines)]
    question = "how do I get sphinx-click to document the custom sub-commands I added to the celery CLI?"
    passages = with_subject_sections(question, [commands, page(WAITING)], lambda name, n: notes, rarity, counts)
    assert [p.source for p in passages] == ["userguide/extending.rst", "history/changelog-5.5.rst"]
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and result.text.startswith("The documents don't cover sphinx-click")
    # a name in the setting the asker describes first is not what they ask about: nothing is swapped in
    setting = "our sphinx-click docs build is slow, how do I add new sub-commands to the celery CLI?"
    assert with_subject_sections(setting, [commands, page(WAITING)], lambda name, n: notes, rarity, counts) == [
        commands,
        page(WAITING),
    ]


def test_what_the_user_added_or_switched_is_not_a_question_about_what_changed():
    from bot.answering.focus import asks_change

    assert not asks_change("how do I get sphinx-click to document the sub-commands I added to the CLI?")
    assert not asks_change("we switched redis to dragonfly. does it need special flags?")
    assert asks_change("was HEAD redirect following removed?") and asks_change("is python 3.8 support dropped?")
    assert asks_change("what was added in 2.10?") and asks_change("which release dropped python 3.9 support?")
    # a change the asker makes, a "when" that is a condition: no question about releases
    assert not asks_change("Pylance doesn't flag missing args for my models. which setting do I have to change?")
    assert not asks_change("does the model raise when I pass keys that are not fields?")
    assert asks_change("why did they change that in v2?") and asks_change("when did pydantic 2.0 come out?")
    assert asks_change("what changed in the worker?") and asks_change("when was it renamed?")


def test_a_name_no_chunk_of_the_index_holds_is_not_answered_and_the_reply_says_which():
    rarity, counts = index_of([WAITING, PLAYWRIGHT_PAGE, *FILLER])
    question = "how do I export the crawl stats of a spider to Prometheus?"
    passages = [page(WAITING), page(FILLER[0], "topics/spiders.rst", "Spiders")]
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and not result.citations
    assert result.text.startswith("The documents don't mention Prometheus. The closest pages:")
    assert "- Docs › Waiting for elements (topics/dynamic-content.rst" in result.text  # where to look instead
    off = AnswerOptions(answer_confidence=0.0, closest_confidence=0.0, unseen_names=False)
    assert not extractive_answer(question, passages, embed=None, options=off, rarity=rarity, counts=counts).abstained
    # a name the index holds is no unseen name, whatever the passages shown say
    assert unseen_names("how do I wait for a selector with scrapy-playwright in Scrapy?", rarity) == ()


def test_what_the_asker_saw_or_pasted_is_no_name_the_documents_must_hold():
    rarity, _ = index_of([WAITING, *FILLER])
    assert unseen_names("my spider dies with ConnectionError, how do I retry?", rarity) == ()
    assert unseen_names('the log says "Kafka producer closed" after each crawl. why?', rarity) == ()
    assert unseen_names("crawling over Wi-Fi is slow; does Scrapy cache DNS?", rarity) == ("DNS",)
    assert unseen_names("I call Article.DoesNotExist in a spider", rarity) == ()
    assert unseen_names("was Diamonds Aren't Forever crawled by Zyte's spider?", rarity) == ("Zyte",)
    assert unseen_names("does Scrapy support HTTP/3 (QUIC) yet?", rarity) == ("QUIC",)  # "HTTP/3" is one token


def test_a_name_typed_without_its_accents_is_the_name_the_page_writes_with_them():
    text = "After casting Bérénice Marlohe as Sévérine, Mendes cast Léa Seydoux as Madeleine Swann."
    rarity, counts = index_of([text, *FILLER])
    question = "which actress was cast as Severine?"
    assert [f.text for f in focus_terms(question, rarity, counts)] == ["Severine"]
    report = assess_focus(question, [page(text, "cast.md", "Casting")], rarity, counts=counts)
    assert report.absent == 0.0 and report.unseen == ()  # found on the page: mentioned there, not absent
    assert report.mentions[0].sentence.startswith("After casting Bérénice Marlohe")
    result = extractive_answer(question, [page(text, "cast.md", "Casting")], embed=None, options=ALWAYS, rarity=rarity)
    assert not result.abstained and "Bérénice Marlohe as Sévérine" in result.text


def test_an_acronym_a_passage_writes_out_is_no_unseen_name():
    text = "The 2013 ParkScore ranked the park system of New York City second, after Minneapolis."
    rarity, counts = index_of([text, *FILLER])
    question = "The 2013 ParkScore rating made NYC second to what other city?"
    assert unseen_names(question, rarity) == ("NYC",)  # no chunk holds the letters ...
    report = assess_focus(question, [page(text, "parks.md", "Parks")], rarity, counts=counts)
    assert report.unseen == ()  # ... but the passage shown spells it out
    elsewhere = assess_focus(question, [page(FILLER[0], "spiders.md", "Spiders")], rarity, counts=counts)
    assert elsewhere.unseen == ("NYC",)


def test_a_tool_named_in_lower_case_that_no_chunk_holds_is_an_unseen_name():
    rarity, _ = index_of([WAITING, PLAYWRIGHT_PAGE, *FILLER])
    assert unseen_names("how do i run scrapy on kubernetes with a helm chart?", rarity) == ("kubernetes",)
    assert unseen_names("can scrapy solve the recaptcha on a login page.", rarity) == ("recaptcha",)  # sentence end
    # English the documents happen not to use, its inflections and British spellings: no name
    assert unseen_names("is scrapy siphoning pages it should not? the honour system realised nothing", rarity) == ()
    # compounds of common words, and typos of English or of the documents' own words: no name either
    assert unseen_names("our frontend waits for a selecter, as the laywer comapred", rarity) == ()
    # code, paths and hyphenated words are the identifier rules' business; a question in another language is not judged
    assert unseen_names("does `kubernetes` or helm-kubernetes or k8s/kubernetes wait?", rarity) == ()
    assert unseen_names("wie warte ich auf einen selektor mit scrapy?", rarity) == ()


def test_a_word_with_an_inner_capital_after_a_lowercase_start_is_a_name():
    rarity, _ = index_of([WAITING, PLAYWRIGHT_PAGE, *FILLER])
    assert unseen_names("can scrapy read reStructuredText (.rst) pages?", rarity) == ("reStructuredText",)
    assert unseen_names("does scrapy speak gRPC?", rarity) == ("gRPC",)
    # two English words in a programmer's spelling name no product; code in backticks is the identifier rules'
    assert unseen_names("our frontend sends camelCase json, can scrapy read it?", rarity) == ()
    assert unseen_names("does `reStructuredText` or foo.barBaz wait?", rarity) == ()


def test_capitalised_words_joined_by_hyphens_that_no_chunk_holds_are_an_unseen_name():
    rarity, _ = index_of([WAITING, PLAYWRIGHT_PAGE, *FILLER])
    assert unseen_names("does scrapy honour a Retry-After header on 429 responses?", rarity) == ("Retry-After",)
    # a span of days is no subject; code and lowercase compounds are the identifier rules' business
    assert unseen_names("what did the Friday-Sunday crawl return?", rarity) == ()
    assert unseen_names("does `Retry-After` or retry-after or X-Retry-After wait?", rarity) == ()


def test_english_words_typos_and_names_are_told_apart():
    from bot.answering import lexicon

    assert all(map(lexicon.is_english, ["attuned", "surpasses", "ethicality", "honour", "realised", "begging"]))
    assert not any(map(lexicon.is_english, ["kubernetes", "protobuf", "lerna", "cython"]))
    assert lexicon.is_compound("frontend") and lexicon.is_compound("lookbehind") and not lexicon.is_compound("gunicorn")
    assert "lawyer" in lexicon.one_edit_away("laywer") and "disband" in lexicon.one_edit_away("disban")

    def nothing_indexed(words):
        return False

    # "cython" is one letter from "python", but "python" is no common English word a typo would aim at
    assert lexicon.reads_as_name("cython", nothing_indexed) and not lexicon.reads_as_name("swhat", nothing_indexed)
    assert not lexicon.reads_as_name("reduims", lambda words: "redumis" in words)  # a typo of the documents' "ReduMIS"


def test_a_lowercase_name_in_the_setting_before_the_question_is_no_subject():
    rarity, _ = index_of([WAITING, PLAYWRIGHT_PAGE, *FILLER])
    assert unseen_names("my numpy pages load late. how do i wait for a selector?", rarity) == ()
    assert unseen_names("scrapy segfaults on my page, what are the usual reasons?", rarity) == ()
    assert unseen_names("we switched to dragonfly. does scrapy need any dragonfly flags?", rarity) == ()  # English
    assert unseen_names("we run it on kubernetes. does scrapy need any kubernetes flags?", rarity) == ("kubernetes",)
    assert unseen_names("anyone waiting for pages on kubernetes? how do i set it up?", rarity) == ("kubernetes",)
    assert unseen_names("our spiders run under gunicorn — how do i wait for a selector?", rarity) == ()


def test_a_lowercase_tool_only_a_changelog_line_mentions_is_not_answered():
    notes = "- Fixed the shell under gunicorn workers. (#6701)\n\n- Documented the retry middleware. (#6702)"
    rarity, counts = index_of([notes, WAITING, *FILLER])
    passages = [page(WAITING), page(notes, "news.rst", "Scrapy 2.13.1 (2025-06-01)")]
    question = "we serve the app with gunicorn. how many gunicorn workers should run next to the spiders?"
    assert [f.text for f in focus_terms(question, rarity, counts)] == ["gunicorn"]
    assert focus_terms(question, rarity, counts, lowercase=False) == []  # the subject lookup leaves it out
    result = extractive_answer(question, passages, embed=None, options=ALWAYS, rarity=rarity, counts=counts)
    assert result.abstained and result.text.startswith("The documents don't cover gunicorn; they mention it only in")
    # an English word is no such name, whatever the index holds
    assert focus_terms("how many workers wait for a selector?", rarity, counts) == []
    # a lowercase name neither counts among the names nor in the shares: two named ones are still judged
    rarity, counts = index_of([CHANGELOG, notes, WAITING, *FILLER])
    question = "how do I wait with scrapy-playwright and DOWNLOAD_TIMEOUT under gunicorn?"
    report = assess_focus(question, [page(WAITING)], rarity, counts=counts)
    assert {f.text for f in report.terms} == {"scrapy-playwright", "DOWNLOAD_TIMEOUT", "gunicorn"}
    assert report.absent == 1.0 and report.barely_documented(1)


def test_an_error_the_asker_saw_before_the_question_is_no_subject_but_an_error_asked_about_is():
    errors = "The ConnectionError raised by the downloader names the host it could not reach."
    rarity, counts = index_of([errors, WAITING, *FILLER])
    symptom = "my spider randomly dies with ConnectionError. is there a way to wait and retry by itself?"
    assert focus_terms(symptom, rarity, counts) == []  # not declined for "barely documenting" ConnectionError
    assert [f.text for f in focus_terms("what does ConnectionError tell me?", rarity, counts)] == ["ConnectionError"]
