// Shared by the dashboard's browser test and its screenshot script: the real
// srmi binary on 127.0.0.1, JSON-RPC calls, status histories with chosen
// times, and Debian's Chromium driven by playwright-core (no browser
// download: executablePath).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The srmi binary: $SRMI_BIN, else build/srmi. */
export function srmiBinary() {
  const bin = process.env.SRMI_BIN || path.join(repoRoot, 'build', 'srmi');
  if (!existsSync(bin)) throw new Error(`srmi binary not found at ${bin}: build it, or set SRMI_BIN`);
  return bin;
}

export const chromiumPath = process.env.SRMI_CHROMIUM || '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying hosts a closed
// network refuses; --no-sandbox because tests may run as root.
export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Starts srmi on 127.0.0.1:`port` (0: a free one) with `args`, and resolves
 * once it logs "listening on http://127.0.0.1:PORT/mi".
 * Returns {process, port, stop()}.
 */
export function startSrmi(args, port = 0, timeoutMs = 10000) {
  const child = spawn(srmiBinary(), ['--listen', `127.0.0.1:${port}`, ...args],
                      { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`srmi did not report listening within ${timeoutMs} ms; stderr:\n${log}`));
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mi/.exec(log);
      if (match) {
        clearTimeout(timer);
        const server = { process: child, port: Number(match[1]), stop: () => stopSrmi(child) };
        resolve(server);
      }
    });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`srmi exited (${code ?? signal}) before listening; stderr:\n${log}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export function stopSrmi(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(force); resolve(); });
    child.kill('SIGTERM');
  });
}

/** One JSON-RPC call to POST /mi; the result, or a thrown error. */
export async function rpc(port, method, params) {
  const request = { jsonrpc: '2.0', method, id: 1 };
  if (params !== undefined) request.params = params;
  const res = await fetch(`http://127.0.0.1:${port}/mi`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request),
  });
  const answer = await res.json();
  if (answer.error) throw new Error(`${method}: ${answer.error.code} ${answer.error.message}`);
  return answer.result;
}

// Python's sqlite3, because Node 20 has no SQLite of its own.
const rewriteHistory = `
import json, sqlite3, sys
plan = json.loads(sys.argv[2])
db = sqlite3.connect(sys.argv[1])
with db:
    for p in plan:
        ids = [r[0] for r in db.execute(
            "SELECT id FROM status_history WHERE group_name = ? AND identifier = ? ORDER BY id",
            (p["group"], p["identifier"]))]
        if len(ids) != len(p["times"]):
            sys.exit(f"{p['group']}/{p['identifier']}: {len(ids)} changes kept, {len(p['times'])} times given")
        for row, at in zip(ids, p["times"]):
            db.execute("UPDATE status_history SET at_ms = ? WHERE id = ?", (at, row))
db.close()
`;

/**
 * Dates the kept status changes of stopped srmi's state file (its
 * --state-dir): `plan` is [{group, identifier, times}], `times` in ms since
 * the epoch for each change of that identifier, oldest first, as many as are
 * kept. So a test can have a day of history in a second.
 */
export function setHistoryTimes(stateDir, plan) {
  execFileSync('python3', ['-c', rewriteHistory, path.join(stateDir, 'srmi-state.db'), JSON.stringify(plan)],
               { stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Launches Debian's Chromium headless with a fresh profile. Returns
 * {context, close()}; close() also removes the profile.
 */
export async function launchBrowser(viewport = { width: 1280, height: 800 }) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    throw new Error(`playwright-core is not installed: run npm ci --prefix tests/dashboard (${err.message})`);
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: run scripts/setup-browser.sh (Debian's chromium package)`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'srmi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport,
  });
  return {
    context,
    async close() {
      try { await context.close(); } finally { rmSync(profile, { recursive: true, force: true }); }
    },
  };
}

/**
 * Waits until the text of `locator` holds every one of `parts`, for at most
 * `timeoutMs`; fails with what it saw. Returns the text.
 */
export async function expectText(locator, parts, timeoutMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await locator.innerText({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => text);
    if (parts.every((p) => text.includes(p))) return text;
    if (Date.now() >= deadline) {
      throw new Error(`within ${timeoutMs} ms, expected ${JSON.stringify(parts)} in ${JSON.stringify(text)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `predicate()` (async) is true, for at most `timeoutMs`. */
export async function eventually(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
