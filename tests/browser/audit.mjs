// Checks the audit's page (`pipeline-guard audit --html`) in a real headless Chromium on phones
// against the audit's own JSON, then saves a full-page screenshot.
//
//   node tests/browser/audit.mjs --html audit.html --json audit.json --screenshot docs/audit.png
//
// Arguments: --html PATH (the page the CLI wrote), --json PATH (the JSON of the same run),
// --screenshot PATH (default docs/audit.png), --chromium PATH (CHROMIUM, default
// /usr/bin/chromium). The page is a file an admin opens or shares; it is served here from
// loopback so the checks every report page shares (page.mjs) apply as they are: answered 200 as
// HTML, nothing else fetched, no script, no console error, no sideways scrolling at 360 and
// 390 px with every table open, charts titled and readable.
//
// Exits 0 when every check passed; otherwise prints each failed check and exits 1 (2 for bad
// arguments or a browser that will not start).

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { check, checkCharts, checkDocument, finish, onPhones, run, text } from "./page.mjs";

function options() {
  const { values } = parseArgs({
    options: {
      html: { type: "string" },
      json: { type: "string" },
      screenshot: { type: "string", default: "docs/audit.png" },
      chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    },
  });
  if (!values.html || !values.json) {
    console.error("usage: node audit.mjs --html PATH --json PATH [--screenshot PATH] [--chromium PATH]");
    process.exit(2);
  }
  return values;
}

/** Serves `page` at a loopback URL; resolves to `{ url, close }`. */
function serve(page) {
  const server = createServer((request, response) => {
    if (request.url !== "/audit.html") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/audit.html`,
        close: () => server.close(),
      }),
    ),
  );
}

/** `0.71 (0.66–0.76)`, as the page prints an interval. */
const interval = (i) => `${i.value.toFixed(2)} (${i.low.toFixed(2)}–${i.high.toFixed(2)})`;

/** The figure of the tile labelled `label` in `scope`. */
const tile = (scope, label) => text(scope.locator(`dl.tiles dt:text-is("${label}") + dd.figure`));

async function checkPage(page, response, problems, report) {
  await checkDocument(page, response, problems);
  check((await text(page.locator("h1"))) === "Playbook audit", "the page is headed Playbook audit");
  const sections = await page.locator("section").evaluateAll((all) => all.map((s) => s.id));
  const wanted = ["hygiene", "backtest", "gate", "dimensions", "source", "not-measured"];
  check(JSON.stringify(sections) === JSON.stringify(wanted), `sections in order ${JSON.stringify(sections)}`);
  const meta = await text(page.locator("header p.meta"));
  check(meta.includes(`${report.deals.length} deals`), `the header counts the deals (${report.deals.length})`);

  const h = report.hygiene;
  const hygiene = page.locator("section#hygiene");
  check((await tile(hygiene, "Every deal")) === `${h.all.hygiene_pct} %`, `hygiene over every deal: ${h.all.hygiene_pct} %`);
  check((await tile(hygiene, "Sample")) === `${h.sampled.hygiene_pct} %`, `hygiene over the sample: ${h.sampled.hygiene_pct} %`);
  check((await tile(hygiene, h.go ? "Go" : "No-go")) === `${h.threshold} %`, `${h.go ? "go" : "no-go"} at ${h.threshold} %`);
  const listed = await hygiene.locator("details ol li").allTextContents();
  check(JSON.stringify(listed.map((t) => t.trim())) === JSON.stringify(h.sample), `the ${h.sample.length} sampled deals listed to verify by hand`);

  const b = report.backtest;
  const backtest = page.locator("section#backtest");
  if (b.auc) {
    check((await tile(backtest, "ROC AUC")) === interval(b.auc), `ROC AUC ${interval(b.auc)}, with its interval`);
  } else {
    check((await backtest.locator('dt:text-is("ROC AUC")').count()) === 0, "no AUC without enough closed deals");
  }
  const bands = await backtest.locator("svg#bands-chart rect.bar").count();
  check(bands === b.by_band.length, `a bar per score band (${bands} of ${b.by_band.length})`);

  const g = report.gate;
  const gate = page.locator("section#gate");
  const thresholds = await gate.locator("details tbody tr").count();
  check(thresholds === g.thresholds.length, `a row per threshold (${thresholds} of ${g.thresholds.length})`);
  check((await text(gate.locator("p").nth(1))) === g.advice, "the gate's advice as the JSON says it");

  const findings = await page.locator("section#dimensions > ul li").allInnerTexts();
  check(
    JSON.stringify(findings.map((f) => f.trim())) === JSON.stringify(report.dimensions.map((d) => d.finding)),
    `a finding per dimension in plain words (${findings.length})`,
  );
  await checkCharts(page, 3);
  const notMeasured = await page.locator("section#not-measured li").count();
  check(notMeasured === report.not_measured.length && notMeasured > 0, `"What this report does not measure" lists ${notMeasured} items`);
  // No sentence ranks people (the header's promise "nothing here ranks reps" aside; the score
  // may rank deals), and figures per owner, when shown, are in the order of their names.
  const sentences = (await page.locator("body").innerText())
    .split(/(?<=[.!?])\s+|\n/)
    .filter((t) => !/nothing here ranks reps/i.test(t));
  const ranking = sentences.find((t) => /\b(rank|percentile|top performer|leaderboard)/i.test(t) && /\b(reps?|owners?|BDRs?|AEs?|people)\b/i.test(t));
  check(!ranking, `no sentence ranks people${ranking ? `: ${JSON.stringify(ranking)}` : ""}`);
  const owners = await hygiene.locator("div.per-owner tbody th").allTextContents();
  const byName = [...owners].sort((a, b) => a.localeCompare(b));
  check(JSON.stringify(owners) === JSON.stringify(byName), `owners, if shown, by name (${owners.length})`);
}

async function main() {
  const opts = options();
  const report = JSON.parse(readFileSync(opts.json, "utf8"));
  const server = await serve(readFileSync(opts.html));
  try {
    await onPhones({ ...opts, url: server.url }, (page, response, problems) => checkPage(page, response, problems, report));
  } finally {
    server.close();
  }
  finish("the audit's page");
}

await run(main);
