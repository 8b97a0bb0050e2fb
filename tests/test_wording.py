"""The text signals materiality relies on: counting, numbers, names, channels, polarity."""

from __future__ import annotations

import jieba
import pytest
from support.materiality import default_rules
from support.repos import seed_text

from notifier.statement.diff import Change
from notifier.statement.wording import (
    ADVERSE,
    CHANGED,
    FAVOURABLE,
    _segmenter,
    ages,
    changed_sentences,
    changed_words,
    cn_number,
    commitment_signal,
    contact_channels,
    count,
    entities,
    keyword_change,
    keyword_delta,
    levenshtein,
    list_item_signal,
    number_signals,
    periods,
    polarity_signal,
    polarity_tokens,
    quote,
    snippet,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三十", 30),
        ("十五", 15),
        ("十", 10),
        ("两", 2),
        ("一百二十", 120),
        ("18", 18),
        ("2.5", 2.5),
    ],
)
def test_cn_number(text: str, value: float) -> None:
    """When a number is written in Chinese numerals or digits, then its value is read."""
    assert cn_number(text) == value


def test_periods_in_days() -> None:
    """When periods are stated in Chinese or English, then each is read in days and dates are
    not mistaken for periods."""
    text = "2018年11月1日起,我们在三十天内答复,保存1年,十五个工作日;within 6 months or 2 weeks"
    assert periods(text) == [
        ("三十天", 30.0),
        ("1年", 365.0),
        ("十五个工作日", 21.0),
        ("6 months", 180.0),
        ("2 weeks", 14.0),
    ]
    assert periods("Last updated: November 1, 2018") == []


@pytest.mark.parametrize(
    "text",
    ["自 2018 年 11 月 1 日起保存 30 天", "自2018年11月1日起保存30天", "自 11 月 1 号起保存 30 天"],
)
def test_dates_with_or_without_spaces_are_not_periods(text: str) -> None:
    """When a date is written with spaces, as notices write it, or with 号, then it is a date,
    as the redline takes it, and not periods of years, months and days."""
    assert [days for _, days in periods(text)] == [30.0]


def test_ages_are_not_periods() -> None:
    """When an age is stated, then it is an age (18岁, under 13) and not a period of years."""
    assert ages("如您是18岁以下的未成年人,不满十四周岁的儿童") == [
        ("18岁", 18.0),
        ("十四周岁", 14.0),
    ]
    assert ages("If you are under 13 years old") == [("under 13", 13.0)]
    assert periods("如您是18岁以下的未成年人 under 13 years old") == []


def test_number_signal_direction() -> None:
    """When a period grows or shrinks, or an age falls, then the signal says which way."""
    (longer,) = number_signals("保存30天", "保存1年")
    assert (longer.feature, longer.direction, longer.replaced) == (
        "period",
        "longer",
        (("30天", "1年"),),
    )
    (shorter,) = number_signals("30 days", "15 business days")
    assert shorter.direction == "shorter"
    (age,) = number_signals("18岁以下", "14岁以下")
    assert (age.feature, age.direction) == ("age", "lower")
    assert number_signals("三十天", "30天") == []


def test_company_names() -> None:
    """When company names appear in Chinese or English, then they are found whole."""
    text = (
        "上海蓝云网络科技有限公司(北京世纪互联宽带数据中心有限公司的全资子公司);"
        "我们委托北京某某信息技术有限公司处理。GitHub, Inc. and Mozilla Corporation"
    )
    assert entities(text) == [
        "上海蓝云网络科技有限公司",
        "北京世纪互联宽带数据中心有限公司",
        "北京某某信息技术有限公司",
        "GitHub, Inc.",
        "Mozilla Corporation",
    ]


def test_contact_channels() -> None:
    """When a text gives an email, a phone, a postcode, an address and a URL, then each is a
    contact channel (URLs only when asked for)."""
    text = (
        "邮寄地址:北京市朝阳区酒仙桥路6号院电子城·国际电子总部6号楼12-14层 邮编:100015,"
        "电话 400-089-0365,邮箱 privacy@example.com,网站 https://support.example.com/zh"
    )
    found = contact_channels(text)
    assert "privacy@example.com" in found and "https://support.example.com/zh" in found
    assert "400-089-0365" in found and "100015" in found
    assert any(f.startswith("北京市朝阳区酒仙桥路6号院") for f in found)
    assert "https://support.example.com/zh" not in contact_channels(text, urls=False)


def test_count_matches_words_not_parts() -> None:
    """When counting, then Latin words match whole, give or take an ending, in any case; words of
    four letters or fewer take only plural endings (so "will" is not in "willing")."""
    assert count("We share data with AI partners; said Aileen", "AI") == 1
    assert count("Collection and collected", "collect") == 2
    assert count("我们与第三方共享,第三方Cookie", "第三方") == 2
    assert count("sells and selling, but not seller's", "sell") == 1
    assert count("We are willing to help; we will", "will") == 1
    assert count("the deletion of data we deleted", "delete") == 2
    assert count("we notified you of the notification", "notify") == 2
    assert count("third parties and a third party", "third part*") == 2
    assert count("we use cookies; see the cookiefaq", "cookie") == 1
    assert count("healthy habits and health data", "health") == 1


@pytest.mark.parametrize(
    ("text", "word", "found"),
    [
        ("我们会收集您的位置信息", "位置", 1),  # 位置/信息: a compound of whole words
        ("本声明适用于所有服务", "用于", 0),  # 适用/于
        ("请提供身份证明文件", "身份证", 0),  # 身份证明/文件
        ("例如站点分析和广告投放", "广告", 1),  # 广告投放 kept whole, made of 广告 and 投放
        ("前往目的地", "目的", 0),
        ("我们不会收集您的生物识别信息", "生物识别", 1),
        ("不满十四周岁的未成年人", "不满十四周岁", 1),
    ],
)
def test_count_chinese_on_word_boundaries(text: str, word: str, found: int) -> None:
    """When counting Chinese, then a keyword counts only where it starts and ends on jieba's
    word boundaries."""
    assert count(text, word) == found


def test_keyword_delta_drops_words_inside_longer_ones() -> None:
    """When 中国境外 is added, then 境外 is not reported again."""
    added, removed = keyword_delta("存储在中国境内", "存储在中国境外", ["境外", "中国境外", "境内"])
    assert (added, removed) == (("中国境外",), ("境内",))


def test_polarity_tokens_skip_lookalikes() -> None:
    """When 供应商 or 社会 contain 应 or 会, then they are not modal words."""
    polarity = default_rules().polarity
    assert polarity_tokens("我们不会向供应商和社会公开", polarity) == ["不会"]
    assert polarity_tokens("We will not sell and cannot share", polarity) == [
        "will",
        "not",
        "cannot",
    ]


def test_polarity_directions() -> None:
    """When a negation is removed the flip is adverse, 后→前 is favourable, 将→会 is the same."""
    polarity = default_rules().polarity
    removed = polarity_signal([("我们不会出售", "我们会出售")], polarity)
    assert removed is not None and (removed.direction, removed.triggers) == (ADVERSE, ("不会→会",))
    earlier = polarity_signal([("生效后通知", "生效前通知")], polarity)
    assert earlier is not None and earlier.direction == FAVOURABLE
    modal = polarity_signal([("我们可能共享", "我们将共享")], polarity)
    assert modal is not None and modal.direction == CHANGED
    assert polarity_signal([("我们将通知您", "我们会通知您")], polarity) is None


def test_commitment_in_removed_sentence() -> None:
    """When a deleted sentence held 未经 or only, then it is a removed commitment."""
    polarity = default_rules().polarity
    signal = commitment_signal(["未经您同意我们不共享。", "Nothing here."], polarity)
    assert signal is not None and signal.triggers == ("未经", "不")
    assert commitment_signal(["这里没有承诺。"], polarity) is None


def test_list_items() -> None:
    """When a list gains an item, then the item is named; when it loses one, it is favourable."""
    old = "- 甲公司;\n- 乙公司;"
    grown = list_item_signal(old, old + "\n- 丙公司;")
    assert grown is not None and (grown.direction, grown.added) == (ADVERSE, ("丙公司;",))
    shrunk = list_item_signal(old, "- 甲公司;")
    assert shrunk is not None and (shrunk.direction, shrunk.removed) == (FAVOURABLE, ("乙公司;",))


def test_changed_sentences_cover_both_sides() -> None:
    """When one character of a reflowed paragraph changes, then the whole sentence is compared
    on both sides, and unchanged sentences are left out."""
    old = "第一句没有变。我们不会\n保存安全码。第三句也没有变。"
    new = "第一句没有变。我们会\n保存安全码。第三句也没有变。"
    change = Change(
        "付款数据",
        "payment-data",
        "modified",
        old,
        new,
        ops=((0, "第一句没有变。我们"), (-1, "不"), (0, "会\n保存安全码。第三句也没有变。")),
        tags=("", "", ""),
    )
    assert changed_sentences(change) == [("我们不会\n保存安全码。", "我们会\n保存安全码。")]


def test_levenshtein_stops_early() -> None:
    """When two texts differ by more than the limit, then the limit + 1 is returned."""
    assert levenshtein("recieve", "receive", 3) == 2
    assert levenshtein("短", "很长很长的文字", 2) == 3


def test_negated_and_limited_mentions_do_not_count() -> None:
    """When a keyword follows a negation in its clause or sits in a limiting phrase, then it
    does not count; after an exception (但, except) or in the next clause, it does; and when the
    negation is removed, the change names it."""
    scope = default_rules().scope
    words = ["生物识别", "收集", "目的", "third part*", "collect"]
    cases = [
        ("我们不会收集您的生物识别信息。", ()),
        ("我们不会出售您的数据，但会收集您的生物识别信息。", ("收集", "生物识别")),
        ("我们仅为提供服务之目的收集您的数据。", ("收集",)),
        ("We do not share it with third parties except as described.", ()),
        ("We do not sell data, but we collect it.", ("collect",)),
        ("We collect it solely for the purpose of providing the services.", ("collect",)),
    ]
    for text, counted in cases:
        added = keyword_change("", text, words, scope).added
        assert set(added) == set(counted), text
    change = keyword_change("我们不会收集生物识别信息。", "我们会收集生物识别信息。", words, scope)
    assert set(change.added) == {"收集", "生物识别"} and change.released == ("不会",)


def test_changed_words_and_quotes_keep_whole_words() -> None:
    """When sentences differ, then the changed runs are whole words (a lone character takes its
    neighbours along), quotes keep the punctuation, and snippets end after a whole word."""
    assert changed_words("We keep data for 30 days.", "We keep data for 90 days.") == [("30", "90")]
    assert changed_words("我们会收集您的姓名。", "我们会收集您的姓名和住址。") == [("", "和住址")]
    assert all(len(a) > 1 and len(b) > 1 for a, b in changed_words("在变更后通知", "在变更前通知"))
    assert quote("- 我们会收集您的**姓名**，\n  以及住址。") == "我们会收集您的**姓名**，以及住址。"
    cut = snippet("We share your information with our partners for marketing purposes.", 30)
    assert cut == "We share your information…"


def test_partial_dictionary_cuts_as_jieba_does() -> None:
    """When Chinese text is cut with the dictionary loaded for its characters only, then the
    words are jieba's own (whole dictionary, no guessing of unknown words)."""
    seed = seed_text()
    assert list(_segmenter().cut(seed)) == list(jieba.cut(seed, HMM=False))
