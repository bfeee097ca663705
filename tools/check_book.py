"""Check the built book as a reader would see it: links, images, maths, no network, no console error.

Usage::

    python tools/check_book.py --static book/_build/html            # the HTML files only (CI, after `make book`)
    python tools/check_book.py --screenshots DIR book/_build/html   # also in headless Chromium (`make check-book`)

The static check reads every page and fails on an internal link to a missing page or anchor, a missing image, script
or stylesheet, a resource that would be fetched from outside the book, and ``$...$`` left as text outside code
(maths that the Markdown parser did not turn into maths: any ``$`` in the text). The browser check serves the book
on 127.0.0.1, opens every page in Debian's Chromium (through Playwright) with every request outside the book
refused, waits for MathJax, and fails on a console error, a failed request, an image that did not load, maths that
MathJax did not typeset, raw ``$...$`` in the visible text, and on what a reader could not read: a figure shown at
less than 80 % of its width (its text shrunk with it), a block wider than the column, a console warning, and output
noise (machine paths, object reprs, progress-bar residue, tracebacks: ``tools/check_outputs.py``'s patterns). It
saves a full-page screenshot of every page into the screenshots folder.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_outputs import NOISE  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RAW_MATH = re.compile(r".{0,30}\$.{0,30}")  # a dollar outside code and maths: maths the parser did not see
SKIP_TEXT_IN = {"script", "style", "pre", "code", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class PageParser(HTMLParser):
    """Collects a page's ids, links, resources and the text outside code and maths."""

    def __init__(self) -> None:
        """Start with nothing collected."""
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []
        self.raw_math: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, inside code or maths)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record ids, links and resources; track whether text here is code or maths."""
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag in ("img", "script") and values.get("src"):
            self.resources.append(values["src"])
        if tag == "link" and values.get("href") and values.get("rel") in ("stylesheet", "preload", "icon"):
            self.resources.append(values["href"])
        if tag in VOID:
            return
        classes = values.get("class", "").split()
        hidden = tag in SKIP_TEXT_IN or "math" in classes or "highlight" in " ".join(classes)
        self._stack.append((tag, hidden or (self._stack[-1][1] if self._stack else False)))

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost open element of this name."""
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        """Look for ``$...$`` in text that is neither code nor maths."""
        if self._stack and self._stack[-1][1]:
            return
        self.raw_math += RAW_MATH.findall(data)


def parse(path: Path) -> PageParser:
    """Parse one HTML page.

    Args:
        path: the page.

    Returns:
        The filled parser.
    """
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages_of(root: Path) -> list[Path]:
    """Every page of the book (not the files under ``_static``/``_sources``/``_images``)."""
    return sorted(p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_"))


def check_static(root: Path) -> list[str]:
    """The static check of every page.

    Args:
        root: the built book (``book/_build/html``).

    Returns:
        One line per problem (empty: none).
    """
    problems = []
    pages = pages_of(root)
    if not (root / "index.html").exists():
        return [f"{root}: no index.html (run `make book`)"]
    parsed = {page: parse(page) for page in pages}
    for page, parser in parsed.items():
        name = page.relative_to(root)
        for target in parser.resources:
            split = urlsplit(target)
            if split.scheme or target.startswith("//"):
                if split.scheme != "data":
                    problems.append(f"{name}: loads {target} from outside the book")
                continue
            if not (page.parent / unquote(split.path)).resolve().exists():
                problems.append(f"{name}: missing resource {target}")
        for link in parser.links:
            split = urlsplit(link)
            if split.scheme or link.startswith(("//", "mailto:")):
                continue
            target = (page.parent / unquote(split.path)).resolve() if split.path else page.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{name}: broken link {link}")
                continue
            if split.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(split.fragment) not in ids:
                    problems.append(f"{name}: broken anchor {link}")
        problems += [f"{name}: raw maths {text!r}" for text in parser.raw_math]
    return problems


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 (a free port) for the duration of the block.

    Args:
        root: the folder.

    Yields:
        The base URL, ending in ``/``.
    """
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log every request."""

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


# Runs in the page after MathJax is done: maths not typeset, images not loaded, and $...$ left in visible text.
PAGE_PROBLEMS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const problems = [];
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push('image did not load: ' + img.getAttribute('src'));
  }
  for (const el of document.querySelectorAll('span.math, div.math')) {
    if (!el.querySelector('mjx-container')) problems.push('maths not typeset: ' + el.textContent.slice(0, 60));
  }
  const skip = 'script, style, pre, code, textarea, mjx-container, .math, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = /.{0,30}\$.{0,30}/;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && node.parentElement.closest(skip)) continue;
    const found = node.textContent.match(raw);
    if (found) problems.push('raw maths in the text: ' + found[0]);
  }
  // what a reader cannot read: a figure shrunk below 80 % of its width (its text with it), a block that needs a
  // horizontal scroll bar in the column
  for (const img of document.querySelectorAll('.cell_output img')) {
    if (img.naturalWidth > 0 && img.clientWidth < 0.8 * img.naturalWidth)
      problems.push(`figure shown at ${Math.round(100 * img.clientWidth / img.naturalWidth)} % of its width: `
                    + img.getAttribute('src'));
  }
  for (const block of document.querySelectorAll('article pre, article table, .cell_output > div')) {
    if (block.scrollWidth > block.clientWidth + 2)
      problems.push(`block wider than the column (${block.scrollWidth} > ${block.clientWidth} px): `
                    + block.textContent.trim().slice(0, 60));
  }
  const outputs = [...document.querySelectorAll('.cell_output')].map(el => el.innerText);
  return {problems, outputs, maths: document.querySelectorAll('mjx-container').length,
          widgets: document.querySelectorAll('.jupyter-widgets').length};
}
"""


def check_browser(root: Path, screenshots: Path) -> list[str]:
    """Open every page in headless Chromium with the network cut off; save screenshots.

    Args:
        root: the built book.
        screenshots: folder for the PNG screenshots (created).

    Returns:
        One line per problem (empty: none).
    """
    from playwright.sync_api import sync_playwright  # lazy: only the browser check needs it

    screenshots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    pages = pages_of(root)
    with serve(root) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        for page_path in pages:
            name = str(page_path.relative_to(root))
            page = context.new_page()
            found = _watch(page, base)
            page.goto(base + name, wait_until="load")
            report = page.evaluate(PAGE_PROBLEMS)
            page.wait_for_timeout(300)  # late console messages (widgets render after load)
            found += report["problems"]
            found += [
                f"output shows {what}: {match.group(0)[:60]!r}"
                for text in report["outputs"] for what, pattern in NOISE.items() if (match := pattern.search(text))
            ]  # fmt: skip
            print(f"{name}: {report['maths']} maths, {report['widgets']} widgets, {len(found)} problems")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=screenshots / f"{page_path.stem}.png", full_page=True)
            problems += [f"{name}: {text}" for text in found]
            page.close()
        browser.close()
    return problems


def _watch(page: object, base: str) -> list[str]:
    """Refuse every request that leaves the book and collect what goes wrong on a page.

    Args:
        page: a Playwright page, before it is opened.
        base: the book's URL.

    Returns:
        The list that the page's problems are appended to while it is open.
    """
    found: list[str] = []

    def console(message: object) -> None:
        if message.type in ("error", "warning"):
            found.append(f"console {message.type}: {message.text}")

    def response(answer: object) -> None:
        if answer.status >= 400:
            found.append(f"HTTP {answer.status}: {answer.url}")

    page.route("**/*", lambda route: _only_local(route, base, found))
    page.on("console", console)
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: found.append(f"request failed: {request.url}"))
    page.on("response", response)
    return found


def _only_local(route: object, base: str, found: list[str]) -> None:
    """Let a request to the book through; refuse (and report) any other."""
    url = route.request.url
    if url.startswith(base) or url.startswith("data:"):
        route.continue_()
    else:
        found.append(f"request outside the book refused: {url}")
        route.abort()


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module's docstring).

    Args:
        argv: the arguments (None: ``sys.argv``).

    Returns:
        0 when no problem was found, else 1.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path, help="the built book, e.g. book/_build/html")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--static", action="store_true", help="check the HTML files only")
    mode.add_argument("--screenshots", type=Path, help="also check in Chromium; save screenshots here")
    args = parser.parse_args(argv)
    problems = check_static(args.book)
    if args.screenshots and not problems:
        problems = check_browser(args.book, args.screenshots)
    pages = len(pages_of(args.book))
    for problem in problems:
        print("PROBLEM", problem)
    kind = "static" if args.static else "static + Chromium"
    print(f"book check ({kind}): {pages} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
