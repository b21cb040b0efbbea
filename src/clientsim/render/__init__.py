"""Rendering results for people: the text report, the self-contained HTML report and
the HTML that notebooks show for conversations, results and runs.

Renderers read finished records and experiment folders; they never run anything.
"""

from clientsim.render.html import REPORT_FILE, render_html_report, write_html_report
from clientsim.render.text import render_text_report


__all__ = [
    "REPORT_FILE",
    "render_html_report",
    "render_text_report",
    "write_html_report",
]
