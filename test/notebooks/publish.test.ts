// `npm run site` and `npm run slides`, built from the notebooks the notebook test executed (test-artifacts/), then
// opened in headless Chromium from file:// with the network cut: every page and deck opens, every figure draws,
// every internal link and image resolves, every deck has more than one slide and its figures fit 1280 x 720. The site
// holds the browser course (lite/, copied or built by publish.py) and every page's "open in the browser" link names
// its notebook there.
// Screenshots (the index, one notebook page, one slide of each deck) go to test-artifacts/site/.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "fs";
import { join, dirname, resolve, basename } from "path";
import { chromium, type Browser, type Page } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT, findChromium } from "../helpers";

const ARTIFACTS = join(ROOT, "test-artifacts");
const SITE = join(ARTIFACTS, "site-build");
const SLIDES = join(ARTIFACTS, "slides-build");
const SHOTS = join(ARTIFACTS, "site");
const NOTEBOOKS = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).map((f) => basename(f, ".ipynb")).sort();
const SOLUTIONS = readdirSync(join(ROOT, "notebooks", "solutions")).filter((f) => f.endsWith(".ipynb")).map((f) => basename(f, ".ipynb")).sort();

function publish(what: "site" | "slides", out: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "publish.mjs"), what, "--out", out, "--executed", ARTIFACTS], { encoding: "utf8", cwd: ROOT });
  assert.strictEqual(r.status, 0, `npm run ${what} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** Open a file:// page with every other request refused; collect page errors and refused requests. */
async function open(browser: Browser, file: string, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const refused: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.route(/^(?!file:)/, (route) => {
    refused.push(route.request().url());
    return route.abort();
  });
  await page.goto(`file://${file}`);
  return { page, errors, refused };
}

async function figuresDrawn(page: Page): Promise<{ divs: number; drawn: number }> {
  const count = () => page.evaluate((cls) => ({
    divs: document.querySelectorAll(`.${cls}`).length,
    drawn: [...document.querySelectorAll(`.${cls}[data-drawn="true"]`)].filter((d) => d.querySelector(".main-svg")).length,
  }), FIGURE_CLASS);
  const deadline = Date.now() + 20000;
  let c = await count();
  while (c.drawn < c.divs && Date.now() < deadline) {
    await page.waitForTimeout(200);
    c = await count();
  }
  return c;
}

/** Every relative href and src of the page must name a file that exists. */
async function brokenLinks(page: Page, file: string): Promise<string[]> {
  const refs = await page.evaluate(() => [
    ...[...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")!),
    ...[...document.querySelectorAll("img[src], script[src], link[href]")].map((e) => e.getAttribute("src") ?? e.getAttribute("href")!),
  ]);
  return refs
    .filter((r) => !/^(https?:|mailto:|#|data:|javascript:)/.test(r))
    .map((r) => r.split("#")[0].split("?")[0])
    .filter((r) => r && !existsSync(resolve(dirname(file), decodeURIComponent(r))));
}

describe("the published course: npm run site and npm run slides, opened offline in Chromium", function () {
  this.timeout(10 * 60 * 1000);
  let browser: Browser | undefined;
  let siteLog = "";
  let slidesLog = "";

  before(async function () {
    const missing = [...NOTEBOOKS.map((n) => join(ARTIFACTS, `${n}.ipynb`)), ...SOLUTIONS.map((n) => join(ARTIFACTS, "solutions", `${n}.ipynb`))].filter((f) => !existsSync(f));
    assert.deepStrictEqual(missing, [], "the notebook test runs first and leaves the executed notebooks in test-artifacts/");
    mkdirSync(SHOTS, { recursive: true });
    siteLog = publish("site", SITE);
    slidesLog = publish("slides", SLIDES);
    browser = await chromium.launch({ executablePath: findChromium(), args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  });
  after(async () => browser?.close());

  it("prints its progress: one line per notebook, then the size and time", () => {
    for (const n of [...NOTEBOOKS, ...SOLUTIONS.map((s) => `solutions/${s}`)]) assert.match(siteLog, new RegExp(`\\[\\d+/\\d+\\] ${n}\\.ipynb: reusing`), n);
    assert.match(siteLog, new RegExp(`site: ${NOTEBOOKS.length + SOLUTIONS.length} pages and an index in .* \\(\\d+\\.\\d MB\\) in \\d+ s`));
    assert.match(slidesLog, new RegExp(`slides: ${NOTEBOOKS.length} decks`));
  });

  it("holds the browser course, and every page's and index row's \"open in the browser\" link opens its notebook there", () => {
    assert.match(siteLog, /lite: (copied lite\/ \(up to date\)|lite\/ is missing or older)/);
    for (const f of ["index.html", "lab/index.html", "build/bundle.js", "api/contents/all.json"]) assert.ok(existsSync(join(SITE, "lite", f)), `lite/${f}`);
    const index = readFileSync(join(SITE, "index.html"), "utf8");
    for (const name of [...NOTEBOOKS, ...SOLUTIONS.map((s) => `solutions/${s}`)]) {
      const file = join(SITE, `${name}.html`);
      const links = [...readFileSync(file, "utf8").matchAll(/class="course-open-lite" href="([^"]+)"/g)].map((m) => m[1]);
      assert.strictEqual(links.length, 2, `${name}.html: one link above the notebook and one below`);
      const rows = [...index.matchAll(/class="course-open-lite" href="([^"]+)"/g)].map((m) => resolve(SITE, m[1].replace(/&amp;/g, "&")));
      for (const href of links) {
        const [app, query] = href.split("?");
        assert.strictEqual(resolve(dirname(file), app), join(SITE, "lite", "lab", "index.html"), href);
        const notebook = new URLSearchParams(query).get("path");
        assert.strictEqual(notebook, `notebooks/${name}.ipynb`, href);
        assert.ok(existsSync(join(SITE, "lite", "files", notebook!)), `${href}: no lite/files/${notebook}`);
        assert.ok(rows.includes(resolve(dirname(file), href)), `the index links ${href} too`);
      }
    }
  });

  it("ships plotly.js once for the whole site, not in any page", () => {
    assert.ok(existsSync(join(SITE, "assets", "plotly.js")));
    for (const n of NOTEBOOKS) {
      const page = readFileSync(join(SITE, `${n}.html`), "utf8");
      assert.ok(!page.includes("data-plotly-version="), `${n}.html inlines plotly.js`);
      assert.ok(page.length < 1.5e6, `${n}.html is ${page.length} bytes`);
      assert.ok(!/src="https?:/.test(page), `${n}.html loads a script from the network`);
    }
  });

  it("the index lists every notebook (what it teaches, how long) and every solution, and its links resolve", async () => {
    const file = join(SITE, "index.html");
    const { page, errors, refused } = await open(browser!, file);
    try {
      const rows = await page.evaluate(() => [...document.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim())));
      assert.strictEqual(rows.length, NOTEBOOKS.length + SOLUTIONS.length);
      for (const r of rows.slice(0, NOTEBOOKS.length)) {
        assert.ok(r[1].length > 20, `what it teaches: ${r}`);
        assert.match(r[2], /^\d+ min$/);
      }
      assert.deepStrictEqual(await brokenLinks(page, file), []);
      await page.screenshot({ path: join(SHOTS, "index.png"), fullPage: true });
      assert.deepStrictEqual(errors, []);
      assert.deepStrictEqual(refused, [], "the index needs no network");
    } finally {
      await page.close();
    }
  });

  for (const name of [...NOTEBOOKS, ...SOLUTIONS.map((s) => `solutions/${s}`)]) {
    it(`${name}: opens offline, every figure and diagram draws, math renders, links resolve`, async () => {
      const file = join(SITE, `${name}.html`);
      const { page, errors, refused } = await open(browser!, file);
      try {
        const { divs, drawn } = await figuresDrawn(page);
        assert.strictEqual(drawn, divs, `${drawn} of ${divs} figures drawn`);
        const images = await page.evaluate(() => [...document.querySelectorAll("img")].map((i) => ({ src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0 })));
        assert.deepStrictEqual(images.filter((i) => !i.ok), [], "images that did not load");
        if (/^0[0-6]-/.test(name)) assert.ok(images.some((i) => /^figures\/.*\.svg$/.test(i.src ?? "")), "a diagram");
        const math = await page.evaluate(() => ({ raw: document.body.innerText.includes("$$"), katex: document.querySelectorAll(".katex").length }));
        assert.ok(!math.raw, "unrendered $$ math");
        const nav = await page.evaluate(() => [...document.querySelectorAll(".course-nav a")].map((a) => a.textContent));
        assert.ok(nav.includes("Course index"), "a link to the index");
        assert.deepStrictEqual(await brokenLinks(page, file), []);
        if (name === "04-self-attention-with-trainable-weights") await page.screenshot({ path: join(SHOTS, `page-${name}.png`), fullPage: true });
        assert.deepStrictEqual(errors, []);
        assert.deepStrictEqual(refused, [], "requests outside the site");
        if (/^0[2-6]-/.test(name)) assert.ok(math.katex > 0, "math rendered by KaTeX");
      } finally {
        await page.close();
      }
    });
  }

  for (const name of NOTEBOOKS) {
    it(`deck ${name}: more than one slide, figures drawn and within 1280 x 720, offline`, async () => {
      const file = join(SLIDES, `${name}.slides.html`);
      const { page, errors, refused } = await open(browser!, file, { width: 1280, height: 720 });
      try {
        await page.waitForFunction(() => (window as any).Reveal?.isReady?.(), null, { timeout: 20000 });
        const total = await page.evaluate(() => (window as any).Reveal.getTotalSlides());
        assert.ok(total > 1, `${total} slide(s)`);
        const notes = await page.evaluate(() => document.querySelectorAll("aside.notes").length);
        assert.ok(notes >= 1, "the teaching notes are speaker notes");
        // The lecture path: optional parts are vertical sub-slides (the right arrow skips them), marked as optional.
        const optional = await page.evaluate(() =>
          [...document.querySelectorAll(".course-optional")].map((b) => b.closest("section")?.parentElement?.closest("section") !== null),
        );
        if (/^0[3-6]/.test(name)) {
          assert.ok(optional.length >= 1, "a lecture notebook marks its optional parts");
          assert.ok(optional.every(Boolean), "every optional part sits in a vertical stack under a core slide");
        }
        // Show every slide once, so that each figure is drawn at its slide's size, and measure it there.
        const sizes: { w: number; h: number }[] = [];
        for (let k = 0; k < total; k++) {
          await page.evaluate(() => (window as any).Reveal.next());
        }
        await page.evaluate(() => (window as any).Reveal.slide(0, 0));
        const { divs, drawn } = await figuresDrawn(page);
        assert.strictEqual(drawn, divs, `${drawn} of ${divs} figures drawn`);
        sizes.push(...(await page.evaluate((cls) => [...document.querySelectorAll(`.${cls} .main-svg`)].map((s) => ({ w: Number(s.getAttribute("width")), h: Number(s.getAttribute("height")) })), FIGURE_CLASS)));
        const tooBig = sizes.filter((s) => s.w > 1280 || s.h > 720);
        assert.deepStrictEqual(tooBig, [], "figures larger than a 1280 x 720 slide");
        const images = await page.evaluate(() => [...document.querySelectorAll("img")].map((i) => ({ src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0 })));
        assert.deepStrictEqual(images.filter((i) => !i.ok), [], "diagrams that did not load");
        assert.deepStrictEqual(await brokenLinks(page, file), []);
        await page.evaluate(() => (window as any).Reveal.slide(1, 0));
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(SHOTS, `slide-${name}.png`) });
        assert.deepStrictEqual(errors, []);
        assert.deepStrictEqual(refused, [], "requests outside the deck's folder");
      } finally {
        await page.close();
      }
    });
  }
});
