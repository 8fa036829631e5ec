"""End to end: the command menus set at start-up, and /help by who asks (``bot.commands.menu``)."""

from __future__ import annotations

import json
import re

from tests.fakes.bot_api import FakeBotAPI
from tests.harness import HarnessFactory

ALICE, BOT_ADMIN = 9191, 9292
GROUP, ADMIN, MEMBER = -100_9393, 9394, 9395
EVERY = ["sub", "unsub", "list", "filter", "set", "pause", "resume", "export", "import", "lang"]
EVERY += ["tz", "help"]
_LATIN = re.compile(r"[A-Za-z]{3,}")


def _key(code: str) -> str:
    """The fake's key of the default scope's menu in language ``code``."""
    return json.dumps([{"type": "default"}, code], sort_keys=True)


async def test_menus_in_english_and_chinese_by_scope(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """At start-up the default, group and group-admin menus are set without a language and
    for zh, the Chinese ones described in Chinese; a bot admin's private chat also offers
    /stats; a bot admin who never wrote to the bot costs one logged refusal, not the start."""
    bot_api.add_chat(BOT_ADMIN, "private")
    await bot_factory(telegram={"admins": [BOT_ADMIN, 1234]})
    admins = {"type": "all_chat_administrators"}
    groups = {"type": "all_group_chats"}
    for code in ("", "zh"):
        assert bot_api.commands_for(language_code=code) == EVERY
        assert bot_api.commands_for(admins, code) == EVERY
        assert bot_api.commands_for(groups, code) == ["list", "tz", "help"]
        own = {"type": "chat", "chat_id": BOT_ADMIN}
        assert bot_api.commands_for(own, code) == [*EVERY, "stats"]
    zh = {c["command"]: c["description"] for c in bot_api.commands[_key("zh")]}
    en = {c["command"]: c["description"] for c in bot_api.commands[_key("")]}
    assert (en["sub"], zh["sub"]) == ("subscribe to feeds", "订阅")
    english_in_chinese = [
        word for text in zh.values() for word in _LATIN.findall(text) if word not in {"OPML"}
    ]
    assert english_in_chinese == []
    assert [r.description for r in bot_api.rejected] == ["Bad Request: chat not found"] * 2


async def test_help_shows_admin_commands_to_admins_only(
    bot_factory: HarnessFactory, bot_api: FakeBotAPI
) -> None:
    """/help names /stats for a bot admin only; in a group its admin sees every command and a
    member what a member may do, with a line saying who may change things; in Chinese too."""
    bot_api.add_chat(GROUP, "supergroup", title="Readers", admins=[ADMIN])
    harness = await bot_factory(telegram={"admins": [BOT_ADMIN]})
    assert "/stats" in ((await harness.command(BOT_ADMIN, "/help")).text or "")
    assert "/stats" not in ((await harness.command(ALICE, "/help")).text or "")
    admin = (await harness.command(GROUP, "/help", user_id=ADMIN)).text or ""
    assert "/filter" in admin
    member = (await harness.command(GROUP, "/help", user_id=MEMBER)).text or ""
    assert "/filter" not in member
    assert "/list" in member
    assert member.endswith(
        "Only the group's administrators can change its subscriptions and settings."
    )
    await harness.command(GROUP, "/lang zh", user_id=ADMIN)
    member = (await harness.command(GROUP, "/start", user_id=MEMBER)).text or ""
    assert member.endswith("只有群组管理员可以修改本群的订阅和设置。")
    await harness.command(BOT_ADMIN, "/lang zh")
    assert "机器人管理员专用：\n/stats" in ((await harness.command(BOT_ADMIN, "/help")).text or "")
