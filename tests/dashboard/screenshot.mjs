// Makes docs/dashboard.png, the picture of the dashboard in docs/dashboard.md: srmi with a
// few groups, statuses and reports, in Debian's Chromium.
// Run: SRMI_BIN=build/srmi node tests/dashboard/screenshot.mjs [OUTPUT.png]
import path from 'node:path';

import { expectText, launchBrowser, repoRoot, rpc, startSrmi } from './harness.mjs';

const output = path.resolve(process.argv[2] || path.join(repoRoot, 'docs', 'dashboard.png'));
const server = await startSrmi(['--group', 'custom', '--group', 'db', '--group', 'alarms']);
let browser = null;
try {
  const port = server.port;
  const call = (method, params) => rpc(port, method, params);
  await call('sr_add_identifier', { group: 'db', identifier: 'replica-1', status: -1, details: 'syncing from primary' });
  await call('sr_add_identifier', { group: 'db', identifier: 'replica-2', status: 2, details: 'in sync' });
  await call('sr_set_status', { group: 'db', status: 1, details: 'primary, 12 connections' });
  await call('sr_add_report', { group: 'db', report: 'checkpoint complete' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-1', report: 'lost the primary for 4 s' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-1', report: 'resync started at LSN 0/3A0F1C8' });
  await call('sr_add_report', { group: 'db', identifier: 'replica-2', report: 'caught up' });
  await call('sr_add_report', { group: 'alarms', report: 'smoke detector 2 tested' });

  browser = await launchBrowser({ width: 1200, height: 900 });
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10000 });

  // Live changes, as an operator would see them arrive.
  await call('sr_set_status', { group: 'custom', status: -3, details: 'warming up' });
  await call('sr_add_report', { group: 'custom', report: 'cache 40% warm' });
  await call('sr_add_report', { group: 'alarms', report: 'siren test scheduled for 14:00' });
  await expectText(page.locator('tr[data-group="custom"][data-identifier="main"]'), ['warming up', 'cache 40% warm'], 2000);
  await expectText(page.locator('tr[data-group="alarms"][data-identifier="main"]'), ['siren test scheduled'], 2000);
  await page.waitForTimeout(1800);  // let the highlight of the last changes fade
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
