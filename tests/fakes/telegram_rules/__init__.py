"""What Telegram accepts in a message, as pure functions the fake server and tests share.

Rules, following the Bot API documentation and TDLib's HTML parser:

- HTML parse mode knows only ``b strong i em u ins s strike del``, ``span
  class="tg-spoiler"``, ``tg-spoiler``, ``a href``, ``tg-emoji emoji-id``, ``code``,
  ``pre`` (an inner ``code class="language-x"`` names the language) and ``blockquote``
  (optionally ``expandable``). Errors name a byte offset in the UTF-8 input.
- Named character references are only ``&lt; &gt; &amp; &quot;`` (the ``;`` is
  optional); numeric ones decode unless out of range; anything else stays literal.
- Entity offsets and lengths count UTF-16 code units and must lie inside the text
  without splitting a surrogate pair; at most 100 entities per message.
- Text holds 1-4096 and a caption 0-1024 UTF-16 units (Telegram counts characters,
  so counting UTF-16 units is the strict, safe side).
- A text link's URL must pass TDLib's ``LinkManager::check_link`` (see ``check_link``):
  http or https (a URL without ``scheme://`` is read as http) with a host that has a
  dot or is an IPv6 literal, or a ``tg:``/``ton:``/``tonsite:`` deep link with a
  plain host. An explicit ``text_link`` entity that fails is refused with 400
  ``Bad Request: entity URL '<url>' is invalid: <reason>``, e.g. ``Wrong HTTP URL``
  for ``http://localhost/x``; an HTML ``<a href>`` that fails is dropped silently and
  its text kept. An accepted URL is stored normalised (``e.org`` → ``http://e.org/``).

  Sources, tdlib/td at 022d602: ``check_link`` and ``check_link_impl`` in
  td/telegram/LinkManager.cpp, ``parse_url`` in tdutils/td/utils/HttpUrl.cpp,
  ``get_message_entities`` in td/telegram/MessageEntity.cpp (``"Entity " +
  error``; its HTML parser calls ``get_checked_link`` and skips a failing link);
  tdlib/telegram-bot-api at 01a3679, ``Client::fail_query_with_error`` (adds ``Bad
  Request: `` and lower-cases the first letter). Field reports with this wording:
  littlebearapps/untether#157 (``entity URL '/Users/…' is invalid: URL host is
  empty``); yagop/node-telegram-bot-api#295 (a ``mailto:`` link shown as http).
"""

from tests.fakes.telegram_rules.base import (
    ENTITY_TYPES,
    MAX_CAPTION,
    MAX_ENTITIES,
    MAX_TEXT,
    Rejected,
    utf16_len,
)
from tests.fakes.telegram_rules.entities import (
    check_caption,
    check_entities,
    check_text,
    nesting_problem,
)
from tests.fakes.telegram_rules.html import parse_html
from tests.fakes.telegram_rules.links import LinkError, check_link, normalize_link

__all__ = [
    "ENTITY_TYPES",
    "MAX_CAPTION",
    "MAX_ENTITIES",
    "MAX_TEXT",
    "LinkError",
    "Rejected",
    "check_caption",
    "check_entities",
    "check_link",
    "check_text",
    "nesting_problem",
    "normalize_link",
    "parse_html",
    "utf16_len",
]
