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
        "/export — subscriptions with their filters and options as an OPML file (a backup)\n"
        "/import — as the caption of (or in reply to) an OPML file: subscribe to its feeds "
        "and restore what an /export saved\n"
        "/lang en|zh — reply language of this chat\n"
        "/tz Area/City — time zone of the times shown, e.g. <code>/tz Asia/Shanghai</code>\n"
        "/help — this text\n\n"
        "Filters: <code>乌克兰 NATO</code> either word, <code>+word</code> required, "
        '<code>-word</code> excluded, <code>"a phrase"</code>, <code>title:word</code>, '
        "<code>/regex/</code>, and <code>AND</code>, <code>OR</code>, <code>NOT</code> "
        "with parentheses: <code>(乌克兰 OR Ukraine) AND NOT 体育</code>."
    ),
    "help_member": (
        "<b>newsrelay</b> relays news feeds (RSS, Atom, JSON Feed) to this chat, "
        "each new entry once.\n\n"
        "/list — this chat's subscriptions\n"
        "/tz — the time zone of the times shown\n"
        "/help — this text\n\n"
        "Only the group's administrators can change its subscriptions and settings."
    ),
    "help_admin": "For the bot's administrators:\n/stats — the bot's numbers",
    "menu_sub": "subscribe to feeds",
    "menu_unsub": "unsubscribe",
    "menu_list": "subscriptions",
    "menu_filter": "keyword filter",
    "menu_set": "display options",
    "menu_pause": "stop deliveries, keep the subscription",
    "menu_resume": "restart deliveries",
    "menu_export": "subscriptions as OPML",
    "menu_import": "subscribe to the feeds of an OPML file",
    "menu_lang": "reply language (en, zh)",
    "menu_tz": "time zone of the times shown",
    "menu_help": "how to use the bot",
    "menu_stats": "the bot's numbers (bot admins only)",
    "sub_usage": "Usage: /sub URL [URL…]",
    "sub_ok": "✅ Subscribed to <b>{title}</b> as #{number}",
    "sub_exists": "Already subscribed to <b>{title}</b> as #{number}",
    "sub_failed": "❌ {url}: {reason}",
    "sub_limit": "this chat already has the maximum of {limit} subscriptions",
    "sub_over_limit": Plural(
        "❌ {count} more address was not taken: this chat has reached its maximum "
        "of {limit} subscriptions",
        "❌ {count} more addresses were not taken: this chat has reached its maximum "
        "of {limit} subscriptions",
    ),
    "sub_progress": "⏳ Reading the feeds: {done}/{count}…",
    "sub_progress_done": Plural(
        "✅ The address was read; the result follows",
        "✅ All {count} addresses were read; the results follow",
    ),
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
    "unsub_all_confirm": Plural(
        "Remove the only subscription, with its filter?",
        "Remove all {count} subscriptions, with their filters?",
    ),
    "unsub_all_yes": Plural("Yes, remove it", "Yes, remove all {count}"),
    "unsub_all_no": "Cancel",
    "unsub_all_cancelled": "Nothing was removed",
    "confirm_stale": "This question is no longer open; send /unsub all again",
    "unknown_sub": "No subscription {what} in this chat; /list shows them",
    "list_empty": "No subscriptions yet. Send /sub URL to add one.",
    "list_head": "<b>Subscriptions ({count})</b>",
    "list_page": "· page {page} of {pages}",
    "list_item": "#{number} <b>{title}</b>",
    "list_url": "   {url}",
    "list_chat_filter": "Chat filter: <code>{expr}</code>",
    "list_filter": "   filter: <code>{expr}</code>",
    "list_paused": "   ⏸ paused",
    "list_paused_since": "   ⏸ paused since {time}",
    "list_error": "   ⚠️ {error}",
    "filter_usage": "Usage: /filter ID|all [EXPR|off]",
    "filter_set_chat": "✅ New filter for the whole chat:\n{words}",
    "filter_set_sub": "✅ New filter for #{number}:\n{words}",
    "filter_show_chat": "Filter for the whole chat: <code>{expr}</code>\n{words}",
    "filter_show_sub": "Filter for #{number}: <code>{expr}</code>\n{words}",
    "filter_cleared_chat": "Filter for the whole chat cleared: every entry is delivered",
    "filter_cleared_chat_subs": Plural(
        "Filter for the whole chat cleared; {subs} keeps its own filter",
        "Filter for the whole chat cleared; {subs} keep their own filters",
    ),
    "filter_cleared_sub": "Filter for #{number} cleared: every entry is delivered",
    "filter_cleared_sub_chat": (
        "Filter for #{number} cleared; the whole chat's filter still applies (/filter all shows it)"
    ),
    "filter_none_chat": "The whole chat has no filter: every entry is delivered",
    "filter_none_chat_subs": Plural(
        "The whole chat has no filter; {subs} has its own (/filter {first} shows it)",
        "The whole chat has no filter; {subs} have their own (/filter {first} shows one)",
    ),
    "filter_none_sub": "#{number} has no filter: every entry is delivered",
    "filter_none_sub_chat": (
        "#{number} has no filter of its own; the whole chat's filter applies (/filter all shows it)"
    ),
    "filter_bad": "❌ Bad filter at character {position}: {reason}",
    "filter_preview_head": "Latest entries of <b>{title}</b>:",
    "filter_preview_failed": "(could not preview: {reason})",
    "list_join": ", ",
    "filter_error_unclosed_quote": "this quote is never closed",
    "filter_error_unclosed_regex": "this /regex/ has no closing slash",
    "filter_error_missing_term": "nothing follows “{after}”",
    "filter_error_empty_regex": "empty /regex/",
    "filter_error_empty_phrase": "empty quotes",
    "filter_error_text_after_regex": "a space must follow the closing / of a regex",
    "filter_error_empty_term": "this term has nothing to match (only invisible characters)",
    "filter_error_bad_character": "a character no text may hold",
    "filter_error_regex_too_long": "a regex may have at most {limit} characters",
    "filter_error_too_long": "a filter may have at most {limit} characters",
    "filter_error_too_many_terms": "a filter may have at most {limit} terms",
    "filter_error_too_deep": "parentheses and NOT nested more than {limit} deep",
    "filter_error_unknown_field": (
        "unknown field “{field}”; the fields are title, content, author and tag "
        "(quote the term to search for it as written)"
    ),
    "filter_error_unclosed_paren": "this parenthesis is never closed",
    "filter_error_unopened_paren": "this closing parenthesis has no opening one",
    "filter_error_empty_group": "empty parentheses",
    "filter_error_dangling_operator": "{operator} needs a term on each side",
    "filter_error_dangling_not": "{operator} needs a term after it",
    "filter_error_bad_regex": "bad regex: {problem}",
    "filter_regex_missing_paren": "a “(” is never closed",
    "filter_regex_unexpected_paren": "a “)” has no opening “(”",
    "filter_regex_missing_bracket": "a “[” is never closed",
    "filter_regex_repetition_size": "the count {fragment} is not allowed (at most 1000)",
    "filter_regex_repetition_operator": "“{fragment}” has nothing to repeat",
    "filter_regex_bad_class": "“{fragment}” is not a valid character class",
    "filter_regex_bad_escape": "“{fragment}” is not a supported escape",
    "filter_regex_trailing_backslash": "it ends in a lone “\\”",
    "filter_regex_unsupported_group": (
        "“{fragment}”: lookarounds, backreferences and such groups are not supported"
    ),
    "filter_regex_too_large": "the pattern is too large",
    "filter_regex_other": "the pattern is not valid",
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
    "set_usage": "Usage: /set ID, or /set ID interval 30m (or default)",
    "set_every": "Checked every {every}; /set {number} interval 30m changes it",
    "set_interval_ok": (
        "🕑 #{number} <b>{title}</b> is checked every {every} from now on"
        " (less often only when the feed itself asks for it)"
    ),
    "set_interval_default": (
        "🕑 #{number} <b>{title}</b> is checked at the default interval again ({every})"
    ),
    "set_interval_bad": "⚠️ Not an interval: {what}. Examples: 30m, 2h, 1d, or default",
    "set_interval_low": "⚠️ The shortest interval on this bot is {every}",
    "set_interval_high": "⚠️ The longest interval you can ask for is {every}",
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
    "tz_current": (
        "Times in this chat are shown in {zone} (now {time}); "
        "change it with /tz Area/City, e.g. <code>/tz Asia/Shanghai</code>"
    ),
    "tz_set": "Times in this chat are now shown in {zone} (now {time})",
    "tz_bad": (
        "❌ {name} is no time zone; use an Area/City name such as "
        "<code>/tz Asia/Shanghai</code> or <code>/tz Europe/Berlin</code>"
    ),
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
    "opml_not_opml": "this is not an OPML file (its root element is not “opml”)",
    "opml_declaration": "DOCTYPE and entity declarations are not accepted in OPML files",
    "opml_encoding": "the file declares an encoding that is not known",
    "opml_not_well_formed": "it is not well-formed XML",
    "opml_other": "{detail}",
    "import_notes_head": "The file is not quite valid OPML; it was read leniently:",
    "import_note_at": "line {line} ({name})",
    "import_note_line": "line {line}",
    "import_note_ampersand": "{where}: an unescaped “&amp;” was read as a plain character",
    "import_note_no_feed_address": "{where}: left out, it has no feed address (xmlUrl)",
    "import_note_not_well_formed": (
        "The file is not well-formed XML; its outlines were read one by one"
    ),
    "import_notes_more": Plural("… {count} more note", "… {count} more notes"),
    "restore_done": Plural(
        "⚙️ Settings from the file (filter, pause, display options) restored for "
        "{count} subscription ({paused} paused)",
        "⚙️ Settings from the file (filter, pause, display options) restored for "
        "{count} subscriptions ({paused} paused)",
    ),
    "restore_chat_filter": "⚙️ Chat filter restored: <code>{expr}</code>",
    "restore_time_zone": "⚙️ Time zone restored: {zone}",
    "restore_time_zone_bad": "“{value}” is not a time zone name such as Asia/Shanghai",
    "restore_refused": (
        "⚠️ #{number} <b>{title}</b>: <code>{attribute}</code> not restored: {reason}"
    ),
    "restore_chat_refused": "⚠️ Chat setting <code>{attribute}</code> not restored: {reason}",
    "restore_bad_value": "“{value}” is not one of {expected}",
    "restore_separator": ", ",
    "restore_interval_bad": "“{value}” is not an interval such as 3600, 30m, 2h or default",
    "restore_interval_bounds": "{value} is not between {low} and {high}",
    "restore_more": Plural(
        "… {count} more value not restored", "… {count} more values not restored"
    ),
    "restore_filter_bad": "a bad filter at character {position}: {reason}",
    "admins_only": "Only chat administrators may change subscriptions and settings here",
    "not_your_chat": (
        "You may change only your own private chat's subscriptions, "
        "or those of a group or channel you administer"
    ),
    "not_your_chat_read": (
        "You may see only your own private chat's subscriptions, "
        "or those of a group or channel you are in"
    ),
    "members_only_read": "Only members of that chat may see its subscriptions",
    "button_stale": "This button no longer works; send the command again",
    "offer_one": "Subscribe this chat to {url}?",
    "offer_many": Plural(
        "Subscribe this chat to this address?", "Subscribe this chat to these {count} addresses?"
    ),
    "offer_button": Plural("➕ Subscribe", "➕ Subscribe to all {count}"),
    "hint_text": "Send me a feed's address to subscribe to it, or /help for the commands",
    "hint_group": "In a group I answer commands only; /help lists them",
    "hint_command": "There is no command {command}; /help lists the commands",
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
        "/export — 把订阅连同过滤器和显示选项导出为 OPML 文件（可作备份）\n"
        "/import — 作为 OPML 文件的说明文字（或回复该文件）发送：订阅其中的订阅源，"
        "并恢复 /export 保存的设置\n"
        "/lang en|zh — 本聊天的回复语言\n"
        "/tz 地区/城市 — 显示时间所用的时区，例如 <code>/tz Asia/Shanghai</code>\n"
        "/help — 本说明\n\n"
        "过滤：<code>乌克兰 NATO</code> 任一匹配，<code>+词</code> 必须包含，"
        "<code>-词</code> 排除，"
        '<code>"短语"</code>，<code>标题:词</code>，<code>/正则/</code>，'
        "以及 <code>AND</code>、<code>OR</code>、<code>NOT</code> 和括号："
        "<code>(乌克兰 OR Ukraine) AND NOT 体育</code>。"
    ),
    "help_member": (
        "<b>newsrelay</b> 把新闻订阅源（RSS、Atom、JSON Feed）的每条新内容推送到本聊天，"
        "每条只推送一次。\n\n"
        "/list — 本聊天的订阅\n"
        "/tz — 显示时间所用的时区\n"
        "/help — 本说明\n\n"
        "只有群组管理员可以修改本群的订阅和设置。"
    ),
    "help_admin": "机器人管理员专用：\n/stats — 机器人的统计数据",
    "menu_sub": "订阅",
    "menu_unsub": "取消订阅",
    "menu_list": "订阅列表",
    "menu_filter": "关键词过滤",
    "menu_set": "显示选项",
    "menu_pause": "暂停推送，保留订阅",
    "menu_resume": "恢复推送",
    "menu_export": "以 OPML 导出订阅",
    "menu_import": "订阅 OPML 文件中的订阅源",
    "menu_lang": "回复语言（en、zh）",
    "menu_tz": "显示时间所用的时区",
    "menu_help": "使用说明",
    "menu_stats": "机器人的统计数据（仅限机器人管理员）",
    "sub_usage": "用法：/sub 网址 [网址…]",
    "sub_ok": "✅ 已订阅 <b>{title}</b>，编号 #{number}",
    "sub_exists": "已经订阅过 <b>{title}</b>，编号 #{number}",
    "sub_failed": "❌ {url}：{reason}",
    "sub_limit": "本聊天的订阅已达上限 {limit} 个",
    "sub_over_limit": "❌ 另有 {count} 个网址未能订阅：本聊天的订阅已达上限 {limit} 个",
    "sub_progress": "⏳ 正在读取订阅源：{done}/{count}……",
    "sub_progress_done": "✅ {count} 个网址已全部读取，结果见下一条消息",
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
    "unsub_all_confirm": "要删除全部 {count} 个订阅及其过滤器吗？",
    "unsub_all_yes": "是，全部删除",
    "unsub_all_no": "取消",
    "unsub_all_cancelled": "没有删除任何订阅",
    "confirm_stale": "这个确认已失效，请重新发送 /unsub all",
    "unknown_sub": "本聊天没有订阅 {what}；/list 可查看全部",
    "list_empty": "还没有订阅。发送 /sub 网址 来添加。",
    "list_head": "<b>订阅（{count}）</b>",
    "list_page": "· 第 {page}/{pages} 页",
    "list_item": "#{number} <b>{title}</b>",
    "list_url": "   {url}",
    "list_chat_filter": "全聊天过滤器：<code>{expr}</code>",
    "list_filter": "   过滤器：<code>{expr}</code>",
    "list_paused": "   ⏸ 已暂停",
    "list_paused_since": "   ⏸ 自 {time} 起暂停",
    "list_error": "   ⚠️ {error}",
    "filter_usage": "用法：/filter 编号|all [表达式|off]",
    "filter_set_chat": "✅ 整个聊天的新过滤器：\n{words}",
    "filter_set_sub": "✅ #{number} 的新过滤器：\n{words}",
    "filter_show_chat": "整个聊天的过滤器：<code>{expr}</code>\n{words}",
    "filter_show_sub": "#{number} 的过滤器：<code>{expr}</code>\n{words}",
    "filter_cleared_chat": "已清除整个聊天的过滤器：所有内容都会推送",
    "filter_cleared_chat_subs": "已清除整个聊天的过滤器；{subs} 仍有自己的过滤器",
    "filter_cleared_sub": "已清除 #{number} 的过滤器：所有内容都会推送",
    "filter_cleared_sub_chat": (
        "已清除 #{number} 的过滤器；整个聊天的过滤器仍然有效（/filter all 可查看）"
    ),
    "filter_none_chat": "整个聊天没有过滤器：所有内容都会推送",
    "filter_none_chat_subs": (
        "整个聊天没有过滤器；{subs} 有自己的过滤器（/filter {first} 可查看）"
    ),
    "filter_none_sub": "#{number} 没有过滤器：所有内容都会推送",
    "filter_none_sub_chat": (
        "#{number} 没有自己的过滤器；整个聊天的过滤器对它有效（/filter all 可查看）"
    ),
    "filter_bad": "❌ 过滤器第 {position} 个字符处有误：{reason}",
    "filter_preview_head": "<b>{title}</b> 的最新内容：",
    "filter_preview_failed": "（无法预览：{reason}）",
    "list_join": "、",
    "filter_error_unclosed_quote": "引号没有闭合",
    "filter_error_unclosed_regex": "正则表达式缺少结尾的 /",
    "filter_error_missing_term": "“{after}”后面缺少关键词",
    "filter_error_empty_regex": "正则表达式是空的",
    "filter_error_empty_phrase": "引号里是空的",
    "filter_error_text_after_regex": "正则表达式结尾的 / 后面要有空格",
    "filter_error_empty_term": "这个关键词里没有可匹配的字符（只有不可见字符）",
    "filter_error_bad_character": "含有无效字符",
    "filter_error_regex_too_long": "正则表达式最多 {limit} 个字符",
    "filter_error_too_long": "过滤器最多 {limit} 个字符",
    "filter_error_too_many_terms": "过滤器最多 {limit} 个关键词",
    "filter_error_too_deep": "括号和 NOT 的嵌套超过 {limit} 层",
    "filter_error_unknown_field": (
        "没有“{field}”这个字段；可用字段为 标题、正文、作者、标签（要按原样搜索这个词，请加引号）"
    ),
    "filter_error_unclosed_paren": "这个括号没有闭合",
    "filter_error_unopened_paren": "这个右括号没有对应的左括号",
    "filter_error_empty_group": "括号里是空的",
    "filter_error_dangling_operator": "{operator} 两边都要有关键词",
    "filter_error_dangling_not": "{operator} 后面要有关键词",
    "filter_error_bad_regex": "正则表达式有误：{problem}",
    "filter_regex_missing_paren": "“(” 没有闭合",
    "filter_regex_unexpected_paren": "“)” 没有对应的 “(”",
    "filter_regex_missing_bracket": "“[” 没有闭合",
    "filter_regex_repetition_size": "重复次数 {fragment} 无效（最多 1000）",
    "filter_regex_repetition_operator": "“{fragment}” 前面没有可重复的内容",
    "filter_regex_bad_class": "“{fragment}” 不是有效的字符类",
    "filter_regex_bad_escape": "不支持转义 “{fragment}”",
    "filter_regex_trailing_backslash": "以单独的 “\\” 结尾",
    "filter_regex_unsupported_group": "“{fragment}”：不支持环视、反向引用这类写法",
    "filter_regex_too_large": "正则表达式太大",
    "filter_regex_other": "正则表达式无效",
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
    "set_usage": "用法：/set 编号，或 /set 编号 interval 30m（或 default）",
    "set_every": "每 {every}检查一次；/set {number} interval 30m 可修改",
    "set_interval_ok": (
        "🕑 #{number} <b>{title}</b> 今后每 {every}检查一次（仅当订阅源自身要求时才会更少）"
    ),
    "set_interval_default": "🕑 #{number} <b>{title}</b> 已恢复默认检查间隔（{every}）",
    "set_interval_bad": "⚠️ 不是有效的间隔：{what}。例如：30m、2h、1d、30分钟，或 default",
    "set_interval_low": "⚠️ 本机器人允许的最短间隔为 {every}",
    "set_interval_high": "⚠️ 可设置的最长间隔为 {every}",
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
    "tz_current": (
        "本聊天的时间按 {zone} 显示（现在是 {time}）；"
        "用 /tz 地区/城市 更改，例如 <code>/tz Asia/Shanghai</code>"
    ),
    "tz_set": "本聊天的时间现在按 {zone} 显示（现在是 {time}）",
    "tz_bad": (
        "❌ {name} 不是时区；请用“地区/城市”格式，例如 "
        "<code>/tz Asia/Shanghai</code> 或 <code>/tz Europe/Berlin</code>"
    ),
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
    "opml_not_opml": "这不是 OPML 文件（根元素不是“opml”）",
    "opml_declaration": "OPML 文件中不接受文档类型（DOCTYPE）和实体声明",
    "opml_encoding": "文件声明的编码无法识别",
    "opml_not_well_formed": "这不是格式正确的 XML",
    "opml_other": "文件无法按 OPML 读取",
    "import_notes_head": "文件不完全符合 OPML 规范，已按宽松方式读取：",
    "import_note_at": "第 {line} 行（{name}）",
    "import_note_line": "第 {line} 行",
    "import_note_ampersand": "{where}：未转义的“&amp;”按普通字符读取",
    "import_note_no_feed_address": "{where}：没有订阅源地址（xmlUrl），已略过",
    "import_note_not_well_formed": "文件不是格式正确的 XML，已逐条读取其中的订阅源",
    "import_notes_more": "…… 另有 {count} 条说明",
    "restore_done": (
        "⚙️ 已按文件恢复 {count} 个订阅的设置（过滤器、暂停状态、显示选项），其中 {paused} 个已暂停"
    ),
    "restore_chat_filter": "⚙️ 已恢复全聊天过滤器：<code>{expr}</code>",
    "restore_time_zone": "⚙️ 已恢复时区：{zone}",
    "restore_time_zone_bad": "“{value}”不是时区名称（例如 Asia/Shanghai）",
    "restore_refused": "⚠️ #{number} <b>{title}</b>：未恢复 <code>{attribute}</code>：{reason}",
    "restore_chat_refused": "⚠️ 未恢复本聊天的设置 <code>{attribute}</code>：{reason}",
    "restore_bad_value": "“{value}”不是 {expected} 之一",
    "restore_separator": "、",
    "restore_interval_bad": "“{value}”不是有效的间隔（例如 3600、30m、2h 或 default）",
    "restore_interval_bounds": "{value}不在 {low}到 {high}之间",
    "restore_more": "…… 另有 {count} 个值未恢复",
    "restore_filter_bad": "过滤器第 {position} 个字符处有误：{reason}",
    "admins_only": "只有群组管理员可以在这里修改订阅和设置",
    "not_your_chat": "你只能修改自己私聊的订阅，或你管理的群组和频道的订阅",
    "not_your_chat_read": "你只能查看自己私聊的订阅，或你所在的群组和频道的订阅",
    "members_only_read": "只有该聊天的成员可以查看它的订阅",
    "button_stale": "这个按钮已失效，请重新发送命令",
    "offer_one": "要为本聊天订阅 {url} 吗？",
    "offer_many": "要为本聊天订阅这 {count} 个网址吗？",
    "offer_button": "➕ 订阅",
    "hint_text": "发送订阅源的网址即可订阅；发送 /help 查看全部命令",
    "hint_group": "在群组中我只回应命令；发送 /help 查看全部命令",
    "hint_command": "没有 {command} 这个命令；发送 /help 查看全部命令",
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
