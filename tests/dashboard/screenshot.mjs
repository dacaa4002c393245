// Makes docs/dashboard.png, the picture of the dashboard in docs/dashboard.md: srmi with a
// few groups, a day of status changes (made, then dated over the last 24 hours in its
// state file), reports, a live change, and the tooltip of one change, in Debian's Chromium.
// Run: SRMI_BIN=build/srmi node tests/dashboard/screenshot.mjs [OUTPUT.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { expectText, launchBrowser, repoRoot, rpc, setHistoryTimes, startSrmi } from './harness.mjs';

const output = path.resolve(process.argv[2] || path.join(repoRoot, 'docs', 'dashboard.png'));
const stateDir = mkdtempSync(path.join(tmpdir(), 'srmi-screenshot-'));
const args = ['--state-dir', stateDir, '--group', 'custom', '--group', 'db', '--group', 'alarms'];
let server = await startSrmi(args);
let browser = null;
try {
  // The day's changes, in order per identifier; their times are set below.
  let call = (method, params) => rpc(server.port, method, params);
  const set = (group, identifier, status, details) => call('sr_set_status', { group, identifier, status, details });
  await set('custom', 'main', -1, 'deploying v2.3');
  await set('custom', 'main', 1, 'running');
  await set('db', 'main', -2, 'failover to replica-2');
  await set('db', 'main', 1, 'primary, 12 connections');
  await call('sr_add_identifier', { group: 'db', identifier: 'replica-1', status: -1, details: 'syncing from primary' });
  await set('db', 'replica-1', 2, 'in sync');
  await set('db', 'replica-1', -1, 'lost the primary for 4 s');
  await set('db', 'replica-1', 2, 'in sync');
  await set('db', 'replica-1', -1, 'resync started at LSN 0/3A0F1C8');
  await call('sr_add_identifier', { group: 'db', identifier: 'replica-2', status: 2, details: 'in sync' });
  await set('alarms', 'main', -5, 'siren test');
  await set('alarms', 'main', 1, 'armed');
  await call('sr_add_report', { group: 'db', report: 'checkpoint complete' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-1', report: 'lost the primary for 4 s' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-1', report: 'resync started at LSN 0/3A0F1C8' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-2', report: 'caught up' });
  await call('sr_add_report', { group: 'alarms', report: 'smoke detector 2 tested' });
  await server.stop();

  const now = Date.now();
  const ago = (hours) => now - hours * 3600 * 1000;
  setHistoryTimes(stateDir, [
    { group: 'custom', identifier: 'main', times: [ago(40), ago(14), ago(13.5)] },
    { group: 'db', identifier: 'main', times: [ago(40), ago(5), ago(4.6)] },
    { group: 'db', identifier: 'replica-1', times: [ago(26), ago(25), ago(9), ago(8.7), ago(1.5)] },
    { group: 'db', identifier: 'replica-2', times: [ago(18)] },
    { group: 'alarms', identifier: 'main', times: [ago(40), ago(3), ago(2.7)] },
  ]);
  server = await startSrmi(args);
  call = (method, params) => rpc(server.port, method, params);

  browser = await launchBrowser({ width: 1200, height: 900 });
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10000 });
  await page.locator('tr[data-identifier="replica-1"] .slice[data-state="not-ready"]').first().waitFor({ timeout: 5000 });

  // Live changes, as an operator would see them arrive.
  await call('sr_set_status', { group: 'custom', status: -3, details: 'warming up' });
  await call('sr_add_report', { group: 'custom', report: 'cache 40% warm' });
  await call('sr_add_report', { group: 'alarms', report: 'siren test scheduled for 14:00' });
  await expectText(page.locator('tr[data-group="custom"][data-identifier="main"]'), ['warming up', 'cache 40% warm'], 2000);
  await expectText(page.locator('tr[data-group="alarms"][data-identifier="main"]'), ['siren test scheduled'], 2000);
  await page.waitForTimeout(1800);  // let the highlight of the last changes fade
  // One change's tooltip, as hovering shows it.
  await page.locator('tr[data-identifier="replica-1"] .slice[data-state="not-ready"]').first().hover();
  await page.locator('#tip').waitFor({ state: 'visible', timeout: 2000 });
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
