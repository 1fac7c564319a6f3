// Checks the coaching report (GET /gate-handoff/report, Accept: text/html) in a real headless
// Chromium on a phone, then saves a full-page screenshot.
//
//   node tests/browser/report.mjs --url http://127.0.0.1:3000/gate-handoff/report \
//     --token "$ADMIN_TOKEN" --per-bdr shown --min-charts 3 --screenshot docs/report.png
//
// Arguments (or environment): --url (PG_REPORT_URL), --token (PG_ADMIN_TOKEN), --per-bdr
// hidden|shown (PG_PER_BDR), --min-charts N (default 3), --screenshot PATH (default
// docs/report.png), --chromium PATH (CHROMIUM, default /usr/bin/chromium), --forbid TEXT,TEXT
// (rep and deal names a refused request must not show, besides those the JSON report holds).
// No browser is ever downloaded: Debian's chromium package is used as it is.
//
// Exits 0 when every check passed; otherwise prints each failed check and exits 1 (2 for bad
// arguments or a browser that will not start).

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

/** Flags this closed network needs: no background connection Chromium would try at start. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The report's sections, by id, and a heading each must carry. */
const SECTIONS = {
  summary: "At a glance",
  weeks: "Handoffs by week",
  missing: "Dimensions most often missing",
  reasons: "Most common rejection reasons",
  thresholds: "per threshold",
  "per-bdr": "Per BDR",
  "not-measured": "What this report does not measure",
};

/** Phone widths the page must fit without scrolling sideways; the screenshot is taken on the last. */
const PHONES = [
  { width: 360, height: 740 },
  { width: 390, height: 844 },
];

/** The smallest chart text, in CSS pixels, still readable on a phone. */
const MIN_CHART_TEXT_PX = 8;

const failures = [];
const check = (ok, what) => {
  if (ok) {
    console.log(`ok    ${what}`);
  } else {
    console.log(`FAIL  ${what}`);
    failures.push(what);
  }
};

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.PG_REPORT_URL },
      token: { type: "string", default: process.env.PG_ADMIN_TOKEN },
      "per-bdr": { type: "string", default: process.env.PG_PER_BDR },
      "min-charts": { type: "string", default: "3" },
      screenshot: { type: "string", default: "docs/report.png" },
      chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
      forbid: { type: "string", default: "" },
    },
  });
  const missing = ["url", "token", "per-bdr"].filter((k) => !values[k]);
  if (missing.length > 0 || !["hidden", "shown"].includes(values["per-bdr"])) {
    console.error(
      `usage: node report.mjs --url URL --token TOKEN --per-bdr hidden|shown ` +
        `[--min-charts N] [--screenshot PATH] [--chromium PATH] [--forbid TEXT,TEXT]` +
        (missing.length ? `\nmissing: ${missing.join(", ")}` : ""),
    );
    process.exit(2);
  }
  return {
    ...values,
    minCharts: Number(values["min-charts"]),
    perBdr: values["per-bdr"],
    forbid: values.forbid.split(",").filter((t) => t.length > 0),
  };
}

/** The report as JSON, with the token: the figures the page must show, and the names it holds. */
async function reportJson(url, token) {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
  });
  check(response.status === 200, `the JSON report answers 200 (got ${response.status})`);
  return response.status === 200 ? response.json() : null;
}

/** Every text in the report that tells about deals or reps: none may leak without the token. */
function privateTexts(report) {
  if (!report) return [];
  const rows = report.per_bdr?.rows ?? [];
  return [
    ...rows.map((r) => r.bdr),
    ...(report.rejection_reasons ?? []).map((r) => r.reason),
    ...(report.missing_dimensions ?? []).map((d) => d.name),
  ].filter((t) => t && t.length > 2);
}

/** Without the token, or with a wrong one: 401 and nothing about deals or reps. */
async function checkRefusals(url, report, forbid) {
  const leaks = [...privateTexts(report), ...forbid, "attempted", "rejection", "coach next"];
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

/** Opens the page on a phone, counting console errors and any request besides the page itself. */
async function open(browser, opts, phone) {
  const context = await browser.newContext({
    viewport: phone,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    extraHTTPHeaders: { authorization: `Bearer ${opts.token}`, accept: "text/html" },
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

async function checkPage(page, response, problems, opts, report) {
  check(response?.status() === 200, `the page answers 200 (got ${response?.status()})`);
  const type = response?.headers()["content-type"] ?? "";
  check(type.startsWith("text/html"), `the page is HTML (${type})`);
  check(problems.console.length === 0, `no console error ${JSON.stringify(problems.console)}`);
  check(problems.requests.length === 0, `nothing fetched besides the page ${JSON.stringify(problems.requests)}`);
  check((await page.locator("script").count()) === 0, "no script on the page");
  check((await text(page.locator("h1"))).includes("Handoff report"), "the page is headed Handoff report");
  await checkSections(page);
  await checkCharts(page, opts.minCharts);
  await checkPerBdr(page, opts.perBdr, report);
  if (report) await checkFigures(page, report);
}

async function checkSections(page) {
  for (const [id, heading] of Object.entries(SECTIONS)) {
    const section = page.locator(`section#${id}`);
    const found = (await section.count()) === 1 && (await text(section.locator("h2"))).includes(heading);
    check(found, `section #${id} with the heading "${heading}"`);
  }
  const notMeasured = await page.locator("#not-measured li").count();
  check(notMeasured > 0, `"What this report does not measure" lists ${notMeasured} items`);
}

async function checkCharts(page, minCharts) {
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
}

async function checkPerBdr(page, expected, report) {
  const section = page.locator("section#per-bdr");
  if ((await section.count()) !== 1) {
    check(false, "a per-BDR section");
    return;
  }
  const view = await section.getAttribute("data-view");
  check(view === expected, `per-BDR figures are ${expected} (the page says ${view})`);
  const rows = await section.locator("tbody tr").allInnerTexts();
  const text = await section.innerText();
  if (expected === "hidden") {
    check(rows.length === 0 && !text.includes("coach next"), "no figure per BDR while hidden");
    check(/team totals only/i.test(text), "it says why: team totals only");
    return;
  }
  const wanted = report?.per_bdr?.rows?.map((r) => r.bdr) ?? [];
  check(rows.length === wanted.length && rows.length > 0, `one row per BDR (${rows.length} of ${wanted.length})`);
  check(rows.every((r) => r.includes("coach next:")), 'every row says "coach next: …"');
  const order = rows.map((r) => r.split("\t")[0].trim());
  check(JSON.stringify(order) === JSON.stringify(wanted), `rows in the report's order, by BDR ${JSON.stringify(order)}`);
  check(!/\brank/i.test(text), "no rank");
}

/** The text of what `locator` finds first, or "" when it finds nothing. */
async function text(locator) {
  return (await locator.count()) > 0 ? (await locator.first().innerText()).trim() : "";
}

/** The page shows the JSON report's figures. */
async function checkFigures(page, report) {
  const tile = (label) => text(page.locator(`#summary dt:text-is("${label}") + dd`));
  const attempted = await tile("Handoffs attempted");
  check(attempted === String(report.totals.attempted), `handoffs attempted: ${attempted} (JSON ${report.totals.attempted})`);
  const without = await tile("Verdicts without handoff");
  check(without === String(report.verdicts_without_handoff), `verdicts without handoff: ${without} (JSON ${report.verdicts_without_handoff})`);
  if (report.rejection_rate != null) {
    const rate = await tile("AE rejection rate");
    const expected = `${Math.round(report.rejection_rate * 100)} %`;
    check(rate === expected, `AE rejection rate: ${rate} (JSON ${expected})`);
  }
}

/** With every table opened, the page still fits the phone's width (and is laid out for it: a page
 * without a viewport meta is laid out 980 px wide and shrunk). */
async function checkWidth(page, phone) {
  const width = await page.evaluate(() => {
    document.querySelectorAll("details").forEach((d) => (d.open = true));
    const scroll = document.documentElement.scrollWidth;
    document.querySelectorAll("details").forEach((d) => (d.open = false));
    return { scroll, inner: window.innerWidth };
  });
  check(width.inner === phone.width, `laid out for the phone: ${width.inner} px wide`);
  check(width.scroll <= phone.width, `no sideways scrolling at ${phone.width} px, tables open (scrollWidth ${width.scroll})`);
}

async function main() {
  const opts = options();
  const report = await reportJson(opts.url, opts.token);
  await checkRefusals(opts.url, report, opts.forbid);
  let browser;
  try {
    browser = await chromium.launch({ executablePath: opts.chromium, headless: true, chromiumSandbox: false, args: CHROMIUM_FLAGS });
  } catch (e) {
    console.error(`Chromium did not start from ${opts.chromium}: ${e.message}`);
    process.exit(2);
  }
  try {
    for (const [i, phone] of PHONES.entries()) {
      console.log(`-- ${phone.width}×${phone.height}`);
      const { context, page, response, problems } = await open(browser, opts, phone);
      if (i === 0) await checkPage(page, response, problems, opts, report);
      await checkWidth(page, phone);
      if (i === PHONES.length - 1) {
        mkdirSync(dirname(opts.screenshot), { recursive: true });
        await page.screenshot({ path: opts.screenshot, fullPage: true });
        console.log(`screenshot: ${opts.screenshot}`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  if (failures.length > 0) {
    console.error(`\n${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  console.log("\nthe report passed every check");
}

try {
  await main();
} catch (e) {
  console.error(`the browser check could not finish: ${e.stack ?? e}`);
  process.exit(1);
}
