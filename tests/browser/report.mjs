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
// No browser is ever downloaded: Debian's chromium package is used as it is. What every page's
// check shares (Chromium, phones, refusals, charts, width, screenshot) is in page.mjs.
//
// Exits 0 when every check passed; otherwise prints each failed check and exits 1 (2 for bad
// arguments or a browser that will not start).

import { parseArgs } from "node:util";
import {
  check,
  checkCharts,
  checkDocument,
  checkRefusals,
  finish,
  onPhones,
  reportJson,
  run,
  text,
} from "./page.mjs";

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
async function checkReportRefusals(url, report, forbid) {
  await checkRefusals(url, [...privateTexts(report), ...forbid, "attempted", "rejection", "coach next"]);
}

async function checkPage(page, response, problems, opts, report) {
  await checkDocument(page, response, problems);
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
  if (report.verdicts_within_24h != null) {
    const within = await tile("Verdicts within 24 h");
    const expected = `${Math.round(report.verdicts_within_24h * 100)} %`;
    check(within === expected, `verdicts within 24 h: ${within} (JSON ${expected})`);
  }
}

async function main() {
  const opts = options();
  const report = await reportJson(opts.url, opts.token);
  await checkReportRefusals(opts.url, report, opts.forbid);
  await onPhones(opts, async (page, response, problems, i) => {
    if (i === 0) await checkPage(page, response, problems, opts, report);
  });
  finish("the report");
}

await run(main);
