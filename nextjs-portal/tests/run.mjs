// End-to-end test of the portal: starts a real `arena serve` (embedded mode, fresh instance
// folder, demo account seeded) and `next start` on free ports, then drives the system Chromium
// with playwright-core (no browser download): the landing page has no console errors; logging
// in as the demo user leads to the live view, where prices update at least 3 times and the PnL
// panel of a followed strategy renders.
//
// Needs `npm run build` first. ARENA_PYTHON: the Python with Strategy Arena installed
// (default ../.venv/bin/python); CHROMIUM: the browser (default /usr/bin/chromium).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const portal = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(portal, "..");
const python = process.env.ARENA_PYTHON ?? join(repo, ".venv/bin/python");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const DEMO = { email: "demo@strategy-arena.local", password: "arena-demo" };

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitFor(url, child, name, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not answer at ${url} within ${seconds} s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function check(condition, message) {
  if (!condition) throw new Error(`FAILED: ${message}`);
  console.log(`ok - ${message}`);
}

const [apiPort, portalPort] = [await freePort(), await freePort()];
const instance = mkdtempSync(join(tmpdir(), "arena-portal-test-"));
const env = { ...process.env };
for (const name of ["DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "ARENA_ENV", "LIVE_SYMBOLS"]) delete env[name];
const children = [];
const logs = { arena: "", next: "" };
function start(name, command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => { logs[name] += d; });
  child.stderr.on("data", (d) => { logs[name] += d; });
  children.push(child);
  return child;
}

let browser;
let failed = false;
try {
  const arena = start("arena", python, ["-m", "app.cli", "serve", "--port", String(apiPort)], {
    cwd: repo,
    env: { ...env, ARENA_INSTANCE_DIR: join(instance, "instance"), LIVE_REPLAY_BAR_SECONDS: "0.6",
           LIVE_ALLOWED_ORIGINS: `http://127.0.0.1:${portalPort}` },
  });
  const next = start("next", join(portal, "node_modules/.bin/next"), ["start", "-p", String(portalPort), "-H", "127.0.0.1"], {
    cwd: portal,
    env: { ...env, NEXT_TELEMETRY_DISABLED: "1", NEXT_PUBLIC_API_URL: `http://127.0.0.1:${apiPort}` },
  });
  await waitFor(`http://127.0.0.1:${apiPort}/api/health`, arena, "arena serve");
  await waitFor(`http://127.0.0.1:${portalPort}/login`, next, "next start");
  const base = `http://127.0.0.1:${portalPort}`;

  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });

  await page.goto(base + "/", { waitUntil: "networkidle" });
  check((await page.locator("h1").innerText()).includes("trading rule"), "the landing page says what Strategy Arena does");
  check(await page.locator("figure img").count() === 3, "the landing page shows three screenshots");
  check(problems.length === 0, `the landing page logs no console errors (${problems.join(" | ")})`);

  await page.goto(base + "/login?next=/live");
  await page.fill("#email", DEMO.email);
  await page.fill("#password", DEMO.password);
  await page.click("#submit");
  await page.waitForURL(base + "/live", { timeout: 15000 });
  check(!(await page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).includes("eyJ"),
    "no token is visible to scripts (httpOnly cookies only)");
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "live", null, { timeout: 20000 });
  check(true, "the live view connected to /ws/prices with the session cookie");

  const seen = new Set();
  const deadline = Date.now() + 30000;
  while (seen.size < 4 && Date.now() < deadline) {
    const ts = await page.locator("#ticker-SPY").getAttribute("data-ts");
    if (ts) seen.add(ts);
    await page.waitForTimeout(100);
  }
  check(seen.size >= 4, `the SPY price updated at least 3 times (${seen.size} distinct ticks seen)`);
  check((await page.locator("#source").innerText()).includes("simulated"), "the source is labelled simulated");
  check(await page.locator("#chart canvas").count() > 0, "the candle chart is drawn");

  const option = await page.locator("#strategy option:not([disabled])").first().getAttribute("value");
  await page.selectOption("#strategy", option);
  await page.waitForFunction(() => document.querySelector("#pnl-equity")?.textContent !== "—", null, { timeout: 30000 });
  const equity = await page.locator("#pnl-equity").innerText();
  check(/^[\d,]+\.\d\d$/.test(equity), `the PnL panel shows the followed strategy's equity (${equity})`);
  check(problems.length === 0, `the live view logs no console errors (${problems.join(" | ")})`);
} catch (error) {
  failed = true;
  console.error(String(error));
  console.error("--- arena serve log ---\n" + logs.arena.slice(-3000));
  console.error("--- next start log ---\n" + logs.next.slice(-3000));
} finally {
  await browser?.close();
  for (const child of children) child.kill("SIGTERM");
  rmSync(instance, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
