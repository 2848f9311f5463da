"""Publish the course: a static site, or reveal.js slide decks, from the notebooks, executed.

    python3 scripts/publish.py site   [--out site]   [--executed DIR] [--serve] [--port 8000]
    python3 scripts/publish.py slides [--out slides] [--executed DIR] [--serve] [--port 8000]

(`npm run site` and `npm run slides` call this through scripts/publish.mjs, which finds Jupyter's Python and
registers the course kernel.) Every notebook is executed with the course's kernel, solutions included (the site puts
them in their own section); --executed DIR reuses notebooks already executed there (NAME.ipynb, solutions/NAME.ipynb,
as `npm test` leaves them in test-artifacts/). The output works from file:// with no network: plotly.js, KaTeX and
reveal.js are copied from node_modules once per site or deck folder, never fetched from a CDN.

The site also holds the course in the browser (JupyterLite, `npm run lite`) in site/lite/: a copy of lite/ when that
build is newer than everything it is built from, else built there afresh (about a minute). Every notebook's page links
"Open in the browser": lite/lab/index.html?path=notebooks/NAME.ipynb. --no-lite leaves it out (and the links).
"""
import argparse
import glob
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time

try:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter, SlidesExporter
except ImportError as e:  # pragma: no cover
    print(f"publish: missing Python package {e.name}. `npm install` sets it up in .venv/ (npm run jupyter:venv retries)", file=sys.stderr)
    sys.exit(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
MODULES = os.path.join(ROOT, "node_modules")
TEMPLATES = os.path.join(ROOT, "scripts", "templates")
KERNEL = "attention-course"
FIGURE_CLASS = "attention-course-figure"
LITE = os.path.join(ROOT, "lite")
# What `npm run lite` builds lite/ from: when any of it is newer than the build, the build is stale.
LITE_INPUTS = ["notebooks", "data/corpus", "data/checkpoints", "data/results", "data/README.md", "lib/dist",
               "browser/src", "browser/static", "browser/build.mjs", "browser/package-lock.json"]
# plotly.js as `setup()` inlines it into a notebook's outputs; the site loads one shared copy instead.
INLINE_PLOTLY = re.compile(r'<script type="text/javascript" data-plotly-version="[^"]*">.*?</script>', re.S)

COURSE_CSS = """
body { margin: 0; }
.course-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px; margin: 0.5em auto; padding: 0.6em 1em;
  font: 15px/1.4 system-ui, sans-serif; border-bottom: 1px solid #ddd; }
.course-nav a { color: #3b6fb6; text-decoration: none; } .course-nav a:hover { text-decoration: underline; }
.jp-RenderedMarkdown img, .jp-RenderedHTMLCommon img { max-width: 100%; }
.course-index-page { max-width: 1000px; margin: 2em auto; padding: 0 1em; font: 16px/1.5 system-ui, sans-serif; color: #222; }
.course-index-page table { border-collapse: collapse; width: 100%; }
.course-index-page th, .course-index-page td { text-align: left; padding: 0.45em 0.6em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
.course-index-page td.num { text-align: right; white-space: nowrap; color: #555; }
.course-index-page a { color: #3b6fb6; }
.course-optional { display: inline-block; margin: 0 0 0.4em; padding: 0.05em 0.6em; border-radius: 4px; background: #fff3c4; color: #6b5200; font-size: 0.8em; }
"""

SLIDES_CSS = """
.reveal .jp-RenderedMarkdown, .reveal .jp-RenderedHTMLCommon { font-size: 24px; }
.reveal pre, .reveal .jp-InputArea code { font-size: 17px; line-height: 1.3; }
.reveal .jp-InputArea pre { white-space: pre-wrap; }
.reveal .jp-OutputArea-output pre { font-size: 15px; max-height: 420px; overflow: auto; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
.reveal .attention-course-figure { max-width: 1200px; margin: 0 auto; }
.reveal img { max-height: 520px; }
.reveal section { text-align: left; }
/* A slide taller than the screen scrolls rather than spilling off it. */
.reveal .slides section:not(.stack) { height: 100%; overflow-y: auto; }
.reveal .course-optional { display: inline-block; margin: 0 0 0.4em; padding: 0.05em 0.6em; border-radius: 4px; background: #fff3c4; color: #6b5200; font-size: 0.8em; }
"""


def say(message):
    print(message, flush=True)


def notebook_list():
    main = sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    solutions = sorted(glob.glob(os.path.join(NOTEBOOKS, "solutions", "*.ipynb")))
    return main, solutions


def title_of(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Untitled"


def executed(path, reuse_dir, index, total):
    """The notebook executed (or reused from reuse_dir), and how long it ran in seconds (None if unknown)."""
    name = os.path.basename(path)
    sub = "solutions" if os.path.basename(os.path.dirname(path)) == "solutions" else ""
    label = f"[{index}/{total}] {os.path.join(sub, name)}"
    if reuse_dir:
        done = os.path.join(reuse_dir, sub, name)
        if os.path.exists(done):
            seconds = None
            summary = done[:-len(".ipynb")] + ".json"
            if os.path.exists(summary):
                runs = json.load(open(summary)).get("runs", [])
                seconds = runs[0]["seconds"] if runs else None
            nb = nbformat.read(done, as_version=4)
            source = nbformat.read(path, as_version=4)
            if [c.source for c in nb.cells] == [c.source for c in source.cells]:
                # Slide breaks and course metadata come from the notebook as it is now (outputs from the executed copy).
                for mine, theirs in zip(nb.cells, source.cells):
                    mine.metadata = theirs.metadata
                nb.metadata["course"] = source.metadata.get("course", {})
                say(f"{label}: reusing {os.path.relpath(done, ROOT)}" + (f" (ran in {seconds:.1f} s)" if seconds else ""))
                return nb, seconds
            say(f"{label}: {os.path.relpath(done, ROOT)} was executed from an older version of the notebook")
    nb = nbformat.read(path, as_version=4)
    say(f"{label}: executing ...")
    started = time.time()
    NotebookClient(nb, kernel_name=KERNEL, timeout=900, resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    seconds = time.time() - started
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise SystemExit(f"publish: {name} failed: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    say(f"{label}: executed in {seconds:.1f} s")
    return nb, seconds


OPTIONAL_BADGE = '<p class="course-optional">Optional: not on the lecture path</p>'


def slide_groups(nb):
    """The cells split where a slide or sub-slide starts: [(first cell index, [cell indices])]."""
    groups = []
    for i, cell in enumerate(nb.cells):
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind in ("slide", "subslide") or not groups:
            groups.append((i, []))
        groups[-1][1].append(i)
    return groups


def mark_optional(nb):
    """The first slide of each run of optional slides (first cell: course.lecture = "optional") gets a badge."""
    previous_optional = False
    for first, cells in slide_groups(nb):
        optional = nb.cells[first].metadata.get("course", {}).get("lecture") == "optional"
        starts_run, previous_optional = optional and not previous_optional, optional
        if not starts_run:
            continue
        md = next((nb.cells[i] for i in cells if nb.cells[i].cell_type == "markdown"), None)
        if md is not None and OPTIONAL_BADGE not in md.source:
            md.source = OPTIONAL_BADGE + "\n\n" + md.source
    return nb


def lecture_path(nb):
    """The lecture path for reveal.js: core slides horizontal (the right arrow walks them), optional slides vertical
    sub-slides under the core slide before them (the down arrow opens them, the right arrow skips them)."""
    for first, _ in slide_groups(nb):
        show = nb.cells[first].metadata.setdefault("slideshow", {})
        if show.get("slide_type") == "notes":
            continue
        optional = nb.cells[first].metadata.get("course", {}).get("lecture") == "optional"
        show["slide_type"] = "subslide" if optional and first > 0 else "slide"
    return mark_optional(nb)


def without_inline_plotly(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                text = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
                data["text/html"] = INLINE_PLOTLY.sub("", text)
    return nb


def copy_assets(out):
    """plotly.js (as setup() inlines it: window.Plotly even under an AMD loader), KaTeX and the diagrams."""
    assets = os.path.join(out, "assets")
    os.makedirs(os.path.join(assets, "katex", "contrib"), exist_ok=True)
    plotly_dir = os.path.join(MODULES, "plotly.js-cartesian-dist-min")
    version = json.load(open(os.path.join(plotly_dir, "package.json")))["version"]
    code = open(os.path.join(plotly_dir, "plotly-cartesian.min.js"), encoding="utf8").read()
    with open(os.path.join(assets, "plotly.js"), "w", encoding="utf8") as f:
        f.write(f'if (!window.Plotly || window.Plotly.version !== "{version}") {{\n'
                f"(function (define, module, exports) {{\n{code}\n}}).call(window, undefined, undefined, undefined);\n}}\n")
    katex = os.path.join(MODULES, "katex", "dist")
    for name in ["katex.min.css", "katex.min.js", os.path.join("contrib", "auto-render.min.js")]:
        shutil.copyfile(os.path.join(katex, name), os.path.join(assets, "katex", name))
    shutil.copytree(os.path.join(katex, "fonts"), os.path.join(assets, "katex", "fonts"), dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if not n.endswith(".woff2")])
    shutil.copytree(os.path.join(NOTEBOOKS, "figures"), os.path.join(out, "figures"), dirs_exist_ok=True)
    return assets


def write_notebook_css(assets, template="lab", name="jupyterlab.css"):
    """The stylesheets nbconvert's template inlines into every page (JupyterLab's, light theme), written once."""
    from jupyter_core.paths import jupyter_path
    dirs = [d for t in (template, "lab") for d in jupyter_path("nbconvert", "templates", t) if os.path.exists(os.path.join(d, "index.html.j2"))]
    source = open(os.path.join(dirs[0], "index.html.j2"), encoding="utf8").read()
    block = source.split("{% block notebook_css %}", 1)[1].split("{% endblock notebook_css %}", 1)[0]
    with open(os.path.join(assets, name), "w", encoding="utf8") as f:
        for css in re.findall(r'include_css\("static/([^"]+)"\)', block):
            if "dark" in css:
                continue
            path = next(os.path.join(d, "static", css) for d in dirs if os.path.exists(os.path.join(d, "static", css)))
            f.write(open(path, encoding="utf8").read() + "\n")
        for style in re.findall(r"<style[^>]*>(.*?)</style>", block, re.S):
            f.write(style + "\n")


def newest_mtime(path):
    if not os.path.isdir(path):
        return os.path.getmtime(path) if os.path.exists(path) else 0
    return max((os.path.getmtime(os.path.join(d, f)) for d, _, files in os.walk(path) if ".ipynb_checkpoints" not in d for f in files), default=0)


def lite_is_current():
    """lite/ built (its last file, .nojekyll, written) after every file it is built from last changed."""
    stamp = os.path.join(LITE, ".nojekyll")
    if not os.path.exists(os.path.join(LITE, "lab", "index.html")) or not os.path.exists(stamp):
        return False
    return os.path.getmtime(stamp) >= max(newest_mtime(os.path.join(ROOT, p)) for p in LITE_INPUTS)


def add_lite(out):
    """The browser course in out/lite/: lite/ copied when it is up to date, else built there by `npm run lite`."""
    target = os.path.join(out, "lite")
    started = time.time()
    if lite_is_current():
        shutil.copytree(LITE, target)
        say(f"lite: copied lite/ (up to date) to {os.path.relpath(target)} in {time.time() - started:.1f} s")
    else:
        say("lite: lite/ is missing or older than the notebooks, data, library or browser/: building it in the site ...")
        r = subprocess.run(["node", os.path.join(ROOT, "browser", "build.mjs"), "--out", target], cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit("publish: npm run lite failed (see above); --no-lite builds the site without the browser course")


def lite_href(path):
    """The notebook (a path under notebooks/) opened in the browser course, relative to the site's root."""
    return "lite/lab/index.html?path=" + os.path.relpath(path, ROOT).replace(os.sep, "/")


def build_site(out, reuse_dir, lite=True):
    main, solutions = notebook_list()
    total = len(main) + len(solutions)
    os.makedirs(os.path.join(out, "solutions"), exist_ok=True)
    assets = copy_assets(out)
    with open(os.path.join(assets, "course.css"), "w") as f:
        f.write(COURSE_CSS)
    write_notebook_css(assets)
    pages = []  # (path, nb, seconds, href)
    for i, path in enumerate(main + solutions, 1):
        nb, seconds = executed(path, reuse_dir, i, total)
        sub = "solutions/" if path in solutions else ""
        pages.append((path, nb, seconds, sub + os.path.basename(path)[:-len(".ipynb")] + ".html"))
    exporter = HTMLExporter(template_name="course-page", extra_template_basedirs=[TEMPLATES])
    for group in (pages[:len(main)], pages[len(main):]):
        for k, (path, nb, seconds, href) in enumerate(group):
            root = "../" if href.startswith("solutions/") else ""
            link = lambda p: None if p is None else {"href": root + p[3], "title": title_of(p[1])}
            course = {"root": root, "prev": link(group[k - 1] if k > 0 else None), "next": link(group[k + 1] if k + 1 < len(group) else None),
                      "lite": root + lite_href(path) if lite else None}
            body, _ = exporter.from_notebook_node(mark_optional(without_inline_plotly(nb)), resources={"course": course, "metadata": {"name": title_of(nb)}})
            with open(os.path.join(out, href), "w", encoding="utf8") as f:
                f.write(body)
    write_index(out, pages[:len(main)], pages[len(main):], lite)
    if lite:
        add_lite(out)
    return pages


def write_index(out, main, solutions, lite=True):
    def row(path, nb, seconds, href):
        meta = nb.metadata.get("course", {})
        run = f"{seconds:.0f} s" if seconds else "–"
        minutes = meta.get("minutes")
        open_lite = f' <a class="course-open-lite" href="{html.escape(lite_href(path))}">(open in the browser)</a>' if lite else ""
        return (f'<tr><td><a href="{href}">{html.escape(title_of(nb))}</a>{open_lite}</td><td>{html.escape(meta.get("teaches", ""))}</td>'
                f'<td class="num">{f"{minutes} min" if minutes else "–"}</td><td class="num">{run}</td></tr>')
    total = sum(p[1].metadata.get("course", {}).get("minutes", 0) for p in main)
    lite_note = ('; or, with nothing installed, <a href="lite/index.html">run them in JupyterLab in your browser</a> '
                 "(each notebook's \"open in the browser\" link opens it there)") if lite else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Attention, from scratch, in TypeScript</title>
<link rel="stylesheet" href="assets/course.css"></head>
<body><main class="course-index-page">
<h1>Attention, from scratch, in TypeScript</h1>
<p>The course's notebooks, executed, with their outputs and interactive plots (hover, zoom, sliders). To run and change
them yourself, clone the course and follow its README: <code>npm install</code>, then <code>npm start</code>{lite_note}.
Study in order; each notebook ends with exercises, whose solutions are in the last section. About {total // 60} h {total % 60} min
of study in all.</p>
<h2>Notebooks</h2>
<table><thead><tr><th>notebook</th><th>what it teaches</th><th>study time</th><th>runs in</th></tr></thead><tbody>
{"".join(row(*p) for p in main)}
</tbody></table>
<h2>Solutions to the exercises</h2>
<table><thead><tr><th>notebook</th><th>for</th><th></th><th>runs in</th></tr></thead><tbody>
{"".join(row(*p) for p in solutions)}
</tbody></table>
</main></body></html>
"""
    with open(os.path.join(out, "index.html"), "w", encoding="utf8") as f:
        f.write(page)


def build_slides(out, reuse_dir):
    main, _ = notebook_list()
    os.makedirs(out, exist_ok=True)
    assets = copy_assets(out)
    with open(os.path.join(assets, "slides.css"), "w") as f:
        f.write(SLIDES_CSS)
    write_notebook_css(assets, "reveal", "notebook-slides.css")
    reveal = os.path.join(MODULES, "reveal.js")
    no_maps = shutil.ignore_patterns("*.map", "*.esm.js")
    shutil.copytree(os.path.join(reveal, "dist"), os.path.join(out, "reveal.js", "dist"), dirs_exist_ok=True, ignore=no_maps)
    shutil.copytree(os.path.join(reveal, "plugin", "notes"), os.path.join(out, "reveal.js", "plugin", "notes"), dirs_exist_ok=True, ignore=no_maps)
    exporter = SlidesExporter(template_name="course-slides", extra_template_basedirs=[TEMPLATES], reveal_url_prefix="reveal.js", reveal_theme="white", reveal_transition="none")
    decks = []
    for i, path in enumerate(main, 1):
        nb, _ = executed(path, reuse_dir, i, len(main))
        body, _ = exporter.from_notebook_node(lecture_path(without_inline_plotly(nb)), resources={"metadata": {"name": title_of(nb)}})
        name = os.path.basename(path)[:-len(".ipynb")] + ".slides.html"
        with open(os.path.join(out, name), "w", encoding="utf8") as f:
            f.write(body)
        decks.append((name, title_of(nb)))
    items = "".join(f'<li><a href="{n}">{html.escape(t)}</a></li>' for n, t in decks)
    with open(os.path.join(out, "index.html"), "w", encoding="utf8") as f:
        f.write(f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Slides: attention, from scratch</title></head>
<body style="font: 18px/1.5 system-ui, sans-serif; max-width: 800px; margin: 2em auto"><h1>Slides</h1>
<p>One deck per notebook, 1280 x 720. Arrow keys move; <kbd>S</kbd> opens the speaker view with the teaching notes;
<kbd>F</kbd> goes full screen. The slide breaks come from the notebooks' cells (View &gt; Cell Toolbar &gt; Slideshow).</p>
<ul>{items}</ul></body></html>
""")
    return decks


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def main():
    parser = argparse.ArgumentParser(description="Build the course's static site or its slide decks.")
    parser.add_argument("what", choices=["site", "slides"])
    parser.add_argument("--out", help="output folder (default: site/ or slides/ in the course folder)")
    parser.add_argument("--executed", help="reuse notebooks already executed in this folder (e.g. test-artifacts)")
    parser.add_argument("--no-lite", action="store_true", help="site: leave out the browser course (lite/) and its links")
    parser.add_argument("--serve", action="store_true", help="then serve the folder on http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    out = os.path.abspath(args.out or os.path.join(ROOT, args.what))
    started = time.time()
    if os.path.isdir(out):
        shutil.rmtree(out)
    if args.what == "site":
        pages = build_site(out, args.executed, lite=not args.no_lite)
        say(f"site: {len(pages)} pages and an index in {os.path.relpath(out)} ({folder_size(out) / 2**20:.1f} MB) in {time.time() - started:.0f} s")
        say(f"open {os.path.join(out, 'index.html')}")
    else:
        decks = build_slides(out, args.executed)
        say(f"slides: {len(decks)} decks in {os.path.relpath(out)} ({folder_size(out) / 2**20:.1f} MB) in {time.time() - started:.0f} s")
        say(f"open {os.path.join(out, 'index.html')}")
    if args.serve:
        say(f"serving {os.path.relpath(out)} on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
        try:
            subprocess.run([sys.executable, "-m", "http.server", str(args.port), "--bind", "127.0.0.1", "--directory", out])
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
