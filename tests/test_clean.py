from ingest.documents.clean import clean_text, is_clutter_line
from tests.support import FIXTURES


def test_fixture_page_loses_all_clutter_and_keeps_the_article():
    text = clean_text((FIXTURES / "clutter-article.txt").read_text())
    for clutter in [
        "ad blocker",
        "Advertising lets us",
        "Continue reading",
        "You are here",
        "Share on",
        "Tweet this",
        "Leave a comment",
        "Posted by",
        "Amazing find",
        "Follow us",
        "Copyright",
        "Dear Reader",
        "whitelist",
    ]:
        assert clutter.lower() not in text.lower(), clutter
    assert "brooding octopuses" in text
    assert "warmer water shortens the time" in text
    assert text.count("Deep-sea vents host unexpected octopus nursery") == 1


def test_cookie_banner_breadcrumbs_and_footer_lines():
    page = "\n".join(
        [
            "We use cookies to give you the best experience. Accept all cookies",
            "Accept",
            "Home > World > Europe",
            "The river flooded three villages overnight, officials said on Tuesday morning.",
            "Advertisement",
            "Rescue teams reached the last stranded families by boat before noon.",
            "Sign up for our newsletter to get updates in your inbox",
            "(c) 2021 Example News Ltd",
        ]
    )
    text = clean_text(page)
    assert text.splitlines() == [
        "The river flooded three villages overnight, officials said on Tuesday morning.",
        "Rescue teams reached the last stranded families by boat before noon.",
    ]


def test_share_words_inside_real_sentences_are_content():
    line = "The company said users can now share videos on Facebook directly from the camera app."
    assert clean_text(line) == line
    assert not is_clutter_line(
        "Copyright law protects the text of the novel for seventy years after the author's death."
    )


def test_a_long_notice_is_not_allowed_to_eat_the_document():
    body = "\n\n".join(f"Paragraph {i} talks about cookies and recipes for baking at home." for i in range(3))
    text = clean_text("This site uses cookies.\n\n" + body)
    assert "Paragraph 2" in text


def test_comment_section_only_cut_near_the_end():
    lines = ["Comments", *[f"Sentence number {i} of the real article body goes here." for i in range(10)]]
    assert "Sentence number 9" in clean_text("\n".join(lines))
