"""The whole notice mail as a customer reads it, in each language: every paragraph in place,
a blank line between them, nothing run together (a template's block tags eat line breaks)."""

# ruff: noqa: E501  (the expected mails keep their lines as the mail writes them)
from __future__ import annotations

from dataclasses import replace

import pytest
from test_mail import CONTENT, SETTINGS

from notifier.delivery.mail.render import ConsentNote, render

SHARING = "我们如何共享、转让、公开披露您的信息"
ASKING = replace(
    CONTENT,
    consent=(
        ConsentNote("向其他公司提供您的个人信息", (SHARING,), True, "-consent_pipl_23-"),
        ConsentNote("将您的个人信息传输到境外", (SHARING,), True, "-consent_pipl_39-"),
    ),
    translation=True,
)

ENGLISH = """\
Dear -name-,

We are updating "世纪互联运营的在线服务隐私声明". The new version (2029-11-01) takes effect on January 1, 2030. As the statement promises, we are telling you before the change takes effect.

Summary of the change: 新增向境外关联方共享，并缩短答复期限。
Services concerned: Microsoft Azure, Power BI

What changes for you:

我们如何共享、转让、公开披露您的信息
为提供全球技术支持，我们可能与微软位于中国境外的关联方共享管理员数据。
  Before: (not in the previous version)
  After: 我们可能与微软及其位于中国境外的关联方共享管理员数据。

如何联系我们
我们答复您请求的期限由 30 天缩短为 15 个工作日。
  Before: 我们将在验证您身份后 30 天内予以回复。
  After: 我们将在验证您身份后 15 个工作日内予以回复。
  2 more changes in this section: see what changed, section by section.

The new version: https://privacy.example.com/archive/2029-11-01/
What changed, section by section: https://privacy.example.com/archive/2029-11-01/changes/
SHA-256 of the new text: e07fbecebbd2674492ceb1587ccb746c30ba89a40f7558fc5b38e5db7b84a497

Nothing else in the statement changes in substance.
This English text is a translation; where it differs from the original, the original prevails.

Changes that need your consent (we ask about each on its own):
- 向其他公司提供您的个人信息 (我们如何共享、转让、公开披露您的信息): under the law, this needs your separate consent.
  Agree or decline: -consent_pipl_23-
- 将您的个人信息传输到境外 (我们如何共享、转让、公开披露您的信息): under the law, this needs your separate consent.
  Agree or decline: -consent_pipl_39-

If you do nothing: the new version takes effect on January 1, 2030, but your silence is not consent to the changes listed above. You can contact us before January 1, 2030, to object or to ask, or stop using the services concerned as your customer agreement provides.

Questions: https://support.example.com/
Postal address: 12-14/F, Building 6, Electronics City International Electronics Headquarters, Yard 6, Jiuxianqiao Road, Chaoyang District, Beijing 100015, China

This is a dedicated notice about a change to our privacy statement; it contains no marketing.

21Vianet Privacy Notices
"""

CHINESE = """\
-name-，您好：

我们将更新《世纪互联运营的在线服务隐私声明》。新版本（版本 2029-11-01）将于 2030 年 1 月 1 日生效。根据声明中的承诺，我们在变更生效前通知您。

本次更改概要：新增向境外关联方共享，并缩短答复期限。
涉及的服务：Microsoft Azure、Power BI

本次更改对您意味着什么：

【我们如何共享、转让、公开披露您的信息】
为提供全球技术支持，我们可能与微软位于中国境外的关联方共享管理员数据。
  原文：（原版本中没有此句）
  修改后：我们可能与微软及其位于中国境外的关联方共享管理员数据。

【如何联系我们】
我们答复您请求的期限由 30 天缩短为 15 个工作日。
  原文：我们将在验证您身份后 30 天内予以回复。
  修改后：我们将在验证您身份后 15 个工作日内予以回复。
  另有 2 处更改，请见逐条对比。

新版本全文：https://privacy.example.com/archive/2029-11-01/
与上一版本的逐条对比：https://privacy.example.com/archive/2029-11-01/changes/
新版本文本的 SHA-256：e07fbecebbd2674492ceb1587ccb746c30ba89a40f7558fc5b38e5db7b84a497

其余内容没有实质变化。本文为译文，与原文不一致之处，以原文为准。

需要您同意的更改（每一项单独询问）：
- 【向其他公司提供您的个人信息】（涉及：我们如何共享、转让、公开披露您的信息）依照法律规定，须取得您的单独同意。
  同意或不同意：-consent_pipl_23-
- 【将您的个人信息传输到境外】（涉及：我们如何共享、转让、公开披露您的信息）依照法律规定，须取得您的单独同意。
  同意或不同意：-consent_pipl_39-

如果您不采取任何行动：新版本将于 2030 年 1 月 1 日生效，但您的沉默不视为您同意上述更改。您可以在 2030 年 1 月 1 日前联系我们，提出异议或询问；也可以按照您的客户协议停止使用相关服务。

如有疑问，请联系我们：https://support.example.com/
邮寄地址：北京市朝阳区酒仙桥路 6 号院电子城 · 国际电子总部 6 号楼 12-14 层 邮编：100015

这是一封关于隐私声明变更的专门通知，不含任何营销内容。

世纪互联隐私声明通知
"""



@pytest.mark.parametrize(("locale", "expected"), [("en", ENGLISH), ("zh-CN", CHINESE)])
def test_a_notice_asking_consent_reads_whole(locale: str, expected: str) -> None:
    """When a translated notice asks two consent questions, then its text part is exactly the
    mail a customer should read: the list of questions and what doing nothing means each stand
    as their own paragraph."""
    assert render(ASKING, locale, SETTINGS).text == expected
