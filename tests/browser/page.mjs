// What every browser check of a report page shares: Debian's headless Chromium started on this
// closed network, the phones a page must fit, the checks and their failures, the refusal of a
// request without the admin token, a page opened on a phone with what it logged and fetched, its
// charts, its width, the screenshot, and the exit status.
//
// Used by report.mjs (the handoff report), hygiene.mjs (the hygiene report) and rep.mjs (a rep's
// own page, whose link is its credential: no token). No browser is ever downloaded: Debian's
// chromium package is used as it is.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

/** Flags this closed network needs: no background connection Chromium would try at start. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Phone widths the page must fit without scrolling sideways; the screenshot is taken on the last. */
export const PHONES = [
  { width: 360, height: 740 },
  { width: 390, height: 844 },
];

/** The smallest chart text, in CSS pixels, still readable on a phone. */
export const MIN_CHART_TEXT_PX = 8;

/** The checks that failed, in order. */
export const failures = [];

/** Records one check: printed, and kept among the failures unless `ok`. */
export const check = (ok, what) => {
  if (ok) {
    console.log(`ok    ${what}`);
  } else {
    console.log(`FAIL  ${what}`);
    failures.push(what);
  }
};

/** The text of what `locator` finds first, or "" when it finds nothing. */
export async function text(locator) {
  return (await locator.count()) > 0 ? (await locator.first().innerText()).trim() : "";
}

/** The report as JSON, with the token: the figures the page must show, and the names it holds. */
export async function reportJson(url, token) {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });
  check(response.status === 200, `the JSON report answers 200 (got ${response.status})`);
  return response.status === 200 ? response.json() : null;
}

/** Without the token, or with a wrong one: 401, and none of the `leaks` (texts about deals or
 * reps) in the body. */
export async function checkRefusals(url, leaks) {
  for (const [what, headers] of [
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer not-the-admin-token" }],
  ]) {
    const response = await fetch(url, { headers: { ...headers, accept: "text/html" } });
    const body = await response.text();
    check(response.status === 401, `with ${what}: 401 (got ${response.status})`);
    const leaked = leaks.filter((t) => body.toLowerCase().includes(t.toLowerCase()));
    check(leaked.length === 0, `with ${what}: the body tells nothing of the report ${leaked.length ? JSON.stringify(leaked) : ""}`);
  }
}

/** Chromium from `executablePath`, headless; exits 2 when it will not start. */
export async function launch(executablePath) {
  try {
    return await chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args: CHROMIUM_FLAGS });
  } catch (e) {
    console.error(`Chromium did not start from ${executablePath}: ${e.message}`);
    process.exit(2);
  }
}

/** Opens `opts.url` with `opts.token` on a phone, counting console errors and any request besides
 * the page itself. */
export async function open(browser, opts, phone) {
  const context = await browser.newContext({
    viewport: phone,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    extraHTTPHeaders: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), accept: "text/html" },
  });
  const page = await context.newPage();
  // The page is one static document: an element that is not there at load never comes.
  page.setDefaultTimeout(5000);
  const problems = { console: [], requests: [] };
  page.on("console", (m) => m.type() === "error" && problems.console.push(m.text()));
  page.on("pageerror", (e) => problems.console.push(String(e)));
  page.on("request", (r) => r.url() !== opts.url && problems.requests.push(r.url()));
  const response = await page.goto(opts.url, { waitUntil: "load" });
  return { context, page, response, problems };
}

/** The page answered 200 with HTML, logged no error, fetched nothing else and holds no script. */
export async function checkDocument(page, response, problems) {
  check(response?.status() === 200, `the page answers 200 (got ${response?.status()})`);
  const type = response?.headers()["content-type"] ?? "";
  check(type.startsWith("text/html"), `the page is HTML (${type})`);
  check(problems.console.length === 0, `no console error ${JSON.stringify(problems.console)}`);
  check(problems.requests.length === 0, `nothing fetched besides the page ${JSON.stringify(problems.requests)}`);
  check((await page.locator("script").count()) === 0, "no script on the page");
}

/** At least `minCharts` charts, each drawn, titled with what it shows, its text readable. */
export async function checkCharts(page, minCharts) {
  const charts = await page.locator("svg[role=img]").evaluateAll((svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const title = svg.querySelector("title")?.textContent ?? svg.getAttribute("aria-label") ?? "";
      const texts = [...svg.querySelectorAll("text")].map((t) => t.getBoundingClientRect().height);
      return { id: svg.id, width: box.width, height: box.height, title, smallest: Math.min(...texts) };
    }),
  );
  check(charts.length >= minCharts, `at least ${minCharts} charts (svg[role=img]): ${charts.length}`);
  for (const c of charts) {
    check(c.width > 0 && c.height > 0, `chart ${c.id} is drawn (${Math.round(c.width)}×${Math.round(c.height)} px)`);
    check(c.title.trim().length > 20, `chart ${c.id} has a title that says what it shows`);
    check(c.smallest >= MIN_CHART_TEXT_PX, `chart ${c.id}: its smallest text is ${c.smallest.toFixed(1)} px tall (≥ ${MIN_CHART_TEXT_PX})`);
  }
  return charts;
}

/** With every table opened, the page still fits the phone's width (and is laid out for it: a page
 * without a viewport meta is laid out 980 px wide and shrunk). */
export async function checkWidth(page, phone) {
  const width = await page.evaluate(() => {
    document.querySelectorAll("details").forEach((d) => (d.open = true));
    const scroll = document.documentElement.scrollWidth;
    document.querySelectorAll("details").forEach((d) => (d.open = false));
    return { scroll, inner: window.innerWidth };
  });
  check(width.inner === phone.width, `laid out for the phone: ${width.inner} px wide`);
  check(width.scroll <= phone.width, `no sideways scrolling at ${phone.width} px, tables open (scrollWidth ${width.scroll})`);
}

/** A full-page screenshot of `page` at `path`. */
export async function screenshot(page, path) {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

/** Opens the page on every phone in Chromium at `opts.chromium`: `visit(page, response, problems,
 * i)` checks it, then its width is checked; the screenshot at `opts.screenshot` is taken on the
 * last phone. */
export async function onPhones(opts, visit) {
  const browser = await launch(opts.chromium);
  try {
    for (const [i, phone] of PHONES.entries()) {
      console.log(`-- ${phone.width}×${phone.height}`);
      const { context, page, response, problems } = await open(browser, opts, phone);
      await visit(page, response, problems, i);
      await checkWidth(page, phone);
      if (i === PHONES.length - 1) await screenshot(page, opts.screenshot);
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

/** Exits: 1 with each failed check, else 0 saying `what` passed every check. */
export function finish(what) {
  if (failures.length > 0) {
    console.error(`\n${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`\n${what} passed every check`);
}

/** Runs `main`, exiting 1 when it throws. */
export async function run(main) {
  try {
    await main();
  } catch (e) {
    console.error(`the browser check could not finish: ${e.stack ?? e}`);
    process.exit(1);
  }
}
