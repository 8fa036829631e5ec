"""The reply templates; keys are the same in every language.

A template that names ``{count}`` and needs a different form for one thing is a
``Plural``; Chinese has no plural forms and uses plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plural:
    """English forms of one template: ``one`` when ``count`` is 1, else ``other``."""

    one: str
    other: str


Template = str | Plural

EN: dict[str, Template] = {
    "help": (
        "<b>newsrelay</b> relays news feeds (RSS, Atom, JSON Feed) to this chat, "
        "each new entry once, with optional keyword filters.\n\n"
        "/sub URL [URL…] — subscribe (a web page that links a feed works too)\n"
        "/unsub ID|URL|all — unsubscribe\n"
        "/list — subscriptions, filters and errors\n"
        "/filter ID|all [EXPR|off] — keyword filter, "
        "e.g. <code>/filter 3 乌克兰 NATO -体育</code>\n"
        "/set ID — pictures, link preview, summary length\n"
        "/pause ID|all — stop deliveries, keep the subscription\n"
        "/resume ID|all [backlog] — restart; with <code>backlog</code> also send "
        "what was published during the pause\n"
        "/export — subscriptions as an OPML file\n"
        "/import — as the caption of (or in reply to) an OPML file: subscribe to its feeds\n"
        "/lang en|zh — reply language of this chat\n"
        "/help — this text\n\n"
        "Filters: <code>word</code> any may match, <code>+word</code> required, "
        '<code>-word</code> excluded, <code>"a phrase"</code>, <code>title:word</code>, '
        "<code>/regex/</code>."
    ),
    "sub_usage": "Usage: /sub URL [URL…]",
    "sub_ok": "✅ Subscribed to <b>{title}</b> as #{number}",
    "sub_exists": "Already subscribed to <b>{title}</b> as #{number}",
    "sub_failed": "❌ {url}: {reason}",
    "sub_limit": "this chat already has the maximum of {limit} subscriptions",
    "sub_too_many": "Only the first {limit} of {count} addresses were taken; send the rest again",
    "fetch_failed": "could not read the feed",
    "fetch_invalid_url": "not a web address (it must start with http:// or https://)",
    "fetch_bad_scheme": "only http:// and https:// addresses are supported",
    "fetch_refused_address": "refused: {host} is not a public address",
    "fetch_dns": "cannot resolve host {host}",
    "fetch_connect": "cannot connect to {host}",
    "fetch_tls": "TLS handshake with {host} failed",
    "fetch_protocol": "{host} broke the HTTP protocol",
    "fetch_network": "connection to {host} failed",
    "fetch_timeout": Plural("timed out after {count} second", "timed out after {count} seconds"),
    "fetch_too_big": "the feed is larger than {size}",
    "fetch_bad_encoding": "the server sent a compressed body that cannot be read",
    "fetch_too_many_redirects": "too many redirects (more than {count})",
    "fetch_http_status": "the server answered HTTP {status} {phrase}",
    "fetch_not_a_feed": "not a feed (RSS, Atom or JSON Feed)",
    "fetch_no_feed_found": "no feed found on that page",
    "fetch_internal": "internal error while reading the feed (logged)",
    "unsub_usage": "Usage: /unsub ID|URL|all",
    "unsub_pick": "Which subscription should go?",
    "unsub_ok": "Unsubscribed from <b>{title}</b> (#{number})",
    "unsub_all": Plural("Unsubscribed from {count} feed", "Unsubscribed from {count} feeds"),
    "unknown_sub": "No subscription {what} in this chat; /list shows them",
    "list_empty": "No subscriptions yet. Send /sub URL to add one.",
    "list_head": "<b>Subscriptions ({count})</b>",
    "list_chat_filter": "Chat filter: <code>{expr}</code>",
    "list_filter": "   filter: <code>{expr}</code>",
    "list_paused": "   ⏸ paused",
    "list_error": "   ⚠️ {error}",
    "filter_usage": "Usage: /filter ID|all [EXPR|off]",
    "filter_set": "Filter of {target} set: {words}",
    "filter_cleared": "Filter of {target} cleared: every entry is delivered",
    "filter_none": "{target} has no filter: every entry is delivered",
    "filter_show": "Filter of {target}: <code>{expr}</code>\n{words}",
    "filter_bad": "❌ Bad filter: {reason}",
    "filter_preview_head": "Latest entries of <b>{title}</b>:",
    "filter_preview_failed": "(could not preview: {reason})",
    "target_chat": "the whole chat",
    "target_sub": "#{number}",
    "set_head": "Display options of #{number} <b>{title}</b>",
    "set_pictures": "Pictures: {state}",
    "set_album": "Albums: {state}",
    "set_preview": "Link preview: {state}",
    "set_summary": "Summary: {state}",
    "on": "on",
    "off": "off",
    "summary_full": "full",
    "summary_short": "short",
    "summary_none": "none",
    "set_usage": "Usage: /set ID",
    "pause_usage": "Usage: /pause ID|all",
    "pause_ok": "⏸ Paused <b>{title}</b> (#{number}); /resume {number} restarts it",
    "pause_already": "#{number} <b>{title}</b> is already paused",
    "pause_all": Plural(
        "⏸ Paused {count} subscription; /resume all restarts it",
        "⏸ Paused {count} subscriptions; /resume all restarts them",
    ),
    "resume_usage": "Usage: /resume ID|all [backlog]",
    "resume_ok": "▶️ Resumed <b>{title}</b> (#{number}); entries from the pause are skipped",
    "resume_backlog": Plural(
        "▶️ Resumed <b>{title}</b> (#{number}); {count} entry from the pause is on its way",
        "▶️ Resumed <b>{title}</b> (#{number}); {count} entries from the pause are on their way",
    ),
    "resume_backlog_capped": (
        "▶️ Resumed <b>{title}</b> (#{number}); the newest {count} of {total} entries "
        "from the pause are on their way (at most {limit})"
    ),
    "resume_backlog_none": (
        "▶️ Resumed <b>{title}</b> (#{number}); the feed has nothing from the pause"
    ),
    "resume_not_paused": "#{number} <b>{title}</b> is not paused",
    "resume_all": Plural("▶️ Resumed {count} subscription", "▶️ Resumed {count} subscriptions"),
    "resume_unchecked": (
        "⚠️ #{number}: could not read the feed now ({reason}); "
        "entries from the pause may still arrive"
    ),
    "nothing_to_resume": "No paused subscriptions in this chat",
    "lang_usage": "Usage: /lang en|zh (now: {current})",
    "lang_set": "Replies in this chat are now in English",
    "stats_admins_only": "Only the bot's administrators may see /stats",
    "stats": (
        "<b>newsrelay</b>\nfeeds: {feeds}\nsubscriptions: {subscriptions}\n"
        "chats: {chats} ({active} active)\ndelivered: {delivered}\npending: {pending}\n"
        "failed deliveries: {failed}\nfailing feeds: {failing}"
    ),
    "stats_failing": "  {url} ({count}×): {error}",
    "export_caption": Plural(
        "{count} subscription of {chat} (OPML)", "{count} subscriptions of {chat} (OPML)"
    ),
    "import_usage": "Send an OPML file with /import as its caption, or reply /import to one",
    "import_too_big": "❌ The file is larger than {limit} KB",
    "import_bad": "❌ Cannot read the OPML file: {reason}",
    "import_download_failed": "❌ Telegram did not hand over the file; please send it again",
    "import_empty": "No feeds (outlines with an xmlUrl) in that file",
    "import_start": Plural("Importing {count} feed…", "Importing {count} feeds…"),
    "import_done": "<b>Import done</b>: {new} new, {existing} already here, {failed} failed",
    "import_truncated": Plural(
        "Only the first feed was read (this chat's limit)",
        "Only the first {count} feeds were read (this chat's limit)",
    ),
    "admins_only": "Only chat administrators may change subscriptions here",
    "not_your_chat": (
        "You may change only your own private chat's subscriptions, "
        "or those of a group or channel you administer"
    ),
    "button_stale": "This button no longer works; send the command again",
    "reply_cut": Plural("… {count} more line not shown", "… {count} more lines not shown"),
    "not_allowed": "This bot is not available in this chat",
    "bad_target": "❌ {ref}: no such chat, or the bot is not in it",
    "error": "Something went wrong; the problem was logged",
    "flood_summary": Plural(
        "📚 {title}: 1 more new entry arrived at once and is not sent on its own. All entries:",
        "📚 {title}: {count} more new entries arrived at once and are not sent one by one."
        " All entries:",
    ),
    "feed_failing": (
        "⚠️ {title} could not be read for {duration}: {reason}. "
        "The bot keeps trying and will tell you when it works again."
    ),
    "feed_recovered": "✅ {title} can be read again; new entries arrive as before.",
    "feed_gone": (
        "🗑 {title} is gone for good (the server answered 410 Gone): "
        "subscription #{number} was removed."
    ),
    "duration_hours": Plural("{count} hour", "{count} hours"),
    "duration_days": Plural("{count} day", "{count} days"),
    "slow_down": "Too many commands at once; please wait a few seconds before the next one",
}

ZH: dict[str, Template] = {
    "help": (
        "<b>newsrelay</b> 把新闻订阅源（RSS、Atom、JSON Feed）的每条新内容推送到本聊天，"
        "每条只推送一次，并支持关键词过滤。\n\n"
        "/sub 网址 [网址…] — 订阅（含订阅源链接的网页也可以）\n"
        "/unsub 编号|网址|all — 取消订阅\n"
        "/list — 订阅、过滤器和错误\n"
        "/filter 编号|all [表达式|off] — 关键词过滤，"
        "例如 <code>/filter 3 乌克兰 NATO -体育</code>\n"
        "/set 编号 — 图片、链接预览、摘要长度\n"
        "/pause 编号|all — 暂停推送，保留订阅\n"
        "/resume 编号|all [backlog] — 恢复推送；加 <code>backlog</code> 会补发暂停期间的内容\n"
        "/export — 以 OPML 文件导出订阅\n"
        "/import — 作为 OPML 文件的说明文字（或回复该文件）发送：订阅其中的订阅源\n"
        "/lang en|zh — 本聊天的回复语言\n"
        "/help — 本说明\n\n"
        "过滤：<code>词</code> 任一匹配，<code>+词</code> 必须包含，<code>-词</code> 排除，"
        '<code>"短语"</code>，<code>title:词</code>，<code>/正则/</code>。'
    ),
    "sub_usage": "用法：/sub 网址 [网址…]",
    "sub_ok": "✅ 已订阅 <b>{title}</b>，编号 #{number}",
    "sub_exists": "已经订阅过 <b>{title}</b>，编号 #{number}",
    "sub_failed": "❌ {url}：{reason}",
    "sub_limit": "本聊天的订阅已达上限 {limit} 个",
    "sub_too_many": "一次最多处理 {limit} 个网址（收到 {count} 个），其余请再发一次",
    "fetch_failed": "无法读取订阅源",
    "fetch_invalid_url": "不是网址（须以 http:// 或 https:// 开头）",
    "fetch_bad_scheme": "只支持 http:// 和 https:// 网址",
    "fetch_refused_address": "已拒绝：{host} 不是公网地址",
    "fetch_dns": "无法解析主机 {host}",
    "fetch_connect": "无法连接到 {host}",
    "fetch_tls": "与 {host} 的 TLS 握手失败",
    "fetch_protocol": "{host} 的响应不符合 HTTP 协议",
    "fetch_network": "与 {host} 的连接中断",
    "fetch_timeout": "{count} 秒内没有读完，已超时",
    "fetch_too_big": "订阅源超过 {size}",
    "fetch_bad_encoding": "服务器返回的压缩内容无法解压",
    "fetch_too_many_redirects": "重定向次数过多（超过 {count} 次）",
    "fetch_http_status": "服务器返回 HTTP {status}",
    "fetch_not_a_feed": "不是订阅源（RSS、Atom 或 JSON Feed）",
    "fetch_no_feed_found": "该网页上没有找到订阅源",
    "fetch_internal": "读取订阅源时出现内部错误（已记录）",
    "unsub_usage": "用法：/unsub 编号|网址|all",
    "unsub_pick": "要取消哪个订阅？",
    "unsub_ok": "已取消订阅 <b>{title}</b>（#{number}）",
    "unsub_all": "已取消 {count} 个订阅",
    "unknown_sub": "本聊天没有订阅 {what}；/list 可查看全部",
    "list_empty": "还没有订阅。发送 /sub 网址 来添加。",
    "list_head": "<b>订阅（{count}）</b>",
    "list_chat_filter": "全聊天过滤器：<code>{expr}</code>",
    "list_filter": "   过滤器：<code>{expr}</code>",
    "list_paused": "   ⏸ 已暂停",
    "list_error": "   ⚠️ {error}",
    "filter_usage": "用法：/filter 编号|all [表达式|off]",
    "filter_set": "{target} 的过滤器已设置：{words}",
    "filter_cleared": "{target} 的过滤器已清除：所有内容都会推送",
    "filter_none": "{target} 没有过滤器：所有内容都会推送",
    "filter_show": "{target} 的过滤器：<code>{expr}</code>\n{words}",
    "filter_bad": "❌ 过滤器有误：{reason}",
    "filter_preview_head": "<b>{title}</b> 的最新内容：",
    "filter_preview_failed": "（无法预览：{reason}）",
    "target_chat": "整个聊天",
    "target_sub": "#{number}",
    "set_head": "#{number} <b>{title}</b> 的显示选项",
    "set_pictures": "图片：{state}",
    "set_album": "多图相册：{state}",
    "set_preview": "链接预览：{state}",
    "set_summary": "摘要：{state}",
    "on": "开",
    "off": "关",
    "summary_full": "全文",
    "summary_short": "简短",
    "summary_none": "无",
    "set_usage": "用法：/set 编号",
    "pause_usage": "用法：/pause 编号|all",
    "pause_ok": "⏸ 已暂停 <b>{title}</b>（#{number}）；/resume {number} 可恢复",
    "pause_already": "#{number} <b>{title}</b> 已经暂停",
    "pause_all": "⏸ 已暂停 {count} 个订阅；/resume all 可全部恢复",
    "resume_usage": "用法：/resume 编号|all [backlog]",
    "resume_ok": "▶️ 已恢复 <b>{title}</b>（#{number}）；暂停期间的内容不再推送",
    "resume_backlog": "▶️ 已恢复 <b>{title}</b>（#{number}）；将补发暂停期间的 {count} 条内容",
    "resume_backlog_capped": (
        "▶️ 已恢复 <b>{title}</b>（#{number}）；将补发暂停期间最新的 {count} 条"
        "（共 {total} 条，最多 {limit} 条）"
    ),
    "resume_backlog_none": "▶️ 已恢复 <b>{title}</b>（#{number}）；暂停期间没有新内容",
    "resume_not_paused": "#{number} <b>{title}</b> 没有暂停",
    "resume_all": "▶️ 已恢复 {count} 个订阅",
    "resume_unchecked": "⚠️ #{number}：暂时无法读取订阅源（{reason}）；暂停期间的内容可能仍会推送",
    "nothing_to_resume": "本聊天没有已暂停的订阅",
    "lang_usage": "用法：/lang en|zh（当前：{current}）",
    "lang_set": "本聊天的回复语言已设为中文",
    "stats_admins_only": "只有机器人的管理员可以查看 /stats",
    "stats": (
        "<b>newsrelay</b>\n订阅源：{feeds}\n订阅：{subscriptions}\n"
        "聊天：{chats}（活跃 {active}）\n已推送：{delivered}\n待发送：{pending}\n"
        "发送失败：{failed}\n出错的订阅源：{failing}"
    ),
    "stats_failing": "  {url}（{count} 次）：{error}",
    "export_caption": "{chat} 的 {count} 个订阅（OPML）",
    "import_usage": "请发送 OPML 文件并以 /import 作为说明文字，或用 /import 回复该文件",
    "import_too_big": "❌ 文件超过 {limit} KB",
    "import_bad": "❌ 无法读取 OPML 文件：{reason}",
    "import_download_failed": "❌ 未能从 Telegram 取得文件，请重新发送",
    "import_empty": "文件中没有订阅源（带 xmlUrl 的 outline）",
    "import_start": "正在导入 {count} 个订阅源…",
    "import_done": "<b>导入完成</b>：新增 {new} 个，已有 {existing} 个，失败 {failed} 个",
    "import_truncated": "只读取了前 {count} 个订阅源（本聊天的上限）",
    "admins_only": "只有群组管理员可以在这里修改订阅",
    "not_your_chat": "你只能修改自己私聊的订阅，或你管理的群组和频道的订阅",
    "button_stale": "这个按钮已失效，请重新发送命令",
    "reply_cut": "…… 另有 {count} 行未显示",
    "not_allowed": "本聊天不能使用这个机器人",
    "bad_target": "❌ {ref}：找不到这个聊天，或机器人不在其中",
    "error": "出了点问题，已记录",
    "flood_summary": "📚「{title}」一次新增了太多条目，另有 {count} 条不逐条推送。全部条目：",
    "feed_failing": (
        "⚠️「{title}」已有 {duration}无法读取：{reason}。机器人会继续尝试，恢复后会通知你。"
    ),
    "feed_recovered": "✅「{title}」已恢复，新条目会照常推送。",
    "feed_gone": "🗑「{title}」已永久停止（服务器返回 410 Gone），订阅 #{number} 已移除。",
    "duration_hours": "{count} 小时",
    "duration_days": "{count} 天",
    "slow_down": "命令太多太快了，请稍等几秒再发",
}

TEXTS: dict[str, dict[str, Template]] = {"en": EN, "zh": ZH}
