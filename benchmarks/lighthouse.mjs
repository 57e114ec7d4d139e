// Lighthouse (mobile, its default settings) on one page, for benchmarks/page_weight.py:
//   CHROME_PATH=/usr/bin/chromium node benchmarks/lighthouse.mjs URL [COOKIE]
// Prints {"scores": {category: 0-100}, "failing": [audit ids below 1, with their titles]} as JSON.
// Needs `npm ci` in benchmarks/ (Lighthouse 12, which runs on Node 20).
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const [url, cookie] = process.argv.slice(2);
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
try {
  const result = await lighthouse(url, {
    port: chrome.port,
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
    extraHeaders: cookie ? { Cookie: cookie } : undefined,
  });
  const { categories, audits, finalDisplayedUrl, runtimeError, runWarnings } = result.lhr;
  const scores = Object.fromEntries(
    Object.entries(categories).map(([name, category]) => [name, Math.round(category.score * 100)]),
  );
  const failing = Object.values(audits)
    .filter((audit) => audit.score !== null && audit.score < 1 && audit.scoreDisplayMode !== "informative")
    .map((audit) => `${audit.id} (${audit.score}): ${audit.title}`);
  const metrics = Object.fromEntries(
    ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"].map(
      (id) => [id, audits[id] && audits[id].displayValue],
    ),
  );
  // A run that could not measure (no paint, a navigation during the run) says why.
  // What moved, when the layout shifted: the elements Lighthouse names, with their share.
  const shifts = ((audits["layout-shifts"] && audits["layout-shifts"].details && audits["layout-shifts"].details.items) || [])
    .map((item) => `${(item.score || 0).toFixed(3)} ${item.node && (item.node.selector || item.node.snippet)}`);
  // Where Total Blocking Time comes from: the long main-thread tasks (as simulated, ms) and the
  // scripts' evaluation and compilation (as measured, ms).
  const items = (id) => (audits[id] && audits[id].details && audits[id].details.items) || [];
  const longTasks = items("long-tasks").map((task) => `${Math.round(task.duration)} ${task.url}`);
  const bootup = items("bootup-time").map(
    (script) => `${script.url} ${Math.round(script.scripting)}+${Math.round(script.scriptParseCompile)}`,
  );
  const problems = [...(runtimeError ? [runtimeError.message] : []), ...(runWarnings || [])];
  console.log(JSON.stringify({ url: finalDisplayedUrl, scores, metrics, failing, shifts, longTasks, bootup, problems }));
} finally {
  await chrome.kill();
}
