"""What a hub page may do in a browser, what it may contain, and a crawler that checks every page.

    watch = BrowserWatch()
    context = open_context(browser, watch)
    pages = crawl(context.new_page(), "http://127.0.0.1:8765/", is_internal)   # {url: <h1> text}
    watch.assert_clean("served hub")
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route

VIEWPORT = {"width": 1280, "height": 800}


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in ("127.0.0.1", "localhost")


def file_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


@dataclass
class BrowserWatch:
    """Everything the pages of one browser context did that a safe hub page never does."""

    local_files: Path | None = None  # file:// URLs are allowed under this folder only (the static export)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def is_allowed(self, url: str) -> bool:
        if url.startswith("data:") or url == "about:blank":
            return True
        if url.startswith("file:"):
            return self.local_files is not None and file_path(url).resolve().is_relative_to(self.local_files.resolve())
        return is_loopback(url)

    def problems(self) -> list[str]:
        return ([f"dialog: {text}" for text in self.dialogs]
                + [f"console error: {text}" for text in self.console_errors]
                + [f"page error: {text}" for text in self.page_errors]
                + [f"HTTP error: {text}" for text in self.failed_responses]
                + [f"request leaving {'the export' if self.local_files else 'loopback'}: {url}"
                   for url in self.requests if not self.is_allowed(url)])

    def assert_clean(self, where: str) -> None:
        problems = self.problems()
        assert not problems, f"{where}:\n" + "\n".join(problems)

    def attach(self, context: BrowserContext) -> None:
        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type} {dialog.message!r} on {dialog.page.url if dialog.page else '?'}")
            dialog.dismiss()

        def on_console(message) -> None:
            if message.type == "error":
                self.console_errors.append(f"{message.text} ({message.location.get('url') or message.page.url})")

        def on_page(page: Page) -> None:
            page.on("dialog", on_dialog)
            page.on("console", on_console)
            page.on("pageerror", lambda error: self.page_errors.append(f"{error} on {page.url}"))

        def on_response(response) -> None:
            if response.status >= 400:
                self.failed_responses.append(f"{response.status} {response.url}")

        def guard(route: Route) -> None:
            # A request that would leave is recorded (by the request event) and answered by no one.
            if self.is_allowed(route.request.url):
                route.continue_()
            else:
                route.abort("blockedbyclient")

        context.on("page", on_page)
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("response", on_response)
        context.route("**/*", guard)


def open_context(browser: Browser, watch: BrowserWatch) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT)
    watch.attach(context)
    return context


# One pass over the rendered page: its <h1>, its links, and anything no hub page may contain whatever the
# models said (live markup from a reply, a javascript: URL, a foreign style sheet, a layout that a long
# unbroken reply pushed wider than the window, a right-to-left override reaching past model output).
INSPECT_JS = r"""() => {
  const problems = [];
  const h1 = document.querySelector('h1');
  if (!h1) problems.push('no <h1>');
  for (const el of document.querySelectorAll('script, iframe, frame, object, embed, img, style, base, meta[http-equiv]'))
    problems.push(`a live <${el.tagName.toLowerCase()}> element`);
  for (const el of document.querySelectorAll('*'))
    for (const attribute of el.attributes) {
      if (attribute.name.startsWith('on')) problems.push(`<${el.tagName.toLowerCase()}> with ${attribute.name}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attribute.name)
          && attribute.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase().startsWith('javascript:'))
        problems.push(`a javascript: URL in <${el.tagName.toLowerCase()} ${attribute.name}>`);
    }
  for (const sheet of document.styleSheets)
    if (!sheet.href || !sheet.href.endsWith('/static/style.css')) problems.push(`a style sheet from ${sheet.href || 'the page'}`);
  const background = getComputedStyle(document.body).backgroundImage;
  if (background !== 'none') problems.push(`body background ${background}`);
  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) problems.push(`the page is ${width}px wide in a ${window.innerWidth}px window`);
  const main = document.querySelector('main');
  if (main && main.scrollWidth > main.clientWidth + 1)
    problems.push(`content ${main.scrollWidth}px wide sticks out of the ${main.clientWidth}px main column`);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    if (node.data.includes('\u202e') && !node.parentElement.closest('pre, td'))
      problems.push(`a right-to-left override outside model output, in <${node.parentElement.tagName.toLowerCase()}>`);
  // getAttribute, not .href: an SVG <a> (an attack tree's box) has an SVGAnimatedString there.
  const links = [...document.querySelectorAll('a[href]')]
    .map(a => new URL(a.getAttribute('href'), document.baseURI).href.split('#')[0]);
  return {h1: h1 ? h1.innerText : null, problems, links: [...new Set(links)]};
}"""


def inspect(page: Page) -> dict:
    """{h1, problems, links} of the page now shown; see INSPECT_JS."""
    return page.evaluate(INSPECT_JS)


def crawl(page: Page, start: str, is_internal, *, max_pages: int = 400) -> dict[str, str]:
    """Open every page reachable from `start` by internal links, breadth first; returns {url: its <h1>}.

    Each page must load with status 200 (a file:// link must name an existing file) and pass `inspect`.
    """
    queue, seen, visited = deque([start]), {start}, {}
    while queue:
        url = queue.popleft()
        assert len(visited) < max_pages, f"more than {max_pages} pages reachable from {start}"
        if url.startswith("file:"):
            assert file_path(url).is_file(), f"broken link to {url}"
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url}: status {response and response.status}"
        report = inspect(page)
        assert not report["problems"], f"{url}: " + "; ".join(report["problems"])
        visited[url] = report["h1"]
        for link in report["links"]:
            if link not in seen and is_internal(link):
                seen.add(link)
                queue.append(link)
    return visited


TABLE_ROWS_JS = """table => {
  const headers = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim().split('\\n')[0]);
  return [...table.querySelectorAll('tbody tr')].map(
    row => Object.fromEntries([...row.children].map((cell, i) => [headers[i] ?? i, cell.innerText.trim()])));
}"""


def table_rows(page: Page, header: str) -> list[dict]:
    """The rows of the table in <main> with a column named `header`, each as {column: cell text}."""
    table = page.locator("main table").filter(has=page.locator(f"thead th:text-is('{header}')")).first
    return table.evaluate(TABLE_ROWS_JS)
