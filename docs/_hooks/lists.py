"""MkDocs hook: a list may start right after a paragraph line, as on GitHub and in ``help()``.

The env and algorithm docstrings are written to read well as plain text, where a list follows its
introducing line directly ("Per agent, MultiDiscrete(...):" then "- 0, 1: force..."). Python-Markdown
needs a blank line there and would otherwise print the items as one paragraph; this preprocessor
inserts it. It runs after fenced code is set aside, so code blocks are untouched, and only for lists
at the left margin.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

LIST_ITEM = re.compile(r"^(?:[-*+] |\d+\. )")


class _BlankLineBeforeLists(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            previous = out[-1] if out else ""
            if (LIST_ITEM.match(line) and previous.strip() and not LIST_ITEM.match(previous)
                    and not previous[:1].isspace() and not previous.startswith("|")):
                out.append("")
            out.append(line)
        return out


class ListsAfterParagraphs(Extension):
    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(_BlankLineBeforeLists(md), "blank_line_before_lists", 15)


@event_priority(100)  # before mkdocstrings reads the extensions for the docstrings it renders
def on_config(config):
    config.markdown_extensions.append(ListsAfterParagraphs())
    return config
