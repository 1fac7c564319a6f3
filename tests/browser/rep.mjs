// Checks a rep's own page (GET /score-lead/me?… through the signed link a notice carries,
// Accept: text/html) in a real headless Chromium on phones, shares a section through its form,
// then saves a full-page screenshot.
//
//   node tests/browser/rep.mjs --url 'http://127.0.0.1:3000/score-lead/me?crm=…&sig=…' \
//     --forbid bdr-2,D-9 --screenshot docs/rep-page.png
//
// Arguments (or environment): --url (PG_REP_URL: the rep's link), --screenshot PATH (default
// docs/rep-page.png), --chromium PATH (CHROMIUM, default /usr/bin/chromium), --forbid TEXT,TEXT
// (other reps and their deals: never on this rep's page, nor in a refusal). No browser is ever
// downloaded; what every page's check shares is in page.mjs.
//
// Exits 0 when every check passed; otherwise prints each failed check and exits 1 (2 for bad
// arguments or a browser that will not start).

import { parseArgs } from "node:util";
import { check, checkDocument, finish, onPhones, run, text } from "./page.mjs";

/** The smallest tap target, in CSS pixels (WCAG 2.5.5's 44 px). */
const MIN_TAP_PX = 44;

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.PG_REP_URL },
      screenshot: { type: "string", default: "docs/rep-page.png" },
      chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
      forbid: { type: "string", default: "" },
    },
  });
  if (!values.url) {
    console.error("usage: node rep.mjs --url LINK [--screenshot PATH] [--chromium PATH] [--forbid TEXT,TEXT]");
    process.exit(2);
  }
  // page.mjs sends a bearer token; the rep's page needs none (the link is the credential).
  return { ...values, token: "", forbid: values.forbid.split(",").filter((t) => t.length > 0) };
}

/** The page as JSON, through the same link. */
async function pageJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" } });
  check(response.status === 200, `the JSON page answers 200 (got ${response.status})`);
  return response.status === 200 ? response.json() : null;
}

/** `url` with its query parameter `key` set to `value`. */
function altered(url, key, value) {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/** A missing, altered or expired link: 401, and nothing about the rep or their deals. */
async function checkRefusals(url, json, forbid) {
  const leaks = [json?.rep, ...(json?.deals ?? []).map((d) => d.record_id), ...(json?.handoffs ?? []).map((h) => h.deal_id), ...forbid]
    .filter((t) => t && t.length > 2);
  const past = String(Math.floor(Date.now() / 1000) - 86400);
  for (const [what, link] of [
    ["no signature", altered(url, "sig", "")],
    ["another rep", altered(url, "rep", "someone-else")],
    ["an expiry moved out", altered(url, "expires", String(Number(new URL(url).searchParams.get("expires")) + 86400))],
    ["an expired link", altered(url, "expires", past)],
    ["no link at all", url.split("?")[0]],
  ]) {
    const response = await fetch(link, { headers: { accept: "text/html" } });
    const body = await response.text();
    check(response.status === 401, `with ${what}: 401 (got ${response.status})`);
    const leaked = leaks.filter((t) => body.includes(t));
    check(leaked.length === 0, `with ${what}: the body tells nothing of the rep or a deal ${leaked.length ? JSON.stringify(leaked) : ""}`);
  }
}

async function checkPage(page, response, problems, json, forbid) {
  await checkDocument(page, response, problems);
  check((await text(page.locator("h1"))) === "Your coaching page", "the page is headed Your coaching page");
  for (const id of ["deals", "handoffs", "stale", "calls", "sharing", "not-measured"]) {
    check((await page.locator(`section#${id}`).count()) === 1, `a section #${id}`);
  }
  const deals = await page.locator("section#deals ul.items > li").count();
  check(deals === (json?.deals?.length ?? -1) && deals > 0, `a card per open deal (${deals}, JSON ${json?.deals?.length})`);
  const asks = await page.locator("section#deals p.ask").count();
  const withQuestion = (json?.deals ?? []).filter((d) => d.next_question).length;
  check(asks === withQuestion, `each deal says the question to ask next (${asks} of ${withQuestion})`);
  const handoffs = await page.locator("section#handoffs ul.items > li").count();
  check(handoffs === (json?.handoffs?.length ?? -1) && handoffs > 0, `a line per handoff (${handoffs}, JSON ${json?.handoffs?.length})`);
  for (const h of json?.handoffs ?? []) {
    if (h.reason) check((await text(page.locator("section#handoffs"))).includes(h.reason), `the AE's reason is said: ${h.reason}`);
  }
  const stale = await page.locator("section#stale ul.items > li").count();
  check(stale === (json?.stale?.length ?? -1), `a line per stale deal (${stale}, JSON ${json?.stale?.length})`);
  const trend = await text(page.locator("section#calls p.trend"));
  check(trend === json?.calls?.trend?.said, `the calls' trend is said (${JSON.stringify(trend)})`);
  const notMeasured = await page.locator("section#not-measured li").count();
  check(notMeasured > 0 && notMeasured === (json?.not_measured?.length ?? -1), `what the page does not measure (${notMeasured})`);
  const all = await page.locator("main").innerText();
  const leaked = forbid.filter((t) => all.includes(t));
  check(leaked.length === 0, `no other rep or their deals on the page ${leaked.length ? JSON.stringify(leaked) : ""}`);
  check(!/\brank|percentile|leaderboard|team average/i.test(all), "no rank, percentile or comparison with peers");
  const targets = await page.locator("form label.choice, form button").evaluateAll((els) =>
    els.map((e) => Math.round(e.getBoundingClientRect().height)),
  );
  check(targets.length === 3 && targets.every((h) => h >= MIN_TAP_PX), `the form's choices and button are at least ${MIN_TAP_PX} px tall (${targets.join(", ")})`);
}

/** Ticks "My handoffs…" and saves: the page comes back with it ticked, and the JSON says so. */
async function share(page, url) {
  const box = page.locator("form input[name=share][value=handoffs]");
  const before = await box.isChecked();
  if (!before) await box.check();
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator("form button").click()]);
  check(page.url() === url, `the form comes back to the same link (${page.url() === url ? "yes" : page.url()})`);
  check(await page.locator("form input[name=share][value=handoffs]").isChecked(), "after saving, the handoffs stay ticked");
  const json = await pageJson(url);
  const handoffs = (json?.sharing ?? []).find((s) => s.section === "handoffs");
  check(handoffs?.shared === true, "the JSON page says the handoffs are shared");
}

async function main() {
  const opts = options();
  const json = await pageJson(opts.url);
  await checkRefusals(opts.url, json, opts.forbid);
  await onPhones(opts, async (page, response, problems, i) => {
    await checkPage(page, response, problems, json, opts.forbid);
    if (i === 0) await share(page, opts.url);
  });
  finish("the rep's page");
}

await run(main);
