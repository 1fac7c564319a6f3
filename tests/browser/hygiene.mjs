// Checks the hygiene report (GET /flag-stale-deals/report, Accept: text/html) in a real headless
// Chromium on phones, then saves a full-page screenshot.
//
//   node tests/browser/hygiene.mjs --url http://127.0.0.1:3000/flag-stale-deals/report \
//     --token "$ADMIN_TOKEN" --per-owner shown --paused yes --screenshot docs/hygiene.png
//
// Arguments (or environment): --url (PG_HYGIENE_URL), --token (PG_ADMIN_TOKEN), --per-owner
// hidden|shown (PG_PER_OWNER: whether figures per owner are on the page), --paused yes|no
// (PG_PAUSED: whether blocking fell back to shadow because the data is poor), --screenshot PATH
// (default docs/hygiene.png), --chromium PATH (CHROMIUM, default /usr/bin/chromium), --forbid
// TEXT,TEXT (owner and deal names a refused request must not show, besides those the JSON report
// holds). No browser is ever downloaded; what every page's check shares is in page.mjs.
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

/** What the page says when an enforce install stopped blocking because of the data. */
const NOT_GOOD_ENOUGH = "the data is not good enough to block anyone yet";

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.PG_HYGIENE_URL },
      token: { type: "string", default: process.env.PG_ADMIN_TOKEN },
      "per-owner": { type: "string", default: process.env.PG_PER_OWNER },
      paused: { type: "string", default: process.env.PG_PAUSED },
      screenshot: { type: "string", default: "docs/hygiene.png" },
      chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
      forbid: { type: "string", default: "" },
    },
  });
  const missing = ["url", "token", "per-owner", "paused"].filter((k) => !values[k]);
  if (
    missing.length > 0 ||
    !["hidden", "shown"].includes(values["per-owner"]) ||
    !["yes", "no"].includes(values.paused)
  ) {
    console.error(
      `usage: node hygiene.mjs --url URL --token TOKEN --per-owner hidden|shown --paused yes|no ` +
        `[--screenshot PATH] [--chromium PATH] [--forbid TEXT,TEXT]` +
        (missing.length ? `\nmissing: ${missing.join(", ")}` : ""),
    );
    process.exit(2);
  }
  return {
    ...values,
    perOwner: values["per-owner"],
    paused: values.paused === "yes",
    forbid: values.forbid.split(",").filter((t) => t.length > 0),
  };
}

/** The portfolios the JSON report measured. */
const measured = (report) => (report?.portfolios ?? []).filter((p) => p.measurement);

/** Every text in the report that tells about owners or their deals: none may leak without the
 * token. */
function privateTexts(report) {
  return measured(report)
    .flatMap((p) => [
      ...(p.measurement.per_owner?.rows ?? []).map((r) => r.owner),
      ...p.measurement.checks.map((c) => c.label),
    ])
    .filter((t) => t && t.length > 2);
}

async function checkPage(page, response, problems, opts, report) {
  await checkDocument(page, response, problems);
  check((await text(page.locator("h1"))).includes("CRM hygiene report"), "the page is headed CRM hygiene report");
  const portfolios = report?.portfolios ?? [];
  check(portfolios.length > 0, `the JSON report has portfolios (${portfolios.length})`);
  for (const p of portfolios) await checkPortfolio(page, p, opts);
  await checkCharts(page, measured(report).length);
  const items = await page.locator("section#not-measured li").count();
  const wanted = report?.not_measured?.length ?? 0;
  check(items > 0 && items === wanted, `"What this report does not measure" lists ${items} items (JSON ${wanted})`);
}

async function checkPortfolio(page, p, opts) {
  const id = `crm-${p.crm}`;
  const section = page.locator(`section#${id}`);
  if ((await section.count()) !== 1) {
    check(false, `a section #${id}`);
    return;
  }
  check((await text(section.locator("h2"))) === p.crm, `section #${id} headed ${p.crm}`);
  const fellBack = p.enforcement.configured === "enforce" && p.enforcement.mode === "shadow";
  check(fellBack === opts.paused, `${p.crm}: the JSON says blocking is ${fellBack ? "" : "not "}paused`);
  const alert = section.locator("p.alert[role=status]");
  const alerts = await alert.count();
  if (opts.paused) {
    const said = await text(alert);
    check(alerts === 1 && said.includes(NOT_GOOD_ENOUGH), `${p.crm}: the alert says "${NOT_GOOD_ENOUGH}" (${JSON.stringify(said)})`);
  } else {
    check(alerts === 0, `${p.crm}: no alert (${alerts})`);
  }
  const m = p.measurement;
  if (!m) {
    check(false, `${p.crm}: measured (the test sweeps until done)`);
    return;
  }
  const tile = await text(section.locator(`dl.tiles dt:text-is("Portfolio hygiene") + dd`));
  check(tile === `${m.hygiene_pct} %`, `${p.crm}: portfolio hygiene ${tile} (JSON ${m.hygiene_pct} %)`);
  check((await text(section.locator("h3:text-is('By check')"))) === "By check", `${p.crm}: a "By check" heading`);
  const chart = section.locator(`svg#${id}-checks-chart[role=img]`);
  check((await chart.count()) === 1, `${p.crm}: the checks' bars chart #${id}-checks-chart`);
  const bars = await chart.locator("rect.bar").count();
  const applicable = m.checks.filter((c) => c.passed_pct != null).length;
  check(bars === applicable && bars > 0, `${p.crm}: a bar per applicable check (${bars} of ${applicable})`);
  const tableRows = await section.locator("details tbody tr").count();
  check(tableRows === m.checks.length, `${p.crm}: the table has a row per check (${tableRows} of ${m.checks.length})`);
  await checkPerOwner(page, id, m, opts.perOwner);
}

async function checkPerOwner(page, id, m, expected) {
  const block = page.locator(`div#${id}-per-owner.per-owner`);
  if ((await block.count()) !== 1) {
    check(false, `a per-owner block #${id}-per-owner`);
    return;
  }
  const view = await block.getAttribute("data-view");
  check(view === expected && m.per_owner.view === expected, `per-owner figures are ${expected} (the page says ${view}, the JSON ${m.per_owner.view})`);
  const rows = await block.locator("tbody tr").evaluateAll((trs) =>
    trs.map((tr) => ({ owner: tr.querySelector("th")?.innerText.trim() ?? "", text: tr.innerText })),
  );
  const all = await block.innerText();
  if (expected === "hidden") {
    check(rows.length === 0 && !/fix first/i.test(all), "no figure per owner while hidden");
    check(/team totals only/i.test(all), "it says why: team totals only");
    return;
  }
  const wanted = m.per_owner.rows ?? [];
  check(rows.length === wanted.length && rows.length > 0, `one row per owner (${rows.length} of ${wanted.length})`);
  const order = rows.map((r) => r.owner);
  const wantedOrder = wanted.map((r) => r.owner);
  check(JSON.stringify(order) === JSON.stringify(wantedOrder), `rows in the report's order, by owner ${JSON.stringify(order)}`);
  check(rows.every((r) => /fix first:|nothing failing/.test(r.text)), 'every row says "fix first: …" or "nothing failing"');
  const labels = Object.fromEntries(m.checks.map((c) => [c.check, c.label]));
  for (const [i, r] of wanted.entries()) {
    const said = rows[i]?.text ?? "";
    const fix = r.fix_first ? `fix first: ${labels[r.fix_first]}` : "nothing failing";
    check(said.includes(fix) && said.includes(`${r.hygiene_pct} %`), `${r.owner}: ${r.hygiene_pct} %, ${fix}`);
  }
  check(!/\brank/i.test(all), "no rank");
}

async function main() {
  const opts = options();
  const report = await reportJson(opts.url, opts.token);
  await checkRefusals(opts.url, [...privateTexts(report), ...opts.forbid, "fix first", "nothing failing", "Portfolio hygiene"]);
  await onPhones(opts, (page, response, problems) => checkPage(page, response, problems, opts, report));
  finish("the hygiene report");
}

await run(main);
